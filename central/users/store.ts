import type { Db } from '../../common/sqlite.js';
import { RegistryError, conflict, notFound } from '../registry/errors.js';

import type { Role } from '../../common/console/gate.js';

export type { Role };
export interface User {
  name: string;
  role: Role;
  createdAt: string;
}

const NAME = /^[A-Za-z0-9._-]{1,64}$/;

/** Console users in central.db; the password arrives already hashed (common/console/passwords.ts). */
export class UserStore {
  constructor(
    private readonly db: Db,
    private readonly clock: () => number = Date.now,
  ) {
    db.exec(`CREATE TABLE IF NOT EXISTS users (
      name TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL, created_at TEXT NOT NULL)`);
  }

  private static checkName(name: string): void {
    if (!NAME.test(name)) throw new RegistryError('invalid', 'name', 'a user name is 1 to 64 of A-Z a-z 0-9 . _ -');
  }

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM users').get() as { n: number }).n;
  }

  list(): User[] {
    return (this.db.prepare('SELECT name, role, created_at FROM users ORDER BY name').all() as { name: string; role: Role; created_at: string }[]).map((r) => ({
      name: r.name,
      role: r.role,
      createdAt: r.created_at,
    }));
  }

  find(name: string): (User & { passwordHash: string }) | undefined {
    const r = this.db.prepare('SELECT * FROM users WHERE name = ?').get(name) as { name: string; role: Role; password_hash: string; created_at: string } | undefined;
    return r && { name: r.name, role: r.role, createdAt: r.created_at, passwordHash: r.password_hash };
  }

  add(name: string, role: Role, passwordHash: string): User {
    UserStore.checkName(name);
    if (role !== 'administrator' && role !== 'observer') throw new RegistryError('invalid', 'role', 'role is administrator or observer');
    if (!passwordHash) throw new RegistryError('invalid', 'password', 'the password must not be empty');
    if (this.find(name)) throw conflict('name', `user ${name}`);
    const createdAt = new Date(this.clock()).toISOString();
    this.db.prepare('INSERT INTO users VALUES (?, ?, ?, ?)').run(name, role, passwordHash, createdAt);
    return { name, role, createdAt };
  }

  remove(name: string): void {
    const user = this.find(name);
    if (!user) throw notFound('name', `user ${name}`);
    const admins = (this.db.prepare("SELECT COUNT(*) AS n FROM users WHERE role = 'administrator'").get() as { n: number }).n;
    if (user.role === 'administrator' && admins <= 1) {
      throw new RegistryError('in-use', 'name', `${name} is the last administrator; add another administrator first`);
    }
    this.db.prepare('DELETE FROM users WHERE name = ?').run(name);
  }

  setPassword(name: string, passwordHash: string): void {
    if (!passwordHash) throw new RegistryError('invalid', 'password', 'the password must not be empty');
    if (this.db.prepare('UPDATE users SET password_hash = ? WHERE name = ?').run(passwordHash, name).changes === 0) {
      throw notFound('name', `user ${name}`);
    }
  }
}
