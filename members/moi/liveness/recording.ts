import { jpegEnd, PNG_SIGNATURE, pngEnd } from '../image/structure.js';

/**
 * The liveness recording format: a Motion-JPEG stream — baseline or progressive JPEG frames one
 * after another, as `ffmpeg -f mjpeg` writes them — or, equally, PNG frames one after another;
 * the request carries it base64-encoded in `liveness`. The first frame must face the camera
 * (the pose reference); the rest show the requested actions in order.
 *
 * Frames are split by walking each format's structure (JPEG segments and entropy-coded data,
 * PNG chunks), never by searching for marker bytes, so a marker-like byte sequence inside a
 * frame cannot split it.
 */

export const MIN_FRAMES = 5;
export const MAX_FRAMES = 150;

export class RecordingRejection extends Error {}

/** Splits a recording into its frames (each a complete JPEG or PNG file). */
export function splitFrames(bytes: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  let at = 0;
  while (at < bytes.length) {
    let end: number | undefined;
    if (bytes[at] === 0xff && bytes[at + 1] === 0xd8) end = jpegEnd(bytes, at);
    else if (bytes.subarray(at, at + 8).equals(PNG_SIGNATURE)) end = pngEnd(bytes, at);
    else throw new RecordingRejection(`frame ${frames.length + 1} (byte ${at}) is neither a JPEG nor a PNG`);
    if (end === undefined) throw new RecordingRejection(`frame ${frames.length + 1} is truncated or malformed`);
    frames.push(bytes.subarray(at, end));
    if (frames.length > MAX_FRAMES) throw new RecordingRejection(`more than ${MAX_FRAMES} frames`);
    at = end;
  }
  if (frames.length < MIN_FRAMES) throw new RecordingRejection(`${frames.length} frame(s); at least ${MIN_FRAMES} are needed`);
  return frames;
}
