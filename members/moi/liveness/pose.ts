import { createCanvas } from '@napi-rs/canvas';
import type { Drawable } from '../image/raster.js';

/**
 * Head pose from where the inner face (eyes to mouth) sits relative to the whole head, against
 * the recording's first, frontal frame. A turn moves the inner face across the head; a nod moves
 * it down; moving the camera or a photo moves both together and reads as no pose at all.
 *
 * Frames are reduced to 64 × 64 colour. The head's position is the centroid of its silhouette
 * against the backdrop; the inner face's, the best alignment of the reference frame's
 * eyes-to-mouth patch. Both are normalised so a full turn or nod of the sample recordings reads
 * about ±1.
 */

const SIZE = 64;
/** The reference patch, as fractions of the frame: from the brows to below the mouth, cheek to cheek. */
const INNER = { x0: 0.34, x1: 0.66, y0: 0.3, y1: 0.74 } as const;
/** Pixels (at 64) the inner face moves relative to the head at a full turn or nod. */
const FULL_TURN_PX = 6;

export interface Thumb {
  readonly rgb: Float32Array;
  readonly size: number;
}

export function thumb(image: Drawable, size = SIZE): Thumb {
  const canvas = createCanvas(size, size);
  const ctx = canvas.getContext('2d');
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(image, 0, 0, image.width, image.height, 0, 0, size, size);
  const rgba = ctx.getImageData(0, 0, size, size).data;
  const rgb = new Float32Array(size * size * 3);
  for (let i = 0; i < size * size; i++) for (let k = 0; k < 3; k++) rgb[i * 3 + k] = rgba[i * 4 + k]!;
  return { rgb, size };
}

/**
 * The thumbnail less its local mean (a 7 × 7 box): flat skin goes to zero and what remains is
 * eyes, brows, nostrils, mouth and edges — the marks that move rigidly when the head turns.
 */
export function highPass(t: Thumb, radius = 3): Thumb {
  const s = t.size;
  const out = new Float32Array(t.rgb.length);
  for (let y = 0; y < s; y++) {
    for (let x = 0; x < s; x++) {
      for (let k = 0; k < 3; k++) {
        let sum = 0;
        let n = 0;
        for (let yy = Math.max(0, y - radius); yy <= Math.min(s - 1, y + radius); yy++) {
          for (let xx = Math.max(0, x - radius); xx <= Math.min(s - 1, x + radius); xx++) {
            sum += t.rgb[(yy * s + xx) * 3 + k]!;
            n++;
          }
        }
        out[(y * s + x) * 3 + k] = t.rgb[(y * s + x) * 3 + k]! - sum / n;
      }
    }
  }
  return { rgb: out, size: s };
}

type Rect = readonly [x0: number, y0: number, x1: number, y1: number];

/** Correlation of the reference rectangle with the probe displaced by (dx, dy). */
function correlation(ref: Thumb, probe: Thumb, [x0, y0, x1, y1]: Rect, dx: number, dy: number): number {
  let sa = 0;
  let sb = 0;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  let n = 0;
  const s = ref.size;
  for (let y = Math.max(y0, -dy); y < Math.min(y1, s - dy); y++) {
    for (let x = Math.max(x0, -dx); x < Math.min(x1, s - dx); x++) {
      const ia = (y * s + x) * 3;
      const ib = ((y + dy) * s + x + dx) * 3;
      for (let k = 0; k < 3; k++) {
        const a = ref.rgb[ia + k]!;
        const b = probe.rgb[ib + k]!;
        sa += a;
        sb += b;
        sab += a * b;
        saa += a * a;
        sbb += b * b;
        n++;
      }
    }
  }
  const den = Math.sqrt((saa - (sa * sa) / n) * (sbb - (sb * sb) / n));
  return den > 0 ? (sab - (sa * sb) / n) / den : 0;
}

function bestShift(ref: Thumb, probe: Thumb, rect: Rect, cx: number, cy: number, range: number): { dx: number; dy: number; r: number } {
  let best = { dx: 0, dy: 0, r: -2 };
  for (let dy = cy - range; dy <= cy + range; dy++) {
    for (let dx = cx - range; dx <= cx + range; dx++) {
      const r = correlation(ref, probe, rect, dx, dy);
      if (r > best.r) best = { dx, dy, r };
    }
  }
  return best;
}

export interface Pose {
  /** Negative: turned to the subject's left; positive: to the right. */
  readonly yaw: number;
  /** Positive: chin down. */
  readonly pitch: number;
  /** How well the inner face was found (correlation, −1…1). */
  readonly fit: number;
  /** Where the inner face was found, in thumbnail pixels from the reference. */
  readonly faceDx: number;
  readonly faceDy: number;
}

/**
 * Centre of the head's silhouette: the centroid of everything that differs from the backdrop
 * (sampled in the two top corners) above the shoulders. The silhouette barely changes as the
 * head turns, and features inside it do not move it.
 */
function silhouetteCentre(t: Thumb): { x: number; y: number } {
  const s = t.size;
  const corner = Math.max(2, Math.round(s / 12));
  const bg = [0, 0, 0];
  let n = 0;
  for (let y = 0; y < corner; y++) {
    for (const x0 of [0, s - corner]) {
      for (let x = x0; x < x0 + corner; x++) {
        for (let k = 0; k < 3; k++) bg[k]! += t.rgb[(y * s + x) * 3 + k]!;
        n++;
      }
    }
  }
  for (let k = 0; k < 3; k++) bg[k]! /= n;
  let sx = 0;
  let sy = 0;
  let m = 0;
  for (let y = 0; y < Math.round(s * 0.7); y++) {
    for (let x = 0; x < s; x++) {
      const i = (y * s + x) * 3;
      const d = Math.abs(t.rgb[i]! - bg[0]!) + Math.abs(t.rgb[i + 1]! - bg[1]!) + Math.abs(t.rgb[i + 2]! - bg[2]!);
      if (d > 40) {
        sx += x;
        sy += y;
        m++;
      }
    }
  }
  return m > 0 ? { x: sx / m, y: sy / m } : { x: s / 2, y: s / 2 };
}

export interface PoseReference {
  readonly detail: Thumb;
  readonly head: { x: number; y: number };
}

export function poseReference(frame: Drawable): PoseReference {
  const t = thumb(frame, SIZE);
  return { detail: highPass(t), head: silhouetteCentre(t) };
}

/**
 * The pose of one frame. `previous` (the last frame's result) makes the search a track: the inner
 * face moves little between frames, so it is looked for near where it was, which keeps a
 * feature-poor or half-turned face from snapping to a look-alike position far away.
 */
export function poseOf(reference: PoseReference, frame: Drawable, previous?: Pose): Pose {
  const t = thumb(frame, SIZE);
  const head = silhouetteCentre(t);
  const hx = head.x - reference.head.x;
  const hy = head.y - reference.head.y;
  const rect: Rect = [Math.round(INNER.x0 * SIZE), Math.round(INNER.y0 * SIZE), Math.round(INNER.x1 * SIZE), Math.round(INNER.y1 * SIZE)];
  const face = previous ? bestShift(reference.detail, highPass(t), rect, previous.faceDx, previous.faceDy, 3) : bestShift(reference.detail, highPass(t), rect, Math.round(hx), Math.round(hy), 12);
  // Features moving to the image's right of the head mean a turn to the subject's left (negative yaw).
  return { yaw: -(face.dx - hx) / FULL_TURN_PX, pitch: (face.dy - hy) / FULL_TURN_PX, fit: face.r, faceDx: face.dx, faceDy: face.dy };
}
