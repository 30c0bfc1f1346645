import { createCanvas } from '@napi-rs/canvas';
import { drawFace, type FacePerson, type FacePose } from '../../population/face.js';
import type { Action } from './actions.js';

/**
 * Sample liveness recordings (Motion-JPEG, see recording.ts) of a registry face performing the
 * requested actions — what integrators and tests send to `info-idcard-liveness`. Each action
 * ramps to a full turn or nod over four frames, holds, and comes back; neutral frames open and
 * close the recording.
 */

const PEAKS: Record<Action, FacePose> = { '1': { yaw: -1, pitch: 0 }, '2': { yaw: 1, pitch: 0 }, '3': { yaw: 0, pitch: 1 } };

export function samplePoses(actions: readonly Action[]): FacePose[] {
  const neutral = { yaw: 0, pitch: 0 };
  const poses: FacePose[] = [neutral, neutral, neutral];
  for (const a of actions) {
    const peak = PEAKS[a];
    const ramp = [0.25, 0.5, 0.75, 1, 1, 1, 0.75, 0.5, 0.25];
    for (const k of ramp) poses.push({ yaw: peak.yaw * k, pitch: peak.pitch * k });
    poses.push(neutral, neutral);
  }
  return poses;
}

/** Renders each pose as a JPEG frame and concatenates them (an MJPEG stream). */
export function renderRecording(person: FacePerson, poses: readonly FacePose[], size = 192, quality = 85): Buffer {
  const canvas = createCanvas(size, size);
  const ctx = canvas.getContext('2d');
  return Buffer.concat(
    poses.map((pose) => {
      drawFace(ctx, person, size, pose);
      return canvas.encodeSync('jpeg', quality);
    }),
  );
}

export const sampleRecording = (person: FacePerson, actions: readonly Action[]) => renderRecording(person, samplePoses(actions));
