import type { Image } from '@napi-rs/canvas';
import { decodeImage } from '../image/decode.js';
import { actionScore, performedActions, type Action } from './actions.js';
import { poseOf, poseReference, type Pose } from './pose.js';
import { splitFrames } from './recording.js';

/** A frame is a video frame: full HD at most. */
const MAX_FRAME_PIXELS = 1920 * 1080;

export interface LivenessResult {
  /** 0–1: how well the performed actions match the requested ones (see actions.ts). */
  readonly score: number;
  readonly performed: Action[];
  readonly frames: number;
  /** The first (frontal) frame, for the face comparisons. */
  readonly frontal: Image;
  readonly poses: Pose[];
}

/**
 * Parses the recording, estimates each frame's pose and scores the actions. Throws RecordingRejection
 * or ImageRejection; `signal` stops the work between frames (the check's time limit).
 */
export async function checkLiveness(recording: Buffer, requested: readonly Action[], signal?: AbortSignal): Promise<LivenessResult> {
  const frames = splitFrames(recording);
  // One frame decoded at a time: 150 full-HD frames held at once would be over a gigabyte.
  const frontal = await decodeImage(frames[0]!, 'liveness frame 1', MAX_FRAME_PIXELS);
  const reference = poseReference(frontal);
  const poses: Pose[] = [poseOf(reference, frontal)];
  for (let i = 1; i < frames.length; i++) {
    signal?.throwIfAborted();
    poses.push(poseOf(reference, await decodeImage(frames[i]!, `liveness frame ${i + 1}`, MAX_FRAME_PIXELS), poses.at(-1)));
  }
  const performed = performedActions(poses);
  return { score: Math.round(actionScore(requested, performed) * 1e4) / 1e4, performed, frames: frames.length, frontal, poses };
}
