import { KycError } from './errors.js';
import { normaliseDate, normaliseGender, normaliseIdNumber, normaliseKhmerName, normaliseLatinName } from './matching.js';
import type { Citizen } from './registry.js';

/** The `userInfo` fields of the Open KYC API, in the deck's order. */
export const USER_INFO_FIELDS = ['idNumber', 'firstNameKh', 'lastNameKh', 'firstNameEn', 'lastNameEn', 'gender', 'dob', 'issuedDate', 'expiredDate'] as const;
export type UserInfoField = (typeof USER_INFO_FIELDS)[number];
type Compared = Exclude<UserInfoField, 'idNumber'>;

/** Submitted userInfo after validation: every present field normalised by the matching rules. */
export interface UserInfo {
  readonly idNumber: string;
  readonly values: Partial<Record<Compared, string>>;
}

const MAX_TEXT = 200;

const NORMALISERS: Record<Compared, { rule: string; apply: (v: string) => string | undefined }> = {
  firstNameKh: { rule: 'a non-empty Khmer name', apply: (v) => normaliseKhmerName(v) || undefined },
  lastNameKh: { rule: 'a non-empty Khmer name', apply: (v) => normaliseKhmerName(v) || undefined },
  firstNameEn: { rule: 'a non-empty Latin name', apply: (v) => normaliseLatinName(v) || undefined },
  lastNameEn: { rule: 'a non-empty Latin name', apply: (v) => normaliseLatinName(v) || undefined },
  gender: { rule: '"M" or "F"', apply: normaliseGender },
  dob: { rule: 'a date yyyy-MM-dd', apply: normaliseDate },
  issuedDate: { rule: 'a date yyyy-MM-dd', apply: normaliseDate },
  expiredDate: { rule: 'a date yyyy-MM-dd', apply: normaliseDate },
};

/**
 * Validates a userInfo object (`where` names it in errors, e.g. "userInfo."). `idNumber` is
 * required and at least one other field; absent or null fields are not compared.
 */
export function parseUserInfo(value: unknown, where = ''): UserInfo {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new KycError(where ? 'invalidField' : 'invalidJson', where ? `${where.replace(/\.$/, '')} must be an object` : undefined);
  }
  const o = value as Record<string, unknown>;
  const text = (field: UserInfoField): string | undefined => {
    const v = o[field];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw new KycError('invalidField', `${where}${field} must be a string`);
    if (v.length > MAX_TEXT) throw new KycError('invalidField', `${where}${field} is longer than ${MAX_TEXT} characters`);
    return v;
  };
  const rawId = text('idNumber');
  if (rawId === undefined) throw new KycError('missingField', `${where}idNumber`);
  const idNumber = normaliseIdNumber(rawId);
  if (!idNumber) throw new KycError('invalidField', `${where}idNumber must be 9 digits`);
  const values: Partial<Record<Compared, string>> = {};
  for (const field of USER_INFO_FIELDS) {
    if (field === 'idNumber') continue;
    const raw = text(field);
    if (raw === undefined) continue;
    const normalised = NORMALISERS[field].apply(raw);
    if (normalised === undefined) throw new KycError('invalidField', `${where}${field} must be ${NORMALISERS[field].rule}`);
    values[field] = normalised;
  }
  if (Object.keys(values).length === 0) throw new KycError('missingField', `${where}: at least one field besides idNumber is needed to compare`);
  return { idNumber, values };
}

export interface InfoCheck {
  readonly idNumber: string;
  /** Share of the submitted fields that match, in [0, 1]. */
  readonly score: number;
  readonly incorrectFields: Compared[];
}

/** Compares submitted fields with the registry record (both sides normalised by the same rules). */
export function checkUserInfo(info: UserInfo, citizen: Citizen): InfoCheck {
  const registry: Record<Compared, string> = {
    firstNameKh: normaliseKhmerName(citizen.firstNameKh),
    lastNameKh: normaliseKhmerName(citizen.lastNameKh),
    firstNameEn: normaliseLatinName(citizen.firstNameEn),
    lastNameEn: normaliseLatinName(citizen.lastNameEn),
    gender: citizen.gender,
    dob: citizen.dob,
    issuedDate: citizen.issuedDate,
    expiredDate: citizen.expiredDate,
  };
  const compared = USER_INFO_FIELDS.filter((f): f is Compared => f !== 'idNumber' && info.values[f] !== undefined);
  const incorrectFields = compared.filter((f) => info.values[f] !== registry[f]);
  const score = (compared.length - incorrectFields.length) / compared.length;
  return { idNumber: info.idNumber, score: Math.round(score * 1e4) / 1e4, incorrectFields };
}
