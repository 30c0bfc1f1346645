import { createCanvas, type Canvas } from '@napi-rs/canvas';
import { FRONT, type FrontField } from '../card/layout.js';
import { grayOf, otsu, paperAndInk } from '../image/raster.js';
import type { OcrEngine, OcrSymbol } from './engine.js';
import { inkPatch, rank, templates } from './glyphs.js';

/**
 * Reads the printed Latin fields of a card front (canonical geometry). Each field's box is
 * binarised on its own (the tinted, patterned card background drops out) and the boxes are
 * stacked on one white page, so tesseract reads all of them in one pass; its lines are mapped
 * back to fields by position. Characters are typed by the field (digits in numbers and dates,
 * letters in names) and low-confidence ones are checked against OCR-B templates. A field whose
 * text does not come out in its expected shape is reported unread.
 */

export type LatinField = Exclude<FrontField, 'lastNameKh' | 'firstNameKh'>;
export const LATIN_FIELDS: readonly LatinField[] = ['idNumber', 'lastNameEn', 'firstNameEn', 'gender', 'dob', 'issuedDate', 'expiredDate'];

export interface PrintedField {
  /** The normalised value (dates as YYYY-MM-DD), or undefined when it could not be read reliably. */
  readonly value?: string;
  readonly raw: string;
}

const SURE = 80;
const MIN_SCORE = 0.55;
const MIN_LEAD = 0.04;
const GAP = 24;
const DIGITS = '0123456789';
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const TO_DIGIT: Record<string, string> = { O: '0', Q: '0', D: '0', U: '0', I: '1', L: '1', Z: '2', S: '5', B: '8', G: '6', T: '7' };
const TO_LETTER: Record<string, string> = { '0': 'O', '1': 'I', '2': 'Z', '5': 'S', '8': 'B', '6': 'G', '4': 'A', '7': 'T' };

/** Which characters a field's positions may hold (dates DD.MM.YYYY). */
function allowedAt(field: LatinField, index: number): string {
  if (field === 'idNumber') return DIGITS;
  if (field === 'gender') return 'MF';
  if (field === 'dob' || field === 'issuedDate' || field === 'expiredDate') return index === 2 || index === 5 ? '.' : DIGITS;
  return LETTERS;
}

function normalise(field: LatinField, text: string): string | undefined {
  if (field === 'idNumber') return /^\d{9}$/.test(text) ? text : undefined;
  if (field === 'gender') return /^[MF]$/.test(text) ? text : undefined;
  if (field === 'lastNameEn' || field === 'firstNameEn') return /^[A-Z]{1,30}$/.test(text) ? text : undefined;
  const m = /^(\d{2})\.(\d{2})\.(\d{4})$/.exec(text);
  if (!m) return undefined;
  const iso = `${m[3]}-${m[2]}-${m[1]}`;
  const d = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === iso ? iso : undefined;
}

/** The field boxes, binarised, one above the other on white; returns the page and each box's top. */
function stack(front: Canvas): { page: Canvas; tops: Map<LatinField, number>; ink: Map<LatinField, { paper: number; ink: number }> } {
  const boxes = LATIN_FIELDS.map((f) => [f, FRONT.fields[f].box] as const);
  const width = Math.max(...boxes.map(([, b]) => b.w)) + 2 * GAP;
  const height = boxes.reduce((h, [, b]) => h + b.h + GAP, GAP);
  const page = createCanvas(width, height);
  const ctx = page.getContext('2d');
  const out = ctx.createImageData(width, height);
  out.data.fill(255);
  const tops = new Map<LatinField, number>();
  const ink = new Map<LatinField, { paper: number; ink: number }>();
  let top = GAP;
  for (const [field, b] of boxes) {
    const gray = grayOf(front, b.x, b.y, b.w, b.h);
    const t = otsu(gray);
    for (let y = 0; y < b.h; y++) {
      for (let x = 0; x < b.w; x++) {
        const v = gray.data[y * b.w + x]!;
        const p = ((top + y) * width + GAP + x) * 4;
        const bw = v <= t ? 0 : 255;
        out.data[p] = out.data[p + 1] = out.data[p + 2] = bw;
      }
    }
    ink.set(field, paperAndInk(gray));
    tops.set(field, top);
    top += b.h + GAP;
  }
  ctx.putImageData(out, 0, 0);
  return { page, tops, ink };
}

export async function readPrintedFields(engine: OcrEngine, front: Canvas): Promise<Record<LatinField, PrintedField>> {
  const { page, tops, ink } = stack(front);
  const lines = await engine.recognize({ image: page.toBuffer('image/png'), whitelist: `${LETTERS}${DIGITS}.`, pageMode: '6' });
  const result = {} as Record<LatinField, PrintedField>;
  for (const field of LATIN_FIELDS) {
    const spec = FRONT.fields[field];
    const top = tops.get(field)!;
    const symbols: OcrSymbol[] = lines
      .filter((l) => {
        const mid = (l.y0 + l.y1) / 2;
        return mid >= top && mid < top + spec.box.h;
      })
      .flatMap((l) => l.symbols)
      .sort((a, b) => a.x0 - b.x0);
    // Low-confidence or ill-typed characters are settled against OCR-B templates cut from the original (not binarised) box.
    const cellW = Math.round(spec.size * 0.62);
    const cellH = Math.round(spec.size * 1.3);
    const baseline = Math.round(spec.size);
    const glyphs = templates(`${LETTERS}${DIGITS}.`, 'mrz', spec.size, cellW, cellH, baseline);
    const gray = grayOf(front, spec.box.x, spec.box.y, spec.box.w, spec.box.h);
    const levels = ink.get(field)!;
    let text = '';
    symbols.forEach((s, i) => {
      const allowed = allowedAt(field, i);
      const char = allowed.includes(s.text) ? s.text : (TO_DIGIT[s.text] ?? TO_LETTER[s.text] ?? s.text);
      if (allowed.includes(char) && s.confidence >= SURE) {
        text += char;
        return;
      }
      const cx = (s.x0 + s.x1) / 2 - GAP;
      const cell = inkPatch(gray, Math.round(cx - cellW / 2), spec.baseline - spec.box.y - baseline, cellW, cellH, levels.paper, levels.ink);
      const [best, second] = rank(
        cell,
        cellW,
        cellH,
        [...allowed].map((c) => glyphs.get(c)!),
      );
      text += best && best.score >= MIN_SCORE && (!second || best.score - second.score >= MIN_LEAD) ? best.char : '?';
    });
    const value = normalise(field, text);
    result[field] = value === undefined ? { raw: text } : { value, raw: text };
  }
  return result;
}
