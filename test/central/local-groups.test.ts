import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../common/sqlite.js';
import { buildGlobalConf } from '../../central/globalconf/snapshot.js';
import { MAX_LOCAL_GROUPS_PER_MEMBER } from '../../central/registry/local-groups.js';
import { Registry } from '../../central/registry/registry.js';
import { REGISTRY_MIGRATIONS } from '../../central/registry/schema.js';
import { DEFAULT_CENTRAL_SETTINGS } from '../../central/settings.js';
import { parseLocalGroupId, parseMemberId, parseServiceId, parseSubsystemId } from '../../protocol/identifiers.js';
import { tempDir } from '../support/tmp.js';

/** Issue 20: local groups (LOCALGROUP) in central's registry and the configuration it publishes. */
function registry(path = ':memory:') {
  const r = new Registry(path, 'CAMDX', ['GOV', 'COM']);
  if (r.members.list().length === 0) {
    r.members.add('t', parseMemberId('CAMDX/GOV/MOI'), 'Ministry of Interior');
    r.members.add('t', parseMemberId('CAMDX/COM/BANK'), 'Bank');
    for (const s of ['CAMDX/GOV/MOI/KYC', 'CAMDX/GOV/MOI/CARDS', 'CAMDX/COM/BANK/APP']) r.members.ensureSubsystem('t', parseSubsystemId(s));
    r.services.add('t', parseServiceId('CAMDX/GOV/MOI/KYC/echo'), { endpoints: [{ method: '*', path: '/**' }], openApi: null });
    r.services.add('t', parseServiceId('CAMDX/GOV/MOI/CARDS/cards'), { endpoints: [{ method: '*', path: '/**' }], openApi: null });
  }
  return r;
}
const GROUP = parseLocalGroupId('CAMDX/GOV/MOI/KYC/partners');
const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err as Error & { kind?: string };
  }
  throw new Error('expected a refusal');
};

describe('local groups in the registry', () => {
  it("are published with their members; a right names one on its own subsystem's services only", () => {
    const r = registry();
    r.localGroups.add('alice', GROUP, 'Partner banks', 'request:3');
    r.localGroups.addMember('alice', GROUP, parseSubsystemId('CAMDX/COM/BANK/APP'));
    r.access.addRight('alice', { type: 'LOCALGROUP', id: GROUP }, parseServiceId('CAMDX/GOV/MOI/KYC/echo'), 'GET', '/items/*');
    const conf = buildGlobalConf(r, { ...DEFAULT_CENTRAL_SETTINGS, instance: 'CAMDX' }, 1, Date.now());
    expect(conf.localGroups).toEqual([{ id: 'CAMDX/GOV/MOI/KYC/partners', description: 'Partner banks', members: ['CAMDX/COM/BANK/APP'], origin: 'request:3' }]);
    expect(conf.accessRights).toContainEqual(expect.objectContaining({ subject: 'CAMDX/GOV/MOI/KYC/partners', subjectType: 'LOCALGROUP', service: 'CAMDX/GOV/MOI/KYC/echo', method: 'GET' }));
    const foreign = refusal(() => r.access.addRight('alice', { type: 'LOCALGROUP', id: GROUP }, parseServiceId('CAMDX/GOV/MOI/CARDS/cards')));
    expect(foreign.kind).toBe('invalid');
    expect(foreign.message).toMatch(/only on that subsystem's services/);
    expect(refusal(() => r.localGroups.remove('alice', GROUP)).kind, 'named in a right').toBe('in-use');
    expect(r.localGroups.list()[0]!.origin).toBe('request:3');
  });

  it(`refuses a member's ${MAX_LOCAL_GROUPS_PER_MEMBER + 1}st group with limit, changing nothing`, () => {
    const r = registry();
    for (let i = 0; i < MAX_LOCAL_GROUPS_PER_MEMBER; i++) r.localGroups.add('t', parseLocalGroupId(`CAMDX/GOV/MOI/${i % 2 ? 'KYC' : 'CARDS'}/g${i}`), '');
    expect(refusal(() => r.localGroups.add('t', parseLocalGroupId('CAMDX/GOV/MOI/KYC/last'), '')).kind).toBe('limit');
    expect(r.localGroups.list()).toHaveLength(MAX_LOCAL_GROUPS_PER_MEMBER);
    r.localGroups.add('t', parseLocalGroupId('CAMDX/COM/BANK/APP/friends'), '');
  });

  it('a registry of schema 6 keeps its rights when it moves to local groups (7)', () => {
    const dir = tempDir('localgroups-');
    const v6 = openDatabase(join(dir.path, 'v6.db'), REGISTRY_MIGRATIONS.slice(0, 6));
    v6.exec(`INSERT INTO members (id, member_class, member_code, name, created_at) VALUES (1, 'GOV', 'MOI', 'MOI', 0), (2, 'COM', 'BANK', 'Bank', 0);
             INSERT INTO subsystems (id, member_id, subsystem_code, created_at) VALUES (1, 1, 'KYC', 0), (2, 2, 'APP', 0);
             INSERT INTO services (id, subsystem_id, service_code, created_at) VALUES (1, 1, 'echo', 0);
             INSERT INTO access_rights (service_id, subsystem_id, method, path, created_at, origin) VALUES (1, 2, 'GET', '/**', 0, 'central:bob');`);
    const file = v6.name;
    v6.close();
    const moved = new Registry(file, 'CAMDX', ['GOV', 'COM']);
    expect(moved.access.listRights()).toEqual([expect.objectContaining({ subject: 'CAMDX/COM/BANK/APP', subjectType: 'SUBSYSTEM', method: 'GET', path: '/**', origin: 'central:bob' })]);
    moved.localGroups.add('t', GROUP, '');
    moved.access.addRight('t', { type: 'LOCALGROUP', id: GROUP }, parseServiceId('CAMDX/GOV/MOI/KYC/echo'));
    expect(refusal(() => moved.access.addRight('t', { type: 'LOCALGROUP', id: GROUP }, parseServiceId('CAMDX/GOV/MOI/KYC/echo'))).kind, 'the same right twice').toBe('conflict');
    moved.close();
    dir.cleanup();
  });
});
