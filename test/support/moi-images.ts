import { createCanvas, loadImage } from '@napi-rs/canvas';
import { PNG } from 'pngjs';

/**
 * Image degradations for the MOI tests, written independently of the service's own image code:
 * what a phone, a scanner or a re-upload does to a picture.
 */

/** Rotates by `degrees` on a canvas grown to hold the whole turned image (white corners), re-encoded as PNG. */
export async function rotatedScan(bytes: Buffer, degrees: number): Promise<Buffer> {
  const img = await loadImage(bytes);
  const r = (degrees * Math.PI) / 180;
  const w = Math.ceil(Math.abs(img.width * Math.cos(r)) + Math.abs(img.height * Math.sin(r)));
  const h = Math.ceil(Math.abs(img.width * Math.sin(r)) + Math.abs(img.height * Math.cos(r)));
  const canvas = createCanvas(w, h);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, w, h);
  ctx.translate(w / 2, h / 2);
  ctx.rotate(r);
  ctx.drawImage(img, -img.width / 2, -img.height / 2);
  return canvas.toBuffer('image/png');
}

export async function asJpeg(bytes: Buffer, quality: number): Promise<Buffer> {
  const img = await loadImage(bytes);
  const canvas = createCanvas(img.width, img.height);
  canvas.getContext('2d').drawImage(img, 0, 0);
  return canvas.encodeSync('jpeg', quality);
}

/** Decoded and written again by pngjs, a different encoder: pixels only, no ancillary chunks. */
export function rewrittenPng(bytes: Buffer): Buffer {
  return PNG.sync.write(PNG.sync.read(bytes));
}

/** Names of the PNG chunks in a file, in order. */
export function pngChunks(bytes: Buffer): string[] {
  const out: string[] = [];
  for (let at = 8; at + 8 <= bytes.length; ) {
    const length = bytes.readUInt32BE(at);
    out.push(bytes.toString('latin1', at + 4, at + 8));
    at += 12 + length;
  }
  return out;
}

/**
 * A selfie-like copy of a face photo: resized by `scale`, moved by (dx, dy) as fractions of the
 * side (the uncovered edge repeats the backdrop colour, as a wider shot would show), JPEG at `quality`.
 */
export async function faceVariant(bytes: Buffer, scale: number, dx: number, dy: number, quality: number): Promise<Buffer> {
  const img = await loadImage(bytes);
  const side = Math.round(img.width * scale);
  const canvas = createCanvas(side, side);
  const ctx = canvas.getContext('2d');
  // Backdrop from the photo's top-left pixel.
  const probe = createCanvas(1, 1);
  probe.getContext('2d').drawImage(img, 0, 0, 1, 1, 0, 0, 1, 1);
  const [r, g, b] = probe.getContext('2d').getImageData(0, 0, 1, 1).data;
  ctx.fillStyle = `rgb(${r},${g},${b})`;
  ctx.fillRect(0, 0, side, side);
  ctx.drawImage(img, dx * side, dy * side, side, side);
  return canvas.encodeSync('jpeg', quality);
}

/** A reproducible choice of `n` distinct indices below `size` (mulberry32 from `seed`). */
export function sampleIndices(n: number, size: number, seed: number): number[] {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const chosen = new Set<number>();
  while (chosen.size < n) chosen.add(Math.floor(next() * size));
  return [...chosen];
}
