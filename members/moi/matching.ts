/**
 * Matching rules for `userInfo` against the civil registry. Each submitted field is normalised
 * the same way as the registry's value, then compared for equality:
 *
 * - Latin names: Unicode NFKD with accents dropped, upper case, apostrophes and dots removed,
 *   runs of spaces, hyphens and underscores made one space, trimmed ("Sók-dara " = "SOK DARA").
 * - Khmer names: NFC, zero-width characters removed (U+200B–U+200D, U+2060, U+FEFF — Khmer text
 *   often carries ZWSP between words), the deprecated independent vowels U+17A3 and U+17A4
 *   replaced by their recommended spellings, whitespace collapsed and trimmed.
 * - gender: `M` or `F`, either case.
 * - dates: `yyyy-MM-dd` (the API's format), also `yyyy/MM/dd`, `dd/MM/yyyy`, `dd.MM.yyyy`
 *   (as printed on the card) and `dd-MM-yyyy`; the day must exist in the calendar.
 * - idNumber: nine digits; spaces are ignored.
 */

const ZERO_WIDTH = /[\u200B-\u200D\u2060\uFEFF]/g;

export function normaliseLatinName(value: string): string {
  return value
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toUpperCase()
    .replace(/['’.]/g, '')
    .replace(/[\s\-_]+/g, ' ')
    .trim();
}

export function normaliseKhmerName(value: string): string {
  return value
    .normalize('NFC')
    .replace(ZERO_WIDTH, '')
    .replace(/\u17A3/g, '\u17A2')
    .replace(/\u17A4/g, '\u17A2\u17B6')
    .replace(/\s+/g, ' ')
    .trim();
}

/** A date in one of the accepted formats → `yyyy-MM-dd`, or undefined. */
export function normaliseDate(value: string): string | undefined {
  const v = value.trim();
  const ymd = /^(\d{4})[-/](\d{2})[-/](\d{2})$/.exec(v);
  const dmy = /^(\d{2})[./-](\d{2})[./-](\d{4})$/.exec(v);
  const iso = ymd ? `${ymd[1]}-${ymd[2]}-${ymd[3]}` : dmy ? `${dmy[3]}-${dmy[2]}-${dmy[1]}` : undefined;
  if (!iso) return undefined;
  const d = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === iso ? iso : undefined;
}

export function normaliseGender(value: string): 'M' | 'F' | undefined {
  const v = value.trim().toUpperCase();
  return v === 'M' || v === 'F' ? v : undefined;
}

export function normaliseIdNumber(value: string): string | undefined {
  const v = value.replace(/\s+/g, '');
  return /^\d{9}$/.test(v) ? v : undefined;
}
