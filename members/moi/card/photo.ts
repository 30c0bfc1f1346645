import type { Canvas } from '@napi-rs/canvas';
import { faceSignature, type FaceSignature } from '../face/similarity.js';
import { FRONT } from './layout.js';

/** Inset that leaves the printed frame around the photo out of the comparison. */
const INSET = 4;

/** The signature of the photo printed on a card front (canonical geometry). */
export function cardPhotoSignature(front: Canvas): FaceSignature {
  const { x, y, w, h } = FRONT.photo;
  return faceSignature(front, { x: x + INSET, y: y + INSET, w: w - 2 * INSET, h: h - 2 * INSET });
}
