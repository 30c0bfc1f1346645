import { createCanvas } from '@napi-rs/canvas';
import { FONT, registerCardFonts } from '../fonts.js';
import type { Gray } from '../image/raster.js';

/**
 * Glyph templates: each character drawn in the card's own font and size, compared with a
 * character cell by normalised cross-correlation. Tesseract reads first; the templates settle
 * the characters it is unsure of, which for a known fixed-pitch font is the reliable judge.
 */

export interface Template {
  readonly char: string;
  /** Grey patch, `width` × `height`, ink dark. */
  readonly patch: Float32Array;
  readonly width: number;
  readonly height: number;
  /** Ink centroid within the patch. */
  readonly cx: number;
  readonly cy: number;
}

const cache = new Map<string, Map<string, Template>>();

/** Ink weight of a grey value: paper 0, black 1. */
const inkOf = (v: number) => Math.max(0, 255 - v) / 255;

function centroid(patch: Float32Array, width: number, height: number): { cx: number; cy: number; mass: number } {
  let mass = 0;
  let sx = 0;
  let sy = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const m = patch[y * width + x]!;
      mass += m;
      sx += m * x;
      sy += m * y;
    }
  }
  return mass > 0 ? { cx: sx / mass, cy: sy / mass, mass } : { cx: width / 2, cy: height / 2, mass: 0 };
}

/** One template: `text` in `font` at `size` px on a `width` × `height` cell, at `x` (or centred) on `baseline`. */
export function renderTemplate(text: string, font: keyof typeof FONT, size: number, width: number, height: number, baseline: number, x: number | 'centre' = 'centre'): Template {
  registerCardFonts();
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = 'rgb(255,255,255)';
  ctx.fillRect(0, 0, width, height);
  ctx.font = `${size}px ${FONT[font]}`;
  ctx.fillStyle = 'rgb(0,0,0)';
  ctx.fillText(text, x === 'centre' ? (width - ctx.measureText(text).width) / 2 : x, baseline);
  const rgba = ctx.getImageData(0, 0, width, height).data;
  const patch = new Float32Array(width * height);
  for (let i = 0; i < patch.length; i++) patch[i] = inkOf(rgba[i * 4]!);
  const { cx, cy } = centroid(patch, width, height);
  return { char: text, patch, width, height, cx, cy };
}

/** Templates for each of `chars`, centred in cells `width` × `height` with the baseline at `baseline` (cached). */
export function templates(chars: string, font: keyof typeof FONT, size: number, width: number, height: number, baseline: number): Map<string, Template> {
  const key = `${chars}|${font}|${size}|${width}|${height}|${baseline}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const out = new Map<string, Template>();
  for (const char of chars) out.set(char, renderTemplate(char, font, size, width, height, baseline));
  cache.set(key, out);
  return out;
}

/** Ink patch of a region of a grey image (outside the image counts as paper). */
export function inkPatch(gray: Gray, x0: number, y0: number, width: number, height: number, paper: number, ink: number): Float32Array {
  const patch = new Float32Array(width * height);
  // Ink starts a quarter of the way from paper to ink: faint background patterns (the card's
  // guilloche) stay paper, or they would pull the centroid and blur the correlation.
  const zero = paper - 0.25 * (paper - ink);
  const span = Math.max(1, zero - ink);
  for (let y = 0; y < height; y++) {
    const gy = y0 + y;
    if (gy < 0 || gy >= gray.height) continue;
    for (let x = 0; x < width; x++) {
      const gx = x0 + x;
      if (gx < 0 || gx >= gray.width) continue;
      // Stretch so the local paper is 0 and the local ink 1, whatever the print contrast.
      patch[y * width + x] = Math.min(1, Math.max(0, (zero - gray.data[gy * gray.width + gx]!) / span));
    }
  }
  return patch;
}

/**
 * Normalised cross-correlation of a cell with a template, after moving the template so the
 * ink centroids coincide, best over ±1 px around that. 1 = same shape; ~0 = unrelated.
 */
export function match(cell: Float32Array, width: number, height: number, t: Template): number {
  const c = centroid(cell, width, height);
  if (c.mass === 0) return t.char === ' ' ? 1 : 0;
  let best = -1;
  const baseDx = Math.round(c.cx - t.cx);
  const baseDy = Math.round(c.cy - t.cy);
  for (let dy = baseDy - 1; dy <= baseDy + 1; dy++) {
    for (let dx = baseDx - 1; dx <= baseDx + 1; dx++) {
      let sa = 0;
      let sb = 0;
      let sab = 0;
      let saa = 0;
      let sbb = 0;
      const n = width * height;
      for (let y = 0; y < height; y++) {
        const ty = y - dy;
        for (let x = 0; x < width; x++) {
          const tx = x - dx;
          const a = cell[y * width + x]!;
          const b = tx >= 0 && tx < t.width && ty >= 0 && ty < t.height ? t.patch[ty * t.width + tx]! : 0;
          sa += a;
          sb += b;
          sab += a * b;
          saa += a * a;
          sbb += b * b;
        }
      }
      const cov = sab - (sa * sb) / n;
      const den = Math.sqrt((saa - (sa * sa) / n) * (sbb - (sb * sb) / n));
      const r = den > 0 ? cov / den : 0;
      if (r > best) best = r;
    }
  }
  return best;
}

/** Candidates ranked by match, best first. */
export function rank(cell: Float32Array, width: number, height: number, candidates: Iterable<Template>): Array<{ char: string; score: number }> {
  return [...candidates].map((t) => ({ char: t.char, score: match(cell, width, height, t) })).sort((a, b) => b.score - a.score);
}

/** A template or cell at half resolution (2 × 2 means): a quarter of the work for large fields. */
export function halved(patch: Float32Array, width: number, height: number): { patch: Float32Array; width: number; height: number } {
  const w = width >> 1;
  const h = height >> 1;
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = 2 * y * width + 2 * x;
      out[y * w + x] = (patch[i]! + patch[i + 1]! + patch[i + width]! + patch[i + width + 1]!) / 4;
    }
  }
  return { patch: out, width: w, height: h };
}

export function halvedTemplate(t: Template): Template {
  const { patch, width, height } = halved(t.patch, t.width, t.height);
  const { cx, cy } = centroid(patch, width, height);
  return { char: t.char, patch, width, height, cx, cy };
}
