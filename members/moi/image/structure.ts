/**
 * Where a PNG or JPEG file ends, found by walking its structure (PNG chunks; JPEG segments and
 * entropy-coded data) rather than by searching for marker bytes. Used to refuse truncated
 * uploads (decoders would quietly fill the missing part) and to split liveness recordings.
 */

/** End offset of the JPEG starting at `at`, or undefined if it is truncated or malformed. */
export function jpegEnd(bytes: Buffer, at: number): number | undefined {
  let i = at + 2; // after SOI
  while (i + 2 <= bytes.length) {
    if (bytes[i] !== 0xff) return undefined;
    const marker = bytes[i + 1]!;
    if (marker === 0xff) {
      i++;
      continue;
    }
    if (marker === 0xd9) return i + 2; // EOI
    if (marker >= 0xd0 && marker <= 0xd7) {
      i += 2;
      continue;
    }
    if (i + 4 > bytes.length) return undefined;
    const length = bytes.readUInt16BE(i + 2);
    if (length < 2) return undefined;
    i += 2 + length;
    if (marker === 0xda) {
      // Entropy-coded data runs to the next marker that is neither a stuffed 0xFF00 nor a restart.
      while (i + 1 < bytes.length) {
        if (bytes[i] === 0xff && bytes[i + 1] !== 0x00 && !(bytes[i + 1]! >= 0xd0 && bytes[i + 1]! <= 0xd7)) break;
        i++;
      }
    }
  }
  return undefined;
}

/** End offset of the PNG starting at `at` (after its IEND chunk), or undefined. */
export function pngEnd(bytes: Buffer, at: number): number | undefined {
  let i = at + 8;
  while (i + 12 <= bytes.length) {
    const length = bytes.readUInt32BE(i);
    const type = bytes.toString('latin1', i + 4, i + 8);
    i += 12 + length;
    if (i > bytes.length) return undefined;
    if (type === 'IEND') return i;
  }
  return undefined;
}

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
