import { openDatabase, type Db } from '../../common/sqlite.js';
import { DEFAULT_POPULATION, generatePopulation, type AccountStatus, type Person } from './population.js';

const MIGRATIONS = [
  `CREATE TABLE people (
     id_number TEXT PRIMARY KEY,
     idx INTEGER NOT NULL UNIQUE,
     camdigikey_id TEXT NOT NULL UNIQUE,
     person TEXT NOT NULL,
     account_status TEXT NOT NULL
   );
   CREATE TABLE population (id INTEGER PRIMARY KEY CHECK (id = 1), seed TEXT NOT NULL, size INTEGER NOT NULL);`,
];

/**
 * A service's own copy of the population in SQLite, generated once (a few hundred ms for five
 * thousand people) and then only read; account statuses can change (disable, expire, delete).
 */
export class PopulationStore {
  private readonly db: Db;
  private readonly stmt;

  constructor(path: string, seed: string = DEFAULT_POPULATION.seed, size: number = DEFAULT_POPULATION.size) {
    this.db = openDatabase(path, MIGRATIONS);
    const existing = this.db.prepare('SELECT seed, size FROM population WHERE id = 1').get() as { seed: string; size: number } | undefined;
    if (existing && (existing.seed !== seed || existing.size !== size)) {
      this.db.close();
      throw new Error(`${path} holds population '${existing.seed}' of ${existing.size}, not '${seed}' of ${size}`);
    }
    if (!existing) {
      const insert = this.db.prepare('INSERT INTO people (id_number, idx, camdigikey_id, person, account_status) VALUES (?, ?, ?, ?, ?)');
      this.db.transaction(() => {
        for (const p of generatePopulation(seed, size)) insert.run(p.idNumber, p.index, p.camdigikeyId, JSON.stringify(p), p.accountStatus);
        this.db.prepare('INSERT INTO population (id, seed, size) VALUES (1, ?, ?)').run(seed, size);
      })();
    }
    this.stmt = {
      byId: this.db.prepare('SELECT person, account_status FROM people WHERE id_number = ?'),
      byCdk: this.db.prepare('SELECT person, account_status FROM people WHERE camdigikey_id = ?'),
      byIndex: this.db.prepare('SELECT person, account_status FROM people WHERE idx = ?'),
      setStatus: this.db.prepare('UPDATE people SET account_status = ? WHERE id_number = ?'),
      count: this.db.prepare('SELECT COUNT(*) AS n FROM people'),
    };
  }

  private row(r: { person: string; account_status: string } | undefined): Person | undefined {
    return r ? { ...(JSON.parse(r.person) as Person), accountStatus: r.account_status as AccountStatus } : undefined;
  }

  byIdNumber(idNumber: string): Person | undefined {
    return this.row(this.stmt.byId.get(idNumber) as { person: string; account_status: string } | undefined);
  }

  byCamdigikeyId(id: string): Person | undefined {
    return this.row(this.stmt.byCdk.get(id) as { person: string; account_status: string } | undefined);
  }

  byIndex(index: number): Person | undefined {
    return this.row(this.stmt.byIndex.get(index) as { person: string; account_status: string } | undefined);
  }

  setAccountStatus(idNumber: string, status: AccountStatus): boolean {
    return this.stmt.setStatus.run(status, idNumber).changes === 1;
  }

  get size(): number {
    return (this.stmt.count.get() as { n: number }).n;
  }

  close(): void {
    this.db.close();
  }
}
