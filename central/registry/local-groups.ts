import { checkPart, formatLocalGroupId, formatMemberId, formatSubsystemId, type LocalGroupId, type MemberId, type SubsystemId } from '../../protocol/identifiers.js';
import { conflict, inUse, notFound, RegistryError } from './errors.js';
import { isUniqueViolation, type RegistryCore } from './core.js';

/** Local groups one member may hold on all its subsystems at most (the configuration stays bounded). */
export const MAX_LOCAL_GROUPS_PER_MEMBER = 100;
/** Members one local group may hold at most. */
export const MAX_LOCAL_GROUP_MEMBERS = 1000;

export interface LocalGroupRecord {
  /** INSTANCE/CLASS/MEMBER/SUBSYSTEM/GROUPCODE: the owner subsystem and the group's code. */
  readonly id: string;
  readonly owner: string;
  readonly code: string;
  readonly description: string;
  readonly members: readonly string[];
  /** `central:<user>`, or `request:<id>` for a group its provider made with a signed localGroupAdd. */
  readonly origin: string;
}

type GroupRow = { id: number; code: string; description: string; origin: string; m_class: string; m_code: string; s_code: string };

/**
 * Local groups (X-Road's LOCALGROUP, ug-ss §4.4): a provider subsystem's own named set of
 * subsystems, a subject only of rights on that subsystem's services. Unlike a global group it
 * belongs to its subsystem's member, who changes it with signed requests.
 */
export class LocalGroups {
  private readonly stmt;

  constructor(private readonly core: RegistryCore) {
    const db = core.db;
    const select = `SELECT g.id, g.code, g.description, g.origin, m.member_class AS m_class, m.member_code AS m_code, s.subsystem_code AS s_code
      FROM local_groups g JOIN subsystems s ON s.id = g.subsystem_id JOIN members m ON m.id = s.member_id`;
    this.stmt = {
      insert: db.prepare('INSERT INTO local_groups (subsystem_id, code, description, origin, created_at) VALUES (?, ?, ?, ?, ?)'),
      remove: db.prepare('DELETE FROM local_groups WHERE id = ?'),
      row: db.prepare('SELECT id FROM local_groups WHERE subsystem_id = ? AND code = ?'),
      all: db.prepare(`${select} ORDER BY m.member_class, m.member_code, s.subsystem_code, g.code`),
      members: db.prepare(
        `SELECT m.member_class, m.member_code, s.subsystem_code FROM local_group_members g JOIN subsystems s ON s.id = g.subsystem_id
         JOIN members m ON m.id = s.member_id WHERE g.group_id = ? ORDER BY m.member_class, m.member_code, s.subsystem_code`,
      ),
      ofMember: db.prepare('SELECT COUNT(*) AS n FROM local_groups g JOIN subsystems s ON s.id = g.subsystem_id JOIN members m ON m.id = s.member_id WHERE m.member_class = ? AND m.member_code = ?'),
      memberCount: db.prepare('SELECT COUNT(*) AS n FROM local_group_members WHERE group_id = ?'),
      uses: db.prepare('SELECT (SELECT COUNT(*) FROM access_rights WHERE local_group_id = @id) AS rights'),
      insertMember: db.prepare('INSERT INTO local_group_members (group_id, subsystem_id) VALUES (?, ?)'),
      removeMember: db.prepare('DELETE FROM local_group_members WHERE group_id = ? AND subsystem_id = ?'),
      removeMembers: db.prepare('DELETE FROM local_group_members WHERE group_id = ?'),
      hasMember: db.prepare('SELECT 1 FROM local_group_members WHERE group_id = ? AND subsystem_id = ?'),
    };
  }

  /** The group's row, or not-found naming it. */
  row(id: LocalGroupId, field = 'group'): number {
    const owner = this.core.subsystemRow(id, field);
    const row = this.stmt.row.get(owner, id.groupCode) as { id: number } | undefined;
    if (!row) throw notFound(field, `local group ${formatLocalGroupId(id)}`);
    return row.id;
  }

  find(id: LocalGroupId): LocalGroupRecord | undefined {
    return this.list().find((g) => g.id === formatLocalGroupId(id));
  }

  add(actor: string, id: LocalGroupId, description: string, origin = `central:${actor}`): LocalGroupRecord {
    checkPart(id.groupCode, 'group code');
    const owner = this.core.subsystemRow(id, 'owner');
    if (this.ofMember(id) >= MAX_LOCAL_GROUPS_PER_MEMBER) {
      throw new RegistryError('limit', 'group', `member ${formatMemberId(id)} already has ${MAX_LOCAL_GROUPS_PER_MEMBER} local groups, the most a member may hold`);
    }
    try {
      this.core.mutate(actor, 'localgroup.add', formatLocalGroupId(id), { description, origin }, () => this.stmt.insert.run(owner, id.groupCode, description, origin, this.core.clock()));
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('group', `local group ${formatLocalGroupId(id)}`);
      throw err;
    }
    return this.find(id)!;
  }

  /** Removes the group and its memberships; refused while a right names it (revoke those first). */
  remove(actor: string, id: LocalGroupId): void {
    const row = this.row(id);
    const use = this.stmt.uses.get({ id: row }) as { rights: number };
    if (use.rights) throw inUse('group', `local group ${formatLocalGroupId(id)}`, [`${use.rights} access right(s)`]);
    this.core.mutate(actor, 'localgroup.remove', formatLocalGroupId(id), undefined, () => {
      this.stmt.removeMembers.run(row);
      this.stmt.remove.run(row);
    });
  }

  addMember(actor: string, id: LocalGroupId, member: SubsystemId): void {
    const group = this.row(id);
    const subsystem = this.core.subsystemRow(member, 'member');
    if ((this.stmt.memberCount.get(group) as { n: number }).n >= MAX_LOCAL_GROUP_MEMBERS) {
      throw new RegistryError('limit', 'member', `local group ${formatLocalGroupId(id)} already has ${MAX_LOCAL_GROUP_MEMBERS} members, the most a group may hold`);
    }
    try {
      this.core.mutate(actor, 'localgroup.member.add', formatLocalGroupId(id), { member: formatSubsystemId(member) }, () => this.stmt.insertMember.run(group, subsystem));
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('member', `${formatSubsystemId(member)} in local group ${formatLocalGroupId(id)}`);
      throw err;
    }
  }

  removeMember(actor: string, id: LocalGroupId, member: SubsystemId): void {
    const group = this.row(id);
    const subsystem = this.core.subsystemRow(member, 'member');
    if (!this.stmt.hasMember.get(group, subsystem)) throw notFound('member', `${formatSubsystemId(member)} in local group ${formatLocalGroupId(id)}`);
    this.core.mutate(actor, 'localgroup.member.remove', formatLocalGroupId(id), { member: formatSubsystemId(member) }, () => this.stmt.removeMember.run(group, subsystem));
  }

  /** How many local groups `member` holds on all its subsystems. */
  ofMember(member: MemberId): number {
    return (this.stmt.ofMember.get(member.memberClass, member.memberCode) as { n: number }).n;
  }

  list(): LocalGroupRecord[] {
    const i = this.core.instance;
    return (this.stmt.all.all() as GroupRow[]).map((g) => {
      const owner = `${i}/${g.m_class}/${g.m_code}/${g.s_code}`;
      return {
        id: `${owner}/${g.code}`,
        owner,
        code: g.code,
        description: g.description,
        members: (this.stmt.members.all(g.id) as Array<{ member_class: string; member_code: string; subsystem_code: string }>).map(
          (m) => `${i}/${m.member_class}/${m.member_code}/${m.subsystem_code}`,
        ),
        origin: g.origin,
      };
    });
  }
}
