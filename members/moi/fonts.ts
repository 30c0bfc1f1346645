import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { GlobalFonts } from '@napi-rs/canvas';
import { PROJECT_ROOT } from '../../common/paths.js';

/**
 * The three typefaces of the sample card, registered once under names of our own so a system
 * font of the same family can never stand in silently. A missing font is an error, never a
 * fallback: a card drawn in a substitute font would not be the card the OCR was tuned for, and
 * Khmer in a font without Khmer glyphs comes out as boxes.
 */
export const FONT = { mrz: 'camdx-ocrb', khmer: 'camdx-khmer', label: 'camdx-label' } as const;

const CANDIDATES: Record<keyof typeof FONT, readonly string[]> = {
  mrz: [join(PROJECT_ROOT, 'members', 'moi', 'fonts', 'OCRB.otf'), '/usr/share/fonts/opentype/ocr-b/OCRB.otf'],
  khmer: ['/usr/share/fonts/truetype/khmeros/KhmerOS.ttf'],
  label: ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'],
};
const PACKAGE: Record<keyof typeof FONT, string> = { mrz: 'fonts-ocr-b', khmer: 'fonts-khmeros', label: 'fonts-dejavu-core' };

let registered = false;

export function registerCardFonts(): void {
  if (registered) return;
  for (const key of Object.keys(FONT) as (keyof typeof FONT)[]) {
    const path = CANDIDATES[key].find((p) => existsSync(p));
    if (!path) throw new Error(`font for ${key} text not found (looked at ${CANDIDATES[key].join(', ')}); install the Debian package ${PACKAGE[key]}`);
    if (!GlobalFonts.registerFromPath(path, FONT[key])) throw new Error(`could not load the font ${path}`);
  }
  registered = true;
}
