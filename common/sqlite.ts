import Database from 'better-sqlite3';
import { dirname } from 'node:path';
import { ensureDir } from './files.js';

export type Db = Database.Database;

/**
 * Opens a SQLite database in WAL mode and brings its schema up to date. `migrations[i]`
 * moves the schema from version i to i+1; the version lives in `PRAGMA user_version`, and
 * each migration runs in its own transaction, so a failed one leaves the previous version.
 */
export function openDatabase(path: string, migrations: readonly string[]): Db {
  if (path !== ':memory:') ensureDir(dirname(path), 0o700);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    db.close();
    throw new Error(`${path} has schema version ${current}, newer than this program knows (${migrations.length})`);
  }
  for (let version = current; version < migrations.length; version++) {
    db.transaction(() => {
      db.exec(migrations[version]!);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
  return db;
}
