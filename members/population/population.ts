import { createHash } from 'node:crypto';
import { FAMILY_NAMES, GIVEN_NAMES_FEMALE, GIVEN_NAMES_MALE, PROVINCES } from './names.js';
import { seededRandom } from './random.js';

/**
 * The synthetic population shared by CamDigiKey (user accounts) and the MOI civil registry:
 * the same fictional people with the same ID numbers in both. Deterministic from a seed, so
 * every service — and every test — derives identical people without sharing a database.
 */

export type AccountStatus = 'ENABLED' | 'DISABLED' | 'EXPIRED' | 'DELETED';

export interface Person {
  /** Position in the population (0-based). */
  readonly index: number;
  /** National ID card number, 9 digits: also CamDigiKey's personal_code. */
  readonly idNumber: string;
  readonly camdigikeyId: string;
  readonly lastNameKh: string;
  readonly firstNameKh: string;
  readonly lastNameEn: string;
  readonly firstNameEn: string;
  readonly gender: 'M' | 'F';
  /** YYYY-MM-DD */
  readonly dob: string;
  readonly phone: string;
  readonly email: string;
  readonly nationality: 'KH';
  readonly idIssuedDate: string;
  readonly idExpiryDate: string;
  readonly address: { readonly province: string; readonly street: string };
  /** Seed of the person's generated face (rendered on demand). */
  readonly faceSeed: number;
  /** CamDigiKey account status; most are enabled, a few of each other kind exist for tests. */
  readonly accountStatus: AccountStatus;
}

export const DEFAULT_POPULATION = { seed: 'camdx-sim-population-v1', size: 5000 } as const;

const seedOf = (text: string) => createHash('sha256').update(text).digest().readUInt32BE(0);
const pad = (n: number, width: number) => String(n).padStart(width, '0');
const isoDate = (d: Date) => d.toISOString().slice(0, 10);

/** The person at `index` of the population named by `seed`. */
export function personAt(seed: string, index: number): Person {
  const rnd = seededRandom(seedOf(`${seed}:${index}`));
  const pick = <T>(list: readonly T[]) => list[Math.floor(rnd() * list.length)]!;
  const gender = rnd() < 0.5 ? 'M' : 'F';
  const [lastNameKh, lastNameEn] = pick(FAMILY_NAMES);
  const [firstNameKh, firstNameEn] = pick(gender === 'M' ? GIVEN_NAMES_MALE : GIVEN_NAMES_FEMALE);
  const born = new Date(Date.UTC(1950 + Math.floor(rnd() * 55), Math.floor(rnd() * 12), 1 + Math.floor(rnd() * 28)));
  const issued = new Date(Date.UTC(2017 + Math.floor(rnd() * 8), Math.floor(rnd() * 12), 1 + Math.floor(rnd() * 28)));
  const expires = new Date(issued);
  expires.setUTCFullYear(issued.getUTCFullYear() + 10);
  // Unique by construction: the index, spread over nine digits with a fixed odd multiplier.
  const idNumber = pad((index * 7_919_993 + 10_000_019) % 1_000_000_000, 9);
  const statusRoll = index % 50;
  const accountStatus: AccountStatus = statusRoll === 7 ? 'DISABLED' : statusRoll === 17 ? 'EXPIRED' : statusRoll === 27 ? 'DELETED' : 'ENABLED';
  return {
    index,
    idNumber,
    camdigikeyId: createHash('sha256').update(`${seed}:cdk:${index}`).digest('hex').slice(0, 24),
    lastNameKh,
    firstNameKh,
    lastNameEn,
    firstNameEn,
    gender,
    dob: isoDate(born),
    phone: `+855${pick(['12', '15', '16', '17', '77', '78', '85', '89', '92', '96', '97'])}${pad(Math.floor(rnd() * 1_000_000), 6)}${Math.floor(rnd() * 10)}`,
    email: `${firstNameEn.toLowerCase()}.${lastNameEn.toLowerCase()}${index}@example.com.kh`,
    nationality: 'KH',
    idIssuedDate: isoDate(issued),
    idExpiryDate: isoDate(expires),
    address: { province: pick(PROVINCES), street: `Street ${1 + Math.floor(rnd() * 600)}, No. ${1 + Math.floor(rnd() * 200)}` },
    faceSeed: seedOf(`${seed}:face:${index}`),
    accountStatus,
  };
}

export function generatePopulation(seed: string = DEFAULT_POPULATION.seed, size: number = DEFAULT_POPULATION.size): Person[] {
  return Array.from({ length: size }, (_, i) => personAt(seed, i));
}
