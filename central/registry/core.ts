import type { Db } from '../../common/sqlite.js';
import { formatMemberId, formatSecurityServerId, formatServiceId, formatSubsystemId, type MemberId, type SecurityServerId, type ServiceId, type SubsystemId } from '../../protocol/identifiers.js';
import { notFound, RegistryError } from './errors.js';

/**
 * What every registry area shares: the database, the instance, identifier-to-row lookups,
 * and `mutate`, which runs a change and its audit record in one transaction and tells the
 * listeners (the configuration publisher) once it has committed.
 */
export class RegistryCore {
  private readonly listeners: Array<() => void> = [];
  private depth = 0;
  private changed = false;
  private readonly stmt;

  constructor(
    readonly db: Db,
    readonly instance: string,
    readonly memberClasses: readonly string[],
    readonly clock: () => number = Date.now,
  ) {
    this.stmt = {
      audit: db.prepare('INSERT INTO audit (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)'),
      member: db.prepare('SELECT id FROM members WHERE member_class = ? AND member_code = ?'),
      subsystem: db.prepare('SELECT s.id FROM subsystems s JOIN members m ON m.id = s.member_id WHERE m.member_class = ? AND m.member_code = ? AND s.subsystem_code = ?'),
      server: db.prepare('SELECT v.id FROM servers v JOIN members m ON m.id = v.owner_id WHERE m.member_class = ? AND m.member_code = ? AND v.server_code = ?'),
      service: db.prepare(
        `SELECT x.id FROM services x JOIN subsystems s ON s.id = x.subsystem_id JOIN members m ON m.id = s.member_id
         WHERE m.member_class = ? AND m.member_code = ? AND s.subsystem_code = ? AND x.service_code = ?`,
      ),
      group: db.prepare('SELECT id FROM global_groups WHERE code = ?'),
    };
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /**
   * Runs `fn` and its audit record atomically; listeners hear of it after the commit.
   * `published: false` marks a change to data the global configuration does not carry (such
   * as a server's monitoring address), so no new configuration version is signed for it.
   */
  mutate<T>(actor: string, action: string, target: string, detail: Record<string, unknown> | undefined, fn: () => T, options: { published?: boolean } = {}): T {
    return this.transaction(() => {
      const value = fn();
      this.stmt.audit.run(this.clock(), actor, action, target, detail ? JSON.stringify(detail) : null);
      if (options.published !== false) this.changed = true;
      return value;
    });
  }

  /** An audit record without a change: a sign-in, a refusal, a console user's change (users are not in the configuration). */
  record(actor: string, action: string, target: string, detail?: Record<string, unknown>): void {
    this.stmt.audit.run(this.clock(), actor, action, target, detail ? JSON.stringify(detail) : null);
  }

  /**
   * One transaction around several mutations (nested ones become savepoints). Listeners are
   * told once, after the outermost commit, so they never see a change that may still roll back.
   */
  transaction<T>(fn: () => T): T {
    this.depth++;
    let result: T;
    try {
      result = this.db.transaction(fn)();
    } catch (err) {
      if (--this.depth === 0) this.changed = false;
      throw err;
    }
    if (--this.depth === 0 && this.changed) {
      this.changed = false;
      for (const listener of this.listeners) listener();
    }
    return result;
  }

  checkInstance(id: { instance: string }, field: string): void {
    if (id.instance !== this.instance) throw new RegistryError('invalid', field, `${field} names instance ${id.instance}; this central server serves ${this.instance}`);
  }

  memberRow(id: MemberId, field = 'member'): number {
    this.checkInstance(id, field);
    const row = this.stmt.member.get(id.memberClass, id.memberCode) as { id: number } | undefined;
    if (!row) throw notFound(field, `member ${formatMemberId(id)}`);
    return row.id;
  }

  subsystemRow(id: SubsystemId, field = 'subsystem'): number {
    this.checkInstance(id, field);
    const row = this.stmt.subsystem.get(id.memberClass, id.memberCode, id.subsystemCode) as { id: number } | undefined;
    if (!row) throw notFound(field, `subsystem ${formatSubsystemId(id)}`);
    return row.id;
  }

  findSubsystemRow(id: SubsystemId): number | undefined {
    return (this.stmt.subsystem.get(id.memberClass, id.memberCode, id.subsystemCode) as { id: number } | undefined)?.id;
  }

  serverRow(id: SecurityServerId, field = 'server'): number {
    this.checkInstance(id, field);
    const row = this.stmt.server.get(id.memberClass, id.memberCode, id.serverCode) as { id: number } | undefined;
    if (!row) throw notFound(field, `security server ${formatSecurityServerId(id)}`);
    return row.id;
  }

  findServerRow(id: SecurityServerId): number | undefined {
    return (this.stmt.server.get(id.memberClass, id.memberCode, id.serverCode) as { id: number } | undefined)?.id;
  }

  serviceRow(id: ServiceId, field = 'service'): number {
    this.checkInstance(id, field);
    const row = this.stmt.service.get(id.memberClass, id.memberCode, id.subsystemCode, id.serviceCode) as { id: number } | undefined;
    if (!row) throw notFound(field, `service ${formatServiceId(id)}`);
    return row.id;
  }

  groupRow(code: string, field = 'group'): number {
    const row = this.stmt.group.get(code) as { id: number } | undefined;
    if (!row) throw notFound(field, `global group ${this.instance}/${code}`);
    return row.id;
  }
}

/** True when SQLite refused a write because of a UNIQUE constraint. */
export function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' || (err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
