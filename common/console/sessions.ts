import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../sqlite.js';

export const IDLE_MS = 30 * 60_000;
export const ABSOLUTE_MS = 8 * 60 * 60_000;

export interface Session {
  user: string;
  role: string;
  csrfToken: string;
  createdAt: number;
  lastSeen: number;
  expiresAt: number;
}
export type Lookup = { ok: true; session: Session } | { ok: false; reason: 'unknown' | 'idle' | 'absolute' };

const hashId = (id: string) => createHash('sha256').update(id).digest('hex');

/** Only the SHA-256 of the cookie value is stored, so a copy of the database does not sign anyone in. */
export class SessionStore {
  constructor(
    private readonly db: Db,
    private readonly clock: () => number = Date.now,
  ) {
    db.exec(`CREATE TABLE IF NOT EXISTS console_sessions (
      id_hash TEXT PRIMARY KEY, user TEXT NOT NULL, role TEXT NOT NULL, csrf TEXT NOT NULL,
      created_at INTEGER NOT NULL, last_seen INTEGER NOT NULL)`);
  }

  create(user: string, role: string): { id: string; session: Session } {
    const id = randomBytes(32).toString('base64url');
    const now = this.clock();
    const csrfToken = randomBytes(32).toString('base64url');
    this.db.prepare('INSERT INTO console_sessions VALUES (?, ?, ?, ?, ?, ?)').run(hashId(id), user, role, csrfToken, now, now);
    return { id, session: { user, role, csrfToken, createdAt: now, lastSeen: now, expiresAt: this.expiry(now, now) } };
  }

  private expiry(createdAt: number, lastSeen: number): number {
    return Math.min(createdAt + ABSOLUTE_MS, lastSeen + IDLE_MS);
  }

  /** Finds the session and marks it seen; an expired one is deleted and says why. */
  touch(id: string): Lookup {
    const row = this.db.prepare('SELECT * FROM console_sessions WHERE id_hash = ?').get(hashId(id)) as { user: string; role: string; csrf: string; created_at: number; last_seen: number } | undefined;
    if (!row) return { ok: false, reason: 'unknown' };
    const now = this.clock();
    const reason = now >= row.created_at + ABSOLUTE_MS ? 'absolute' : now >= row.last_seen + IDLE_MS ? 'idle' : undefined;
    if (reason) {
      this.end(id);
      return { ok: false, reason };
    }
    this.db.prepare('UPDATE console_sessions SET last_seen = ? WHERE id_hash = ?').run(now, hashId(id));
    return { ok: true, session: { user: row.user, role: row.role, csrfToken: row.csrf, createdAt: row.created_at, lastSeen: now, expiresAt: this.expiry(row.created_at, now) } };
  }

  end(id: string): void {
    this.db.prepare('DELETE FROM console_sessions WHERE id_hash = ?').run(hashId(id));
  }

  endAllFor(user: string): number {
    return this.db.prepare('DELETE FROM console_sessions WHERE user = ?').run(user).changes;
  }
}
