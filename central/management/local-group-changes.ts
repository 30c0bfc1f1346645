import { formatLocalGroupId, formatMemberId, formatSubsystemId, parseLocalGroupId, parseSubsystemId, type LocalGroupId, type SubsystemId } from '../../protocol/identifiers.js';
import type { LocalGroupRequest } from '../../protocol/management.js';
import { MAX_LOCAL_GROUPS_PER_MEMBER } from '../registry/local-groups.js';
import type { Registry } from '../registry/registry.js';
import type { ManagementRequestRecord } from '../registry/requests.js';
import { ManagementRejection } from './rejection.js';

export interface LocalGroupChange {
  readonly type: LocalGroupRequest['type'];
  readonly group: LocalGroupId;
  /** The subsystem joining or leaving (the member requests only). */
  readonly member?: SubsystemId;
}

/** What a recorded request keeps besides its subject (the group's id), to be checked and applied again on approval. */
export function localGroupDetail(request: LocalGroupRequest, requestedAt: string, member: SubsystemId | undefined): Record<string, string> {
  if (request.type === 'localGroupAdd') return { requestedAt, description: request.description };
  return member ? { requestedAt, member: formatSubsystemId(member) } : { requestedAt };
}

/**
 * Whether the change can be made to the registry as it is now: a new group is new and within its
 * member's limit; a removed group exists and no right names it; a member joins a group it is not in
 * (a registered subsystem), and leaves one it is in.
 */
export function checkLocalGroupChange(registry: Registry, change: LocalGroupChange): void {
  const id = formatLocalGroupId(change.group);
  const group = registry.localGroups.find(change.group);
  if (change.type === 'localGroupAdd') {
    if (group) throw new ManagementRejection('group-exists', `local group ${id} already exists`);
    if (registry.localGroups.ofMember(change.group) >= MAX_LOCAL_GROUPS_PER_MEMBER) {
      throw new ManagementRejection('limit', `${formatMemberId(change.group)} already has ${MAX_LOCAL_GROUPS_PER_MEMBER} local groups, the most a member may hold`);
    }
    return;
  }
  if (!group) throw new ManagementRejection('unknown-group', `local group ${id} does not exist`);
  if (change.type === 'localGroupRemove') {
    const rights = registry.access.listRights().filter((r) => r.subjectType === 'LOCALGROUP' && r.subject === id).length;
    if (rights) throw new ManagementRejection('group-in-use', `local group ${id} is named in ${rights} access right(s); revoke them first`);
    return;
  }
  const member = formatSubsystemId(change.member!);
  if (change.type === 'localGroupMemberAdd') {
    if (registry.core.findSubsystemRow(change.member!) === undefined) throw new ManagementRejection('unknown-subsystem', `subsystem ${member} is not registered`);
    if (group.members.includes(member)) throw new ManagementRejection('group-member-exists', `${member} is already in local group ${id}`);
  } else if (!group.members.includes(member)) {
    throw new ManagementRejection('unknown-group-member', `${member} is not in local group ${id}`);
  }
}

/** Applies an approved local-group request, checked again: another change may have come first while it waited. */
export function applyLocalGroupChange(registry: Registry, actor: string, req: ManagementRequestRecord): void {
  const group = parseLocalGroupId(req.subject);
  const member = req.detail.member === undefined ? undefined : parseSubsystemId(req.detail.member);
  const type = req.type as LocalGroupRequest['type'];
  checkLocalGroupChange(registry, { type, group, ...(member ? { member } : {}) });
  if (type === 'localGroupAdd') registry.localGroups.add(actor, group, req.detail.description ?? '', `request:${req.id}`);
  else if (type === 'localGroupRemove') registry.localGroups.remove(actor, group);
  else if (type === 'localGroupMemberAdd') registry.localGroups.addMember(actor, group, member!);
  else registry.localGroups.removeMember(actor, group, member!);
}
