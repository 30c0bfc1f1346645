import { createCanvas, loadImage } from '@napi-rs/canvas';
import { describe, expect, it } from 'vitest';
import { actionScore, performedActions, type Action } from '../../../members/moi/liveness/actions.js';
import { checkLiveness } from '../../../members/moi/liveness/check.js';
import { RecordingRejection, splitFrames } from '../../../members/moi/liveness/recording.js';
import { renderRecording, samplePoses } from '../../../members/moi/liveness/sample.js';
import { renderFace } from '../../../members/population/face.js';
import { DEFAULT_POPULATION, personAt } from '../../../members/population/population.js';
import { sampleIndices } from '../../support/moi-images.js';

const person = (i: number) => personAt(DEFAULT_POPULATION.seed, i);
const SEQUENCES: Action[][] = [['1', '2', '3'], ['3', '1'], ['2'], ['2', '3', '1']];

describe('liveness recordings', () => {
  it('recognises the requested actions, in order, for 40 people (sizes 160–240 px, JPEG 60–90)', async () => {
    for (const [k, i] of sampleIndices(40, DEFAULT_POPULATION.size, 0x11fe).entries()) {
      const actions = SEQUENCES[k % SEQUENCES.length]!;
      const result = await checkLiveness(renderRecording(person(i), samplePoses(actions), 160 + (k % 3) * 40, 60 + (k % 4) * 10), actions);
      expect(result.performed).toEqual(actions);
      expect(result.score).toBe(1);
    }
  }, 60_000);

  it('scores actions done in the wrong order, missing or extra below 1', async () => {
    const p = person(11);
    const wrongOrder = await checkLiveness(renderRecording(p, samplePoses(['2', '1', '3'])), ['1', '2', '3']);
    expect(wrongOrder.performed).toEqual(['2', '1', '3']);
    expect(wrongOrder.score).toBeCloseTo(2 / 3, 4);
    const missing = await checkLiveness(renderRecording(p, samplePoses(['1'])), ['1', '3']);
    expect(missing.score).toBe(0.5);
    expect(actionScore(['1'], ['1', '1'])).toBe(0.5);
  });

  it('gives 0 to a still picture and to a photo moved about in front of the camera', async () => {
    const p = person(12);
    const still = await checkLiveness(renderRecording(p, Array(12).fill({ yaw: 0, pitch: 0 })), ['1', '2', '3']);
    expect(still.performed).toEqual([]);
    expect(still.score).toBe(0);
    // The registry photo held up and slid left, right and down: everything moves together.
    const photo = await loadImage(renderFace(p, 192));
    const scene = createCanvas(240, 240);
    const ctx = scene.getContext('2d');
    const frames: Buffer[] = [];
    for (const [dx, dy] of [[0, 0], [0, 0], [-10, 0], [-20, 0], [-10, 0], [0, 0], [10, 0], [20, 0], [10, 0], [0, 0], [0, 10], [0, 20], [0, 10], [0, 0]] as const) {
      ctx.fillStyle = 'rgb(90,90,90)';
      ctx.fillRect(0, 0, 240, 240);
      ctx.drawImage(photo, 24 + dx, 24 + dy);
      frames.push(scene.encodeSync('jpeg', 80));
    }
    const slid = await checkLiveness(Buffer.concat(frames), ['1', '2', '3']);
    expect(slid.performed).toEqual([]);
    expect(slid.score).toBe(0);
  });

  it('reads PNG frames too, and refuses malformed recordings', () => {
    const png = renderFace(person(1), 64);
    expect(splitFrames(Buffer.concat(Array(5).fill(png)))).toHaveLength(5);
    const jpegs = renderRecording(person(1), samplePoses(['1']), 96);
    expect(splitFrames(jpegs)).toHaveLength(samplePoses(['1']).length);
    expect(() => splitFrames(jpegs.subarray(0, jpegs.length - 100))).toThrow(RecordingRejection);
    expect(() => splitFrames(Buffer.concat([jpegs, Buffer.from('trailing junk')]))).toThrow(/neither a JPEG nor a PNG/);
    expect(() => splitFrames(Buffer.concat([png, png]))).toThrow(/at least 5/);
    expect(() => splitFrames(Buffer.alloc(0))).toThrow(RecordingRejection);
    expect(() => splitFrames(Buffer.concat(Array(151).fill(png)))).toThrow(/more than 150/);
  });

  it('classifies pose excursions by their peak', () => {
    const pose = (yaw: number, pitch: number) => ({ yaw, pitch, fit: 1, faceDx: 0, faceDy: 0 });
    expect(performedActions([pose(0, 0), pose(-0.4, 0), pose(-0.9, 0.1), pose(0, 0), pose(0.2, 0.7), pose(0, 0), pose(0.4, 0), pose(0, 0)])).toEqual(['1', '3']);
  });
});
