import { loadImage, type Image } from '@napi-rs/canvas';
import { jpegEnd, pngEnd } from './structure.js';

/**
 * Uploaded images are checked before any decoder sees them: the format by its signature and
 * the dimensions from the header, so a tiny file that claims to be 60,000 × 60,000 pixels (a
 * decompression bomb) is refused without allocating anything.
 */

export const MAX_IMAGE_BYTES = 8 * 1024 * 1024;
export const MAX_IMAGE_PIXELS = 25_000_000;
export const MAX_IMAGE_SIDE = 8000;

export type ImageFormat = 'png' | 'jpeg';

export class ImageRejection extends Error {
  constructor(
    readonly reason: 'not-image' | 'too-large' | 'undecodable',
    message: string,
  ) {
    super(message);
  }
}

export function sniffFormat(bytes: Buffer): ImageFormat | undefined {
  if (bytes.length >= 8 && bytes.readUInt32BE(0) === 0x89504e47 && bytes.readUInt32BE(4) === 0x0d0a1a0a) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return undefined;
}

/** Width and height from the PNG IHDR chunk or the first JPEG start-of-frame segment. */
export function headerSize(bytes: Buffer, format: ImageFormat): { width: number; height: number } | undefined {
  if (format === 'png') {
    if (bytes.length < 24 || bytes.toString('latin1', 12, 16) !== 'IHDR') return undefined;
    return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
  }
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    }
    const length = bytes.readUInt16BE(at + 2);
    // SOF0–SOF15 carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but do not.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (at + 9 > bytes.length) return undefined;
      return { width: bytes.readUInt16BE(at + 7), height: bytes.readUInt16BE(at + 5) };
    }
    if (marker === 0xda || length < 2) return undefined; // scan data before any frame header
    at += 2 + length;
  }
  return undefined;
}

/** Decodes base64 (a `data:` URL prefix is accepted) into raw bytes; undefined if it is not base64. */
export function fromBase64(text: string): Buffer | undefined {
  const body = text.replace(/^data:image\/[a-z+]+;base64,/i, '').replace(/\s+/g, '');
  if (body.length === 0 || body.length % 4 === 1 || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(body)) return undefined;
  return Buffer.from(body, body.includes('-') || body.includes('_') ? 'base64url' : 'base64');
}

/** Checks and decodes one PNG or JPEG. Throws ImageRejection naming what was wrong. */
export async function decodeImage(bytes: Buffer, what = 'image', maxPixels = MAX_IMAGE_PIXELS): Promise<Image> {
  if (bytes.length > MAX_IMAGE_BYTES) throw new ImageRejection('too-large', `${what} is ${bytes.length} bytes; at most ${MAX_IMAGE_BYTES} are accepted`);
  const format = sniffFormat(bytes);
  if (!format) throw new ImageRejection('not-image', `${what} is not a PNG or JPEG image`);
  const size = headerSize(bytes, format);
  if (!size || size.width === 0 || size.height === 0) throw new ImageRejection('undecodable', `${what}: the ${format.toUpperCase()} header is damaged`);
  if (size.width > MAX_IMAGE_SIDE || size.height > MAX_IMAGE_SIDE || size.width * size.height > maxPixels) {
    throw new ImageRejection('too-large', `${what} is ${size.width}×${size.height} pixels; at most ${MAX_IMAGE_SIDE} a side and ${maxPixels / 1e6} megapixels are accepted`);
  }
  // Decoders fill a truncated image with grey and report success; a cut-off upload is damaged.
  if ((format === 'png' ? pngEnd(bytes, 0) : jpegEnd(bytes, 0)) === undefined) throw new ImageRejection('undecodable', `${what}: the ${format.toUpperCase()} data is truncated`);
  try {
    const image = await loadImage(bytes);
    if (image.width !== size.width || image.height !== size.height) throw new Error('size differs from the header');
    return image;
  } catch {
    throw new ImageRejection('undecodable', `${what} could not be decoded as ${format.toUpperCase()}`);
  }
}
