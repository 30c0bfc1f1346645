import { openDatabase, type Db } from '../../common/sqlite.js';
import { DEFAULT_POPULATION, generatePopulation } from '../population/population.js';
import type { CardHolder } from './card/render.js';

/**
 * MOI's civil registry: the shared synthetic population (same people, same ID numbers as
 * CamDigiKey) with address and the seed of the registry photo, in SQLite. Generated once on
 * first start (5,000 people by default: ~0.15 s, ~0.8 MB); photos are not stored but rendered
 * from the seed when a check needs them.
 */

export interface Citizen {
  readonly idNumber: string;
  readonly firstNameKh: string;
  readonly lastNameKh: string;
  readonly firstNameEn: string;
  readonly lastNameEn: string;
  readonly gender: 'M' | 'F';
  readonly dob: string;
  readonly issuedDate: string;
  readonly expiredDate: string;
  readonly province: string;
  readonly street: string;
  readonly faceSeed: number;
}

const MIGRATIONS = [
  `CREATE TABLE citizens (
     id_number TEXT PRIMARY KEY,
     idx INTEGER NOT NULL UNIQUE,
     first_name_kh TEXT NOT NULL,
     last_name_kh TEXT NOT NULL,
     first_name_en TEXT NOT NULL,
     last_name_en TEXT NOT NULL,
     gender TEXT NOT NULL CHECK (gender IN ('M', 'F')),
     dob TEXT NOT NULL,
     issued_date TEXT NOT NULL,
     expired_date TEXT NOT NULL,
     province TEXT NOT NULL,
     street TEXT NOT NULL,
     face_seed INTEGER NOT NULL
   );
   CREATE TABLE registry (id INTEGER PRIMARY KEY CHECK (id = 1), seed TEXT NOT NULL, size INTEGER NOT NULL, created_at TEXT NOT NULL);`,
];

interface Row {
  id_number: string;
  first_name_kh: string;
  last_name_kh: string;
  first_name_en: string;
  last_name_en: string;
  gender: 'M' | 'F';
  dob: string;
  issued_date: string;
  expired_date: string;
  province: string;
  street: string;
  face_seed: number;
}

const citizenOf = (r: Row): Citizen => ({
  idNumber: r.id_number,
  firstNameKh: r.first_name_kh,
  lastNameKh: r.last_name_kh,
  firstNameEn: r.first_name_en,
  lastNameEn: r.last_name_en,
  gender: r.gender,
  dob: r.dob,
  issuedDate: r.issued_date,
  expiredDate: r.expired_date,
  province: r.province,
  street: r.street,
  faceSeed: r.face_seed,
});

/** What a card for this citizen shows. */
export const holderOf = (c: Citizen): CardHolder => ({
  idNumber: c.idNumber,
  lastNameKh: c.lastNameKh,
  firstNameKh: c.firstNameKh,
  lastNameEn: c.lastNameEn,
  firstNameEn: c.firstNameEn,
  gender: c.gender,
  dob: c.dob,
  idIssuedDate: c.issuedDate,
  idExpiryDate: c.expiredDate,
  address: { province: c.province, street: c.street },
  faceSeed: c.faceSeed,
});

export class CivilRegistry {
  private readonly db: Db;
  private readonly byId;
  private readonly byIndex;
  private readonly page;
  readonly size: number;

  constructor(path: string, seed: string = DEFAULT_POPULATION.seed, size: number = DEFAULT_POPULATION.size) {
    this.db = openDatabase(path, MIGRATIONS);
    const existing = this.db.prepare('SELECT seed, size FROM registry WHERE id = 1').get() as { seed: string; size: number } | undefined;
    if (existing && (existing.seed !== seed || existing.size !== size)) {
      this.db.close();
      throw new Error(`${path} holds population '${existing.seed}' of ${existing.size}, not '${seed}' of ${size}; delete it to regenerate`);
    }
    if (!existing) {
      const insert = this.db.prepare(
        `INSERT INTO citizens (id_number, idx, first_name_kh, last_name_kh, first_name_en, last_name_en, gender, dob, issued_date, expired_date, province, street, face_seed)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      this.db.transaction(() => {
        for (const p of generatePopulation(seed, size)) {
          insert.run(p.idNumber, p.index, p.firstNameKh, p.lastNameKh, p.firstNameEn, p.lastNameEn, p.gender, p.dob, p.idIssuedDate, p.idExpiryDate, p.address.province, p.address.street, p.faceSeed);
        }
        this.db.prepare('INSERT INTO registry (id, seed, size, created_at) VALUES (1, ?, ?, ?)').run(seed, size, new Date().toISOString());
      })();
    }
    this.byId = this.db.prepare('SELECT * FROM citizens WHERE id_number = ?');
    this.byIndex = this.db.prepare('SELECT * FROM citizens WHERE idx = ?');
    this.page = this.db.prepare('SELECT * FROM citizens ORDER BY idx LIMIT ? OFFSET ?');
    this.size = (this.db.prepare('SELECT COUNT(*) AS n FROM citizens').get() as { n: number }).n;
  }

  find(idNumber: string): Citizen | undefined {
    const row = this.byId.get(idNumber) as Row | undefined;
    return row ? citizenOf(row) : undefined;
  }

  /** The citizen at a population index (0-based): for samples and tests. */
  at(index: number): Citizen | undefined {
    const row = this.byIndex.get(index) as Row | undefined;
    return row ? citizenOf(row) : undefined;
  }

  /** Citizens in population order, for listing sample people. */
  list(offset: number, limit: number): Citizen[] {
    return (this.page.all(limit, offset) as Row[]).map(citizenOf);
  }

  close(): void {
    this.db.close();
  }
}
