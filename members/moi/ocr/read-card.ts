import type { Image } from '@napi-rs/canvas';
import { parse } from 'mrz';
import { locateCard } from '../card/locate.js';
import { KycError } from '../errors.js';
import type { OcrEngine } from './engine.js';
import { LATIN_FIELDS, readPrintedFields, type LatinField, type PrintedField } from './front-reader.js';
import { readKhmerName, type KhmerField } from './khmer-reader.js';
import { readMrz } from './mrz-reader.js';

/**
 * A card scan → the Open KYC OCR answer. The MRZ is read first and must parse as a valid TD1
 * (check digits are verified, never repaired). Printed fields are then reconciled with it:
 * a field the MRZ also carries is reported only when both agree (or one side is unreadable and
 * the MRZ's check digit covers it); disagreement or an unreadable field gives `null` and the
 * field's name in `unreadableFields` or `mrzMismatchFields`.
 */

export type CardField = LatinField | KhmerField;
export const CARD_FIELDS: readonly CardField[] = ['idNumber', 'firstNameKh', 'lastNameKh', 'firstNameEn', 'lastNameEn', 'gender', 'dob', 'issuedDate', 'expiredDate'];

export interface CardReading {
  readonly fields: Record<CardField, string | null>;
  readonly mrz: readonly [string, string, string];
  readonly unreadableFields: CardField[];
  readonly mrzMismatchFields: CardField[];
}

/** YYMMDD → YYYY-MM-DD. A printed date with the same digits fixes the century; otherwise ICAO's usual rule. */
function mrzDate(yymmdd: string, printed: string | undefined, kind: 'birth' | 'expiry', today = new Date()): string {
  const tail = `${yymmdd.slice(0, 2)}-${yymmdd.slice(2, 4)}-${yymmdd.slice(4, 6)}`;
  if (printed && printed.slice(2) === tail) return printed;
  const yy = Number(yymmdd.slice(0, 2));
  const century = kind === 'expiry' || yy <= today.getUTCFullYear() % 100 ? 20 : 19;
  return `${century}${tail}`;
}

export async function readCard(engine: OcrEngine, image: Image): Promise<CardReading> {
  const card = locateCard(image);
  if (!card.front && !card.back) throw new KycError('cardNotFound', 'expected the sample-card layout: the card sides on a light page');
  if (!card.back) throw new KycError('mrzNotFound', 'the back of the card (with the MRZ) is not in the image');
  const mrz = await readMrz(engine, card.back);
  if (!mrz) throw new KycError('mrzNotFound', 'no three-line MRZ on the back of the card');
  const lines = mrz.lines;
  const raw = { MRZ1: lines[0], MRZ2: lines[1], MRZ3: lines[2] };
  if (mrz.unreadable > 0) throw new KycError('mrzUnreadable', `${mrz.unreadable} character(s) could not be read (marked ?)`, raw);
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse([...lines]);
  } catch {
    throw new KycError('mrzInvalid', 'the lines do not form an MRZ', raw);
  }
  if (parsed.format !== 'TD1' || parsed.fields.documentCode?.[0] !== 'I') throw new KycError('mrzInvalid', `format ${parsed.format}, document code ${parsed.fields.documentCode ?? '?'}`, raw);
  const failed = parsed.details.filter((d) => !d.valid);
  const badDigits = failed.filter((d) => d.field?.endsWith('CheckDigit'));
  if (badDigits.length > 0) throw new KycError('mrzCheckDigit', badDigits.map((d) => d.label).join(', '), raw);
  if (failed.length > 0) throw new KycError('mrzInvalid', failed.map((d) => d.label).join(', '), raw);

  const printed: Partial<Record<LatinField, PrintedField>> = card.front ? await readPrintedFields(engine, card.front) : {};
  const p = (f: LatinField) => printed[f]?.value;
  const f = parsed.fields;
  const fromMrz: Partial<Record<LatinField, string>> = {
    idNumber: f.documentNumber ?? undefined,
    dob: f.birthDate ? mrzDate(f.birthDate, p('dob'), 'birth') : undefined,
    expiredDate: f.expirationDate ? mrzDate(f.expirationDate, p('expiredDate'), 'expiry') : undefined,
    gender: f.sex === 'male' ? 'M' : f.sex === 'female' ? 'F' : undefined,
    lastNameEn: f.lastName?.replace(/ /g, '') || undefined,
    firstNameEn: f.firstName?.replace(/ /g, '') || undefined,
  };
  // Fields behind an MRZ check digit: the MRZ alone is enough when the print cannot be read.
  const checked = new Set<LatinField>(['idNumber', 'dob', 'expiredDate']);

  const fields = {} as Record<CardField, string | null>;
  const unreadableFields: CardField[] = [];
  const mrzMismatchFields: CardField[] = [];
  for (const field of LATIN_FIELDS) {
    const front = p(field);
    const machine = fromMrz[field];
    let value: string | undefined;
    if (machine === undefined) value = front;
    else if (front === undefined) value = checked.has(field) ? machine : undefined;
    else if (front === machine) value = front;
    else {
      mrzMismatchFields.push(field);
      fields[field] = null;
      continue;
    }
    if (value === undefined) unreadableFields.push(field);
    fields[field] = value ?? null;
  }
  for (const field of ['lastNameKh', 'firstNameKh'] as const) {
    const value = card.front ? readKhmerName(card.front, field).value : undefined;
    if (value === undefined) unreadableFields.push(field);
    fields[field] = value ?? null;
  }
  return { fields, mrz: lines, unreadableFields, mrzMismatchFields };
}
