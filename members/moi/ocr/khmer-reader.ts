import type { Canvas } from '@napi-rs/canvas';
import { FAMILY_NAMES, GIVEN_NAMES_FEMALE, GIVEN_NAMES_MALE } from '../../population/names.js';
import { FRONT } from '../card/layout.js';
import { grayOf, paperAndInk } from '../image/raster.js';
import { halved, halvedTemplate, inkPatch, rank, renderTemplate, type Template } from './glyphs.js';

/**
 * Khmer names on the card front, read by word spotting: the field is compared with every name
 * of the registry's name lexicon (members/population/names.ts) drawn in the card's Khmer font.
 * This is not general Khmer OCR — tesseract.js has no Khmer data on npm, and Debian's
 * `tesseract-ocr-khm` is not installed here — so a name outside the lexicon, or a field that
 * matches no name clearly, is reported unread rather than guessed.
 */

export type KhmerField = 'lastNameKh' | 'firstNameKh';

/** Correlation a name must reach, and its lead over the next best name. */
const MIN_SCORE = 0.85;
const MIN_LEAD = 0.04;

const LEXICON: readonly string[] = [...new Set([...FAMILY_NAMES, ...GIVEN_NAMES_MALE, ...GIVEN_NAMES_FEMALE].map(([kh]) => kh.normalize('NFC')))];
const cache = new Map<KhmerField, Template[]>();

function lexiconTemplates(field: KhmerField): Template[] {
  const hit = cache.get(field);
  if (hit) return hit;
  const spec = FRONT.fields[field];
  const made = LEXICON.map((name) => halvedTemplate(renderTemplate(name, 'khmer', spec.size, spec.box.w, spec.box.h, spec.baseline - spec.box.y, spec.x - spec.box.x)));
  cache.set(field, made);
  return made;
}

export interface KhmerReading {
  readonly value?: string;
  /** Correlation of the best name (0–1) and its lead over the next, for diagnostics. */
  readonly score: number;
  readonly lead: number;
}

export function readKhmerName(front: Canvas, field: KhmerField): KhmerReading {
  const { box } = FRONT.fields[field];
  const gray = grayOf(front, box.x, box.y, box.w, box.h);
  const { paper, ink } = paperAndInk(gray);
  // Compared at half resolution: Khmer names differ in whole glyph shapes, not in single pixels.
  const cell = halved(inkPatch(gray, 0, 0, box.w, box.h, paper, ink), box.w, box.h);
  const [best, second] = rank(cell.patch, cell.width, cell.height, lexiconTemplates(field));
  if (!best) return { score: 0, lead: 0 };
  const lead = second ? best.score - second.score : best.score;
  return best.score >= MIN_SCORE && lead >= MIN_LEAD ? { value: best.char, score: best.score, lead } : { score: best.score, lead };
}
