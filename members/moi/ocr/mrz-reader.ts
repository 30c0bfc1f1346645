import type { Canvas } from '@napi-rs/canvas';
import { BACK } from '../card/layout.js';
import { cropScaled, grayOf, otsu, paperAndInk, type Gray } from '../image/raster.js';
import { MRZ_ALPHABET, TD1_CHARSETS, TD1_LINE } from '../mrz/td1.js';
import type { OcrEngine, OcrLine, OcrSymbol } from './engine.js';
import { inkPatch, rank, templates } from './glyphs.js';

/**
 * Reads the three MRZ lines of a card back (canonical geometry). Tesseract's legacy engine reads
 * the band; each of its symbols is placed in its cell of the ICAO grid (so a dropped or doubled
 * `<` cannot shift a line), typed by what the position may hold (O→0 in a date, 0→O in a name),
 * and any character tesseract is unsure of, or that does not fit its position, is settled by
 * glyph templates. A cell nothing reads with confidence stays `?`: unreadable, never guessed.
 */

export interface MrzReading {
  /** Three lines of 30; `?` marks a cell that could not be read. */
  readonly lines: readonly [string, string, string];
  /** Cells where the templates overruled or completed tesseract. */
  readonly corrected: number;
  readonly unreadable: number;
}

const CELL = { width: BACK.mrz.pitch, height: 50, baseline: 40 } as const;
/** Tesseract confidence (0–100) above which a well-typed character is taken without a template check. */
const SURE = 85;
/** A template decision needs this correlation, and this lead over the runner-up. */
const MIN_SCORE = 0.55;
const MIN_LEAD = 0.04;

const TO_DIGIT: Record<string, string> = { O: '0', Q: '0', D: '0', U: '0', I: '1', L: '1', Z: '2', S: '5', B: '8', G: '6', T: '7' };
const TO_LETTER: Record<string, string> = { '0': 'O', '1': 'I', '2': 'Z', '5': 'S', '8': 'B', '6': 'G', '4': 'A', '7': 'T' };

/** Maps a read character into the position's class when it is a classic look-alike. */
function typed(char: string, allowed: string): string {
  if (allowed.includes(char)) return char;
  const mapped = TO_DIGIT[char] ?? TO_LETTER[char];
  return mapped && allowed.includes(mapped) ? mapped : char;
}

function inkRuns(gray: Gray, threshold: number): Array<{ start: number; end: number }> {
  const out: Array<{ start: number; end: number }> = [];
  let start = -1;
  for (let y = 0; y <= gray.height; y++) {
    let n = 0;
    if (y < gray.height) for (let x = 0; x < gray.width; x++) if (gray.data[y * gray.width + x]! <= threshold) n++;
    const on = n >= 8;
    if (on && start < 0) start = y;
    if (!on && start >= 0) {
      if (y - start >= 15) out.push({ start, end: y });
      start = -1;
    }
  }
  return out;
}

/** Cell grid of one line from tesseract's confident symbols: a least-squares fit of centre against cell index. */
function grid(symbols: readonly OcrSymbol[], nominalX0: number): { x0: number; pitch: number } {
  const pitch = BACK.mrz.pitch;
  const points = symbols
    .filter((s) => s.confidence >= 60)
    .map((s) => {
      const cx = (s.x0 + s.x1) / 2;
      return { cx, cell: Math.round((cx - nominalX0) / pitch - 0.5) };
    })
    .filter((p) => p.cell >= 0 && p.cell < TD1_LINE);
  if (points.length < 8) return { x0: nominalX0, pitch };
  const n = points.length;
  const mc = points.reduce((s, p) => s + p.cell, 0) / n;
  const mx = points.reduce((s, p) => s + p.cx, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.cell - mc) * (p.cx - mx);
    den += (p.cell - mc) ** 2;
  }
  const fitted = den > 0 ? num / den : pitch;
  // A fit far from the ICAO pitch means the symbols were misplaced, not that the card is odd.
  const slope = Math.abs(fitted - pitch) < pitch * 0.03 ? fitted : pitch;
  return { x0: mx - slope * (mc + 0.5), pitch: slope };
}

export async function readMrz(engine: OcrEngine, back: Canvas): Promise<MrzReading | undefined> {
  const band = BACK.mrz.band;
  const crop = cropScaled(back, band.x, band.y, band.w, band.h, band.w, band.h);
  const gray = grayOf(crop);
  const threshold = otsu(gray);
  const runs = inkRuns(gray, threshold);
  if (runs.length !== 3) return undefined;
  const { paper, ink } = paperAndInk(gray);

  const ocrLines = await engine.recognize({ image: crop.toBuffer('image/png'), whitelist: MRZ_ALPHABET, pageMode: '6' });
  const glyphs = templates(MRZ_ALPHABET, 'mrz', BACK.mrz.fontSize, CELL.width, CELL.height, CELL.baseline);
  let corrected = 0;
  let unreadable = 0;
  const lines = runs.map((run, i) => {
    const mid = (run.start + run.end) / 2;
    const ocr: OcrLine | undefined = ocrLines.find((l) => l.y0 <= mid && mid <= l.y1);
    const symbols = ocr?.symbols ?? [];
    const { x0, pitch } = grid(symbols, BACK.mrz.x - band.x);
    let text = '';
    for (let c = 0; c < TD1_LINE; c++) {
      const allowed = TD1_CHARSETS[i]![c]!;
      const centre = x0 + (c + 0.5) * pitch;
      const inCell = symbols.filter((s) => Math.abs((s.x0 + s.x1) / 2 - centre) < pitch / 2).sort((a, b) => b.confidence - a.confidence);
      const read = inCell[0];
      const char = read ? typed(read.text, allowed) : undefined;
      if (char && inCell.length === 1 && allowed.includes(char) && read!.confidence >= SURE) {
        text += char;
        continue;
      }
      const cell = inkPatch(gray, Math.round(centre - CELL.width / 2), run.end - CELL.baseline, CELL.width, CELL.height, paper, ink);
      const ranked = rank(
        cell,
        CELL.width,
        CELL.height,
        [...allowed].map((ch) => glyphs.get(ch)!),
      );
      const [best, second] = ranked;
      if (best && best.score >= MIN_SCORE && (!second || best.score - second.score >= MIN_LEAD)) {
        if (best.char !== char) corrected++;
        text += best.char;
      } else {
        unreadable++;
        text += '?';
      }
    }
    return text;
  });
  return { lines: lines as unknown as [string, string, string], corrected, unreadable };
}
