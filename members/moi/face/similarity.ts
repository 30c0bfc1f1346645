import { createCanvas } from '@napi-rs/canvas';
import type { Box } from '../card/layout.js';
import type { Drawable } from '../image/raster.js';

/**
 * Face similarity by aligned colour thumbnails — a perceptual-hash-like comparison, not face
 * recognition. Both images are reduced to 32 × 32 RGB (which discards JPEG noise, resizing and
 * fine detail), the probe is slid over ±4 pixels (±12 % of the frame) to undo small shifts, and
 * at the best alignment two things are measured over the overlap: the colour correlation (layout
 * of hair, skin, eyes, clothes) and the RMS colour difference (tones), both weighted towards
 * the centre of the frame. The distance
 * `d = 200 · (1 − correlation) + rms` becomes a score in [0, 1] by a logistic curve centred on the
 * threshold distance.
 *
 * What it can tell: whether two images show the same registry picture (or the card's copy of it)
 * after resizing, recompression, small shifts and mild blur. What it cannot: tell people apart
 * by facial anatomy, cope with a different photo of the same person (other pose, light,
 * background, age), rotation beyond a few degrees, or a printed photo held to a camera. Synthetic
 * faces make that enough for an emulator; a real deployment needs a face-recognition model.
 */

const SIZE = 32;
const SHIFT = 4;
/** Distance at which the score is 0.5: genuine pairs measure ~10–30, impostors ~60–250 (0.2 % of each cross it over 500 pairs). */
const THRESHOLD_DISTANCE = 45;
const SLOPE = 6;
/** Score at or above which two faces count as the same. */
export const FACE_MATCH_THRESHOLD = 0.5;

export interface FaceSignature {
  /** SIZE × SIZE RGB, row-major. */
  readonly rgb: Float32Array;
  /** Standard deviation of the pixels: near 0 means a blank picture, not a face. */
  readonly spread: number;
}

export function faceSignature(image: Drawable, region?: Box): FaceSignature {
  const canvas = createCanvas(SIZE, SIZE);
  const ctx = canvas.getContext('2d');
  ctx.imageSmoothingQuality = 'high';
  const r = region ?? { x: 0, y: 0, w: image.width, h: image.height };
  ctx.drawImage(image, r.x, r.y, r.w, r.h, 0, 0, SIZE, SIZE);
  const rgba = ctx.getImageData(0, 0, SIZE, SIZE).data;
  const rgb = new Float32Array(SIZE * SIZE * 3);
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < SIZE * SIZE; i++) {
    for (let k = 0; k < 3; k++) {
      const v = rgba[i * 4 + k]!;
      rgb[i * 3 + k] = v;
      sum += v;
      sq += v * v;
    }
  }
  const n = rgb.length;
  return { rgb, spread: Math.sqrt(Math.max(0, sq / n - (sum / n) ** 2)) };
}

/** A picture with almost no variation (blank, one colour) has no face to compare. */
export const looksBlank = (s: FaceSignature) => s.spread < 8;

/**
 * Weight of each thumbnail pixel: a broad Gaussian on the face, so the plain background (alike
 * in every registry photo) counts less than the face, hair and clothes.
 */
const WEIGHT = (() => {
  const w = new Float32Array(SIZE * SIZE);
  const sigma = 8; // a quarter of the frame: measured best split of genuine and impostor pairs
  for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) w[y * SIZE + x] = Math.exp(-((x - SIZE / 2 + 0.5) ** 2 + (y - SIZE / 2) ** 2) / (2 * sigma * sigma));
  return w;
})();

function compareAt(a: Float32Array, b: Float32Array, dx: number, dy: number): { correlation: number; rms: number } {
  let sw = 0;
  let sa = 0;
  let sb = 0;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  let sd = 0;
  for (let y = Math.max(0, -dy); y < Math.min(SIZE, SIZE - dy); y++) {
    for (let x = Math.max(0, -dx); x < Math.min(SIZE, SIZE - dx); x++) {
      const w = WEIGHT[y * SIZE + x]!;
      const ia = (y * SIZE + x) * 3;
      const ib = ((y + dy) * SIZE + x + dx) * 3;
      for (let k = 0; k < 3; k++) {
        const va = a[ia + k]!;
        const vb = b[ib + k]!;
        sw += w;
        sa += w * va;
        sb += w * vb;
        sab += w * va * vb;
        saa += w * va * va;
        sbb += w * vb * vb;
        sd += w * (va - vb) ** 2;
      }
    }
  }
  const den = Math.sqrt((saa - (sa * sa) / sw) * (sbb - (sb * sb) / sw));
  return { correlation: den > 0 ? (sab - (sa * sb) / sw) / den : 0, rms: Math.sqrt(sd / sw) };
}

export interface FaceComparison {
  /** 0–1; ≥ FACE_MATCH_THRESHOLD means the same face. */
  readonly score: number;
  readonly distance: number;
  readonly correlation: number;
  readonly rms: number;
}

export function compareFaces(reference: FaceSignature, probe: FaceSignature): FaceComparison {
  let best = { correlation: -1, rms: Infinity, distance: Infinity };
  for (let dy = -SHIFT; dy <= SHIFT; dy++) {
    for (let dx = -SHIFT; dx <= SHIFT; dx++) {
      const m = compareAt(reference.rgb, probe.rgb, dx, dy);
      const distance = 200 * (1 - m.correlation) + m.rms;
      if (distance < best.distance) best = { ...m, distance };
    }
  }
  const score = 1 / (1 + Math.exp((best.distance - THRESHOLD_DISTANCE) / SLOPE));
  return { score: Math.round(score * 1e6) / 1e6, distance: best.distance, correlation: best.correlation, rms: best.rms };
}
