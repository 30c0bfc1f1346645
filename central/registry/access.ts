import { checkPart, formatLocalGroupId, formatServiceId, formatSubsystemId, type LocalGroupId, type ServiceId, type SubsystemId } from '../../protocol/identifiers.js';
import { checkPathPattern, isMethodPattern, PathError, type MethodPattern } from '../../protocol/paths.js';
import { conflict, inUse, notFound, RegistryError } from './errors.js';
import { isUniqueViolation, type RegistryCore } from './core.js';
import type { LocalGroups } from './local-groups.js';

/** Who a right is for: one subsystem, every subsystem in a global group, or in one of the provider subsystem's local groups. */
export type Subject = { readonly type: 'SUBSYSTEM'; readonly id: SubsystemId } | { readonly type: 'GLOBALGROUP'; readonly code: string } | { readonly type: 'LOCALGROUP'; readonly id: LocalGroupId };
export type SubjectType = Subject['type'];

export interface AccessRightRecord {
  readonly id: number;
  readonly subject: string;
  readonly subjectType: SubjectType;
  readonly service: string;
  readonly method: MethodPattern;
  readonly path: string;
  /** `central:<user>` for a right granted at central, `request:<id>` for one a provider's signed request made. */
  readonly origin: string;
}

/** Access rights one member may hold on its services at most (X-Road has no limit; ours keeps the configuration bounded). */
export const MAX_RIGHTS_PER_MEMBER = 1000;

export interface GroupRecord {
  readonly id: string;
  readonly code: string;
  readonly description: string;
  readonly members: readonly string[];
}

/**
 * Global groups and access rights. Deny by default: a client may call an endpoint only if
 * some right names it (or a group it belongs to) for that service, method and path.
 */
export class Access {
  private readonly stmt;

  constructor(
    private readonly core: RegistryCore,
    private readonly localGroups: LocalGroups,
  ) {
    const db = core.db;
    this.stmt = {
      insertGroup: db.prepare('INSERT INTO global_groups (code, description, created_at) VALUES (?, ?, ?)'),
      removeGroup: db.prepare('DELETE FROM global_groups WHERE id = ?'),
      groups: db.prepare('SELECT id, code, description FROM global_groups ORDER BY code'),
      groupMembers: db.prepare(
        `SELECT m.member_class, m.member_code, s.subsystem_code FROM global_group_members g JOIN subsystems s ON s.id = g.subsystem_id
         JOIN members m ON m.id = s.member_id WHERE g.group_id = ? ORDER BY m.member_class, m.member_code, s.subsystem_code`,
      ),
      insertGroupMember: db.prepare('INSERT INTO global_group_members (group_id, subsystem_id) VALUES (?, ?)'),
      removeGroupMember: db.prepare('DELETE FROM global_group_members WHERE group_id = ? AND subsystem_id = ?'),
      hasGroupMember: db.prepare('SELECT 1 FROM global_group_members WHERE group_id = ? AND subsystem_id = ?'),
      groupUses: db.prepare('SELECT (SELECT COUNT(*) FROM global_group_members WHERE group_id = @id) AS members, (SELECT COUNT(*) FROM access_rights WHERE group_id = @id) AS rights'),
      insertRight: db.prepare('INSERT INTO access_rights (service_id, subsystem_id, group_id, local_group_id, method, path, created_at, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      rightsOfMember: db.prepare(
        `SELECT COUNT(*) AS n FROM access_rights r JOIN services x ON x.id = r.service_id JOIN subsystems s ON s.id = x.subsystem_id
         JOIN members m ON m.id = s.member_id WHERE m.member_class = ? AND m.member_code = ?`,
      ),
      removeRight: db.prepare('DELETE FROM access_rights WHERE id = ?'),
      rights: db.prepare(
        `SELECT r.id, r.method, r.path, r.origin,
                pm.member_class AS p_class, pm.member_code AS p_code, ps.subsystem_code AS p_sub, x.service_code,
                cm.member_class AS c_class, cm.member_code AS c_code, cs.subsystem_code AS c_sub, g.code AS group_code,
                lm.member_class AS l_class, lm.member_code AS l_code, ls.subsystem_code AS l_sub, lg.code AS local_code
         FROM access_rights r
         JOIN services x ON x.id = r.service_id JOIN subsystems ps ON ps.id = x.subsystem_id JOIN members pm ON pm.id = ps.member_id
         LEFT JOIN subsystems cs ON cs.id = r.subsystem_id LEFT JOIN members cm ON cm.id = cs.member_id
         LEFT JOIN global_groups g ON g.id = r.group_id
         LEFT JOIN local_groups lg ON lg.id = r.local_group_id LEFT JOIN subsystems ls ON ls.id = lg.subsystem_id LEFT JOIN members lm ON lm.id = ls.member_id
         ORDER BY pm.member_class, pm.member_code, ps.subsystem_code, x.service_code, r.id`,
      ),
    };
  }

  addGroup(actor: string, code: string, description: string): GroupRecord {
    checkPart(code, 'group code');
    try {
      this.core.mutate(actor, 'group.add', `${this.core.instance}/${code}`, { description }, () => this.stmt.insertGroup.run(code, description, this.core.clock()));
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('group', `global group ${this.core.instance}/${code}`);
      throw err;
    }
    return this.listGroups().find((g) => g.code === code)!;
  }

  removeGroup(actor: string, code: string): void {
    const row = this.core.groupRow(code);
    const use = this.stmt.groupUses.get({ id: row }) as { members: number; rights: number };
    const uses = [use.members && `${use.members} member(s)`, use.rights && `${use.rights} access right(s)`].filter(Boolean) as string[];
    if (uses.length) throw inUse('group', `global group ${this.core.instance}/${code}`, uses);
    this.core.mutate(actor, 'group.remove', `${this.core.instance}/${code}`, undefined, () => this.stmt.removeGroup.run(row));
  }

  addGroupMember(actor: string, code: string, member: SubsystemId): void {
    const group = this.core.groupRow(code);
    const subsystem = this.core.subsystemRow(member, 'member');
    try {
      this.core.mutate(actor, 'group.member.add', `${this.core.instance}/${code}`, { member: formatSubsystemId(member) }, () => this.stmt.insertGroupMember.run(group, subsystem));
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('member', `${formatSubsystemId(member)} in group ${code}`);
      throw err;
    }
  }

  removeGroupMember(actor: string, code: string, member: SubsystemId): void {
    const group = this.core.groupRow(code);
    const subsystem = this.core.subsystemRow(member, 'member');
    if (!this.stmt.hasGroupMember.get(group, subsystem)) throw notFound('member', `${formatSubsystemId(member)} in group ${code}`);
    this.core.mutate(actor, 'group.member.remove', `${this.core.instance}/${code}`, { member: formatSubsystemId(member) }, () => this.stmt.removeGroupMember.run(group, subsystem));
  }

  listGroups(): GroupRecord[] {
    return (this.stmt.groups.all() as Array<{ id: number; code: string; description: string }>).map((g) => ({
      id: `${this.core.instance}/${g.code}`,
      code: g.code,
      description: g.description,
      members: (this.stmt.groupMembers.all(g.id) as Array<{ member_class: string; member_code: string; subsystem_code: string }>).map(
        (m) => `${this.core.instance}/${m.member_class}/${m.member_code}/${m.subsystem_code}`,
      ),
    }));
  }

  /**
   * Grants a right. `origin` says where it came from (`central:<actor>` unless a request made it);
   * a member's services hold at most MAX_RIGHTS_PER_MEMBER rights.
   */
  addRight(actor: string, subject: Subject, service: ServiceId, method: string = '*', path = '/**', origin = `central:${actor}`): AccessRightRecord {
    const serviceRow = this.core.serviceRow(service);
    const subsystemRow = subject.type === 'SUBSYSTEM' ? this.core.subsystemRow(subject.id, 'subject') : null;
    const groupRow = subject.type === 'GLOBALGROUP' ? this.core.groupRow(subject.code, 'subject') : null;
    const localGroupRow = subject.type === 'LOCALGROUP' ? this.localGroups.row(subject.id, 'subject') : null;
    if (subject.type === 'LOCALGROUP' && formatSubsystemId(subject.id) !== formatSubsystemId(service)) {
      throw new RegistryError(
        'invalid',
        'subject',
        `local group ${formatLocalGroupId(subject.id)} belongs to ${formatSubsystemId(subject.id)}: it may be given rights only on that subsystem's services, not on ${formatServiceId(service)}`,
      );
    }
    if (!isMethodPattern(method)) throw new RegistryError('invalid', 'method', `method '${method}' is not an HTTP method or '*'`);
    try {
      checkPathPattern(path);
    } catch (err) {
      if (err instanceof PathError) throw new RegistryError('invalid', 'path', err.message);
      throw err;
    }
    const subjectText = subject.type === 'SUBSYSTEM' ? formatSubsystemId(subject.id) : subject.type === 'LOCALGROUP' ? formatLocalGroupId(subject.id) : `${this.core.instance}/${subject.code}`;
    if (this.rightsOfMember(service) >= MAX_RIGHTS_PER_MEMBER) {
      throw new RegistryError('limit', 'service', `member ${service.memberClass}/${service.memberCode} already has ${MAX_RIGHTS_PER_MEMBER} access rights on its services, the most a member may hold`);
    }
    let id: number;
    try {
      id = this.core.mutate(actor, 'right.add', formatServiceId(service), { subject: subjectText, method, path, origin }, () =>
        Number(this.stmt.insertRight.run(serviceRow, subsystemRow, groupRow, localGroupRow, method, path, this.core.clock(), origin).lastInsertRowid),
      );
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('right', `the right of ${subjectText} to ${method} ${path} on ${formatServiceId(service)}`);
      throw err;
    }
    return this.listRights().find((r) => r.id === id)!;
  }

  removeRight(actor: string, id: number): void {
    const right = this.listRights().find((r) => r.id === id);
    if (!right) throw notFound('id', `access right ${id}`);
    this.core.mutate(actor, 'right.remove', right.service, { subject: right.subject, method: right.method, path: right.path }, () => this.stmt.removeRight.run(id));
  }

  /** How many rights the member owning `service` holds on all its services. */
  rightsOfMember(service: ServiceId): number {
    return (this.stmt.rightsOfMember.get(service.memberClass, service.memberCode) as { n: number }).n;
  }

  /** The right of `subject` to `method path` on `service`, if there is one. */
  findRight(subject: string, service: string, method: string, path: string): AccessRightRecord | undefined {
    return this.listRights().find((r) => r.subject === subject && r.service === service && r.method === method && r.path === path);
  }

  listRights(): AccessRightRecord[] {
    const i = this.core.instance;
    return (this.stmt.rights.all() as Array<Record<string, string | number | null>>).map((r) => ({
      id: r.id as number,
      ...subjectOf(i, r),
      service: `${i}/${r.p_class}/${r.p_code}/${r.p_sub}/${r.service_code}`,
      method: r.method as MethodPattern,
      path: r.path as string,
      origin: r.origin as string,
    }));
  }
}

/** The right's subject as the configuration names it: a subsystem, `INSTANCE/GROUP` or a local group's full id. */
function subjectOf(instance: string, r: Record<string, string | number | null>): { subject: string; subjectType: SubjectType } {
  if (r.group_code) return { subject: `${instance}/${r.group_code}`, subjectType: 'GLOBALGROUP' };
  if (r.local_code) return { subject: `${instance}/${r.l_class}/${r.l_code}/${r.l_sub}/${r.local_code}`, subjectType: 'LOCALGROUP' };
  return { subject: `${instance}/${r.c_class}/${r.c_code}/${r.c_sub}`, subjectType: 'SUBSYSTEM' };
}
