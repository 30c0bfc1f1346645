/**
 * ICAO Doc 9303 part 5 (TD1, the ID-card size): three lines of 30 characters from the set
 * A–Z 0–9 `<`. Cambodia's card carries the ID number as the document number and `KHM` as
 * issuing state and nationality.
 */

export const TD1_LINE = 30;
export const MRZ_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<';

export interface Td1Data {
  readonly documentNumber: string;
  readonly lastName: string;
  readonly firstName: string;
  readonly sex: 'M' | 'F';
  /** YYYY-MM-DD */
  readonly dob: string;
  /** YYYY-MM-DD */
  readonly expiry: string;
  readonly issuingState?: string;
  readonly nationality?: string;
}

const WEIGHTS = [7, 3, 1] as const;

/** The 7-3-1 check digit over a field (`<` counts 0, letters 10–35). */
export function checkDigit(field: string): string {
  let sum = 0;
  for (let i = 0; i < field.length; i++) {
    const c = field[i]!;
    const value = c === '<' ? 0 : c >= '0' && c <= '9' ? c.charCodeAt(0) - 48 : c >= 'A' && c <= 'Z' ? c.charCodeAt(0) - 55 : NaN;
    if (Number.isNaN(value)) throw new RangeError(`'${c}' is not an MRZ character`);
    sum += value * WEIGHTS[i % 3]!;
  }
  return String(sum % 10);
}

const pad = (s: string, n: number) => (s.length >= n ? s.slice(0, n) : s + '<'.repeat(n - s.length));
/** Latin name → MRZ name: letters only, spaces and hyphens become fillers. */
const mrzName = (s: string) =>
  s
    .toUpperCase()
    .replace(/[\s-]+/g, '<')
    .replace(/[^A-Z<]/g, '');
const yymmdd = (iso: string) => iso.slice(2, 4) + iso.slice(5, 7) + iso.slice(8, 10);

export function td1Lines(d: Td1Data): [string, string, string] {
  if (!/^[A-Z0-9]{1,9}$/.test(d.documentNumber)) throw new RangeError('document number must be 1–9 characters A–Z 0–9');
  const doc = pad(d.documentNumber, 9);
  const line1 = pad(`ID${pad(d.issuingState ?? 'KHM', 3)}${doc}${checkDigit(doc)}`, TD1_LINE);
  const dob = yymmdd(d.dob);
  const exp = yymmdd(d.expiry);
  const upper = `${dob}${checkDigit(dob)}${d.sex}${exp}${checkDigit(exp)}${pad(d.nationality ?? 'KHM', 3)}${'<'.repeat(11)}`;
  const composite = checkDigit(line1.slice(5, 30) + upper.slice(0, 7) + upper.slice(8, 15) + upper.slice(18, 29));
  const line2 = upper + composite;
  const line3 = pad(`${mrzName(d.lastName)}<<${mrzName(d.firstName)}`, TD1_LINE);
  return [line1, line2, line3];
}

const DIGITS = '0123456789';
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/**
 * What each TD1 position may hold. The document number is typed as digits because a Cambodian
 * card's document number is its 9-digit ID number; optional data stays alphanumeric.
 */
export const TD1_CHARSETS: readonly (readonly string[])[] = [
  [...Array<string>(2).fill(LETTERS + '<'), ...Array<string>(3).fill(LETTERS + '<'), ...Array<string>(9).fill(DIGITS), DIGITS, ...Array<string>(15).fill(MRZ_ALPHABET)],
  [...Array<string>(7).fill(DIGITS), 'MFX<', ...Array<string>(7).fill(DIGITS), ...Array<string>(3).fill(LETTERS + '<'), ...Array<string>(11).fill(MRZ_ALPHABET), DIGITS],
  Array<string>(30).fill(LETTERS + '<'),
];
