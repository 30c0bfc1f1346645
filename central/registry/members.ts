import { formatMemberId, formatSubsystemId, type MemberId, type SubsystemId } from '../../protocol/identifiers.js';
import { conflict, inUse, RegistryError } from './errors.js';
import { isUniqueViolation, type RegistryCore } from './core.js';

export interface MemberRecord {
  readonly id: string;
  readonly instance: string;
  readonly memberClass: string;
  readonly memberCode: string;
  readonly name: string;
  readonly subsystems: readonly string[];
}

/** Members (class + code + name) and their subsystems. */
export class Members {
  private readonly stmt;

  constructor(private readonly core: RegistryCore) {
    const db = core.db;
    this.stmt = {
      insert: db.prepare('INSERT INTO members (member_class, member_code, name, created_at) VALUES (?, ?, ?, ?)'),
      list: db.prepare('SELECT id, member_class, member_code, name FROM members ORDER BY member_class, member_code'),
      subsystemsOf: db.prepare('SELECT subsystem_code FROM subsystems WHERE member_id = ? ORDER BY subsystem_code'),
      rename: db.prepare('UPDATE members SET name = ? WHERE id = ?'),
      remove: db.prepare('DELETE FROM members WHERE id = ?'),
      countSubsystems: db.prepare('SELECT COUNT(*) AS n FROM subsystems WHERE member_id = ?'),
      countServers: db.prepare('SELECT COUNT(*) AS n FROM servers WHERE owner_id = ?'),
      insertSubsystem: db.prepare('INSERT INTO subsystems (member_id, subsystem_code, created_at) VALUES (?, ?, ?)'),
      removeSubsystem: db.prepare('DELETE FROM subsystems WHERE id = ?'),
      subsystemUses: db.prepare(
        `SELECT (SELECT COUNT(*) FROM services WHERE subsystem_id = @id) AS services,
                (SELECT COUNT(*) FROM server_clients WHERE subsystem_id = @id) AS servers,
                (SELECT COUNT(*) FROM global_group_members WHERE subsystem_id = @id) AS groups,
                (SELECT COUNT(*) FROM access_rights WHERE subsystem_id = @id) AS rights`,
      ),
    };
  }

  add(actor: string, id: MemberId, name: string): MemberRecord {
    this.core.checkInstance(id, 'member');
    if (!this.core.memberClasses.includes(id.memberClass)) {
      throw new RegistryError('invalid', 'memberClass', `member class ${id.memberClass} is not one of ${this.core.memberClasses.join(', ')}`);
    }
    const target = formatMemberId(id);
    try {
      this.core.mutate(actor, 'member.add', target, { name }, () => this.stmt.insert.run(id.memberClass, id.memberCode, name, this.core.clock()));
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('member', `member ${target}`);
      throw err;
    }
    return this.get(id);
  }

  rename(actor: string, id: MemberId, name: string): MemberRecord {
    const row = this.core.memberRow(id);
    this.core.mutate(actor, 'member.rename', formatMemberId(id), { name }, () => this.stmt.rename.run(name, row));
    return this.get(id);
  }

  get(id: MemberId): MemberRecord {
    this.core.memberRow(id);
    return this.list().find((m) => m.memberClass === id.memberClass && m.memberCode === id.memberCode)!;
  }

  list(): MemberRecord[] {
    return (this.stmt.list.all() as Array<{ id: number; member_class: string; member_code: string; name: string }>).map((r) => ({
      id: `${this.core.instance}/${r.member_class}/${r.member_code}`,
      instance: this.core.instance,
      memberClass: r.member_class,
      memberCode: r.member_code,
      name: r.name,
      subsystems: (this.stmt.subsystemsOf.all(r.id) as Array<{ subsystem_code: string }>).map((s) => s.subsystem_code),
    }));
  }

  remove(actor: string, id: MemberId): void {
    const row = this.core.memberRow(id);
    const uses: string[] = [];
    const subsystems = (this.stmt.countSubsystems.get(row) as { n: number }).n;
    const servers = (this.stmt.countServers.get(row) as { n: number }).n;
    if (subsystems) uses.push(`${subsystems} subsystem(s)`);
    if (servers) uses.push(`${servers} security server(s)`);
    if (uses.length) throw inUse('member', `member ${formatMemberId(id)}`, uses);
    this.core.mutate(actor, 'member.remove', formatMemberId(id), undefined, () => this.stmt.remove.run(row));
  }

  addSubsystem(actor: string, id: SubsystemId): string {
    const member = this.core.memberRow(id, 'subsystem member');
    const target = formatSubsystemId(id);
    try {
      this.core.mutate(actor, 'subsystem.add', target, undefined, () => this.stmt.insertSubsystem.run(member, id.subsystemCode, this.core.clock()));
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('subsystem', `subsystem ${target}`);
      throw err;
    }
    return target;
  }

  /** Adds the subsystem unless it exists (management requests register clients this way). */
  ensureSubsystem(actor: string, id: SubsystemId): void {
    if (this.core.findSubsystemRow(id) === undefined) this.addSubsystem(actor, id);
  }

  removeSubsystem(actor: string, id: SubsystemId): void {
    const row = this.core.subsystemRow(id);
    const use = this.stmt.subsystemUses.get({ id: row }) as { services: number; servers: number; groups: number; rights: number };
    const uses = [
      use.services && `${use.services} service(s)`,
      use.servers && `${use.servers} security server client registration(s)`,
      use.groups && `${use.groups} global group membership(s)`,
      use.rights && `${use.rights} access right(s)`,
    ].filter(Boolean) as string[];
    if (uses.length) throw inUse('subsystem', `subsystem ${formatSubsystemId(id)}`, uses);
    this.core.mutate(actor, 'subsystem.remove', formatSubsystemId(id), undefined, () => this.stmt.removeSubsystem.run(row));
  }
}
