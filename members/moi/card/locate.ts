import type { Canvas } from '@napi-rs/canvas';
import { canvasOf, cropScaled, grayOf, greenMinusRed, rotated, type Drawable, type Gray } from '../image/raster.js';
import { CARD } from './layout.js';

/**
 * Finds the card sides in a scan and brings each to the canonical geometry of layout.ts
 * (1011 × 638, upright), so every later step reads fixed positions. Steps: estimate the skew
 * from the text lines (projection profile), rotate it away, find the tinted card rectangles on
 * the white page, tell front from back by their tint, crop and scale.
 */

export interface LocatedCard {
  readonly front?: Canvas;
  readonly back?: Canvas;
  /** Skew that was removed, in degrees. */
  readonly skewDegrees: number;
}

/** Paper is brighter than this; the card tints and the ink are darker. */
const PAPER = 242;
const ASPECT = CARD.width / CARD.height;

/**
 * The angle (degrees) that makes dark pixels line up in rows: text lines give the sharpest
 * horizontal projection when level. Coarse search over ±4°, then a fine one around the best.
 */
export function estimateSkew(gray: Gray): number {
  const xs: number[] = [];
  const ys: number[] = [];
  // Every row (sampling rows would alias: at 0° all projections land on even bins), every
  // second column (halves the work without favouring any angle).
  for (let y = 0; y < gray.height; y++) {
    for (let x = y & 1; x < gray.width; x += 2) {
      if (gray.data[y * gray.width + x]! < 100) {
        xs.push(x - gray.width / 2);
        ys.push(y - gray.height / 2);
      }
    }
  }
  if (xs.length < 200) return 0;
  const offset = Math.ceil(Math.hypot(gray.width, gray.height) / 2) + 2;
  const bins = new Float64Array(offset * 2 + 1);
  const sharpness = (deg: number) => {
    const r = (deg * Math.PI) / 180;
    const sin = Math.sin(r);
    const cos = Math.cos(r);
    bins.fill(0);
    for (let i = 0; i < xs.length; i++) bins[Math.round(ys[i]! * cos - xs[i]! * sin) + offset]! += 1;
    let s = 0;
    for (const b of bins) s += b * b;
    return s;
  };
  let best = 0;
  let bestScore = -1;
  const search = (from: number, to: number, step: number) => {
    for (let d = from; d <= to + 1e-9; d += step) {
      const s = sharpness(d);
      if (s > bestScore) {
        bestScore = s;
        best = d;
      }
    }
  };
  search(-4, 4, 0.25);
  search(best - 0.25, best + 0.25, 0.05);
  return Math.round(best * 100) / 100;
}

interface Run {
  start: number;
  end: number;
}

function runs(profile: Float64Array, min: number, minLength: number): Run[] {
  const out: Run[] = [];
  let start = -1;
  for (let i = 0; i <= profile.length; i++) {
    const on = i < profile.length && profile[i]! >= min;
    if (on && start < 0) start = i;
    if (!on && start >= 0) {
      if (i - start >= minLength) out.push({ start, end: i });
      start = -1;
    }
  }
  return out;
}

/** Card rectangles (x, y, w, h) on an upright page. */
function cardBoxes(gray: Gray): Array<{ x: number; y: number; w: number; h: number }> {
  const { width, height, data } = gray;
  const rowFill = new Float64Array(height);
  for (let y = 0; y < height; y++) {
    let n = 0;
    for (let x = 0; x < width; x++) if (data[y * width + x]! < PAPER) n++;
    rowFill[y] = n / width;
  }
  const boxes: Array<{ x: number; y: number; w: number; h: number }> = [];
  for (const band of runs(rowFill, 0.5, 60)) {
    const colFill = new Float64Array(width);
    for (let x = 0; x < width; x++) {
      let n = 0;
      for (let y = band.start; y < band.end; y++) if (data[y * width + x]! < PAPER) n++;
      colFill[x] = n / (band.end - band.start);
    }
    const cols = runs(colFill, 0.5, 60);
    if (cols.length === 0) continue;
    const x0 = cols[0]!.start;
    const x1 = cols[cols.length - 1]!.end;
    const w = x1 - x0;
    const h = band.end - band.start;
    const aspect = w / h;
    if (Math.abs(aspect - ASPECT) < 0.25) boxes.push({ x: x0, y: band.start, w, h });
    else if (Math.abs(aspect - ASPECT / 2) < 0.15) {
      // Front and back touching: one band twice as tall as a card.
      boxes.push({ x: x0, y: band.start, w, h: h / 2 }, { x: x0, y: band.start + h / 2, w, h: h / 2 });
    }
  }
  return boxes;
}

/** Scans are worked on at most this many pixels on the long side: ample for a 300-dpi card sheet. */
const MAX_SIDE = 2400;

export function locateCard(image: Drawable): LocatedCard {
  const long = Math.max(image.width, image.height);
  const source = long > MAX_SIDE ? cropScaled(image, 0, 0, image.width, image.height, Math.round((image.width * MAX_SIDE) / long), Math.round((image.height * MAX_SIDE) / long)) : canvasOf(image);
  // Skew from a half-size copy: a quarter of the pixels, and 0.05° is still under a pixel across the card.
  const skewDegrees = estimateSkew(grayOf(cropScaled(source, 0, 0, source.width, source.height, Math.round(source.width / 2), Math.round(source.height / 2))));
  const upright = Math.abs(skewDegrees) >= 0.05 ? rotated(source, -skewDegrees) : source;
  const boxes = cardBoxes(grayOf(upright));
  let front: Canvas | undefined;
  let back: Canvas | undefined;
  for (const b of boxes) {
    const side = cropScaled(upright, b.x, b.y, b.w, b.h, CARD.width, CARD.height);
    // Sample the tint away from the photo and the text-heavy middle: the top-right corner.
    // Front blue-green (green above red by ~20), back lilac (red above green by ~8); a neutral
    // grey rectangle is neither, and is not taken for a card.
    const tint = greenMinusRed(side, CARD.width - 120, 10, 100, 20);
    if (tint > 8 && !front) front = side;
    else if (tint < -3 && !back) back = side;
  }
  return { ...(front ? { front } : {}), ...(back ? { back } : {}), skewDegrees };
}
