import { describe, expect, it } from 'vitest';
import { MAX_RIGHTS_PER_MEMBER } from '../../central/registry/access.js';
import { RegistryError } from '../../central/registry/errors.js';
import { Registry } from '../../central/registry/registry.js';
import { parseMemberId, parseServiceId, parseSubsystemId } from '../../protocol/identifiers.js';

/** Issue 20: a member's services hold at most 1,000 rights; each right keeps its origin. */
describe('access rights per member', () => {
  it('refuses the 1,001st right with limit, changing nothing; the origin is kept', () => {
    const registry = new Registry(':memory:', 'CAMDX', ['GOV', 'COM']);
    registry.members.add('t', parseMemberId('CAMDX/GOV/MOI'), 'Ministry of Interior');
    registry.members.add('t', parseMemberId('CAMDX/COM/BANK'), 'Bank');
    registry.members.ensureSubsystem('t', parseSubsystemId('CAMDX/GOV/MOI/KYC'));
    registry.members.ensureSubsystem('t', parseSubsystemId('CAMDX/COM/BANK/APP'));
    const service = parseServiceId('CAMDX/GOV/MOI/KYC/echo');
    registry.services.add('t', service, { endpoints: [{ method: '*', path: '/**' }], openApi: null });
    const subject = { type: 'SUBSYSTEM', id: parseSubsystemId('CAMDX/COM/BANK/APP') } as const;
    for (let i = 0; i < MAX_RIGHTS_PER_MEMBER; i++) registry.access.addRight('alice', subject, service, 'GET', `/items/${i}`, i === 0 ? 'request:7' : undefined);
    expect(registry.access.listRights()[0]!.origin).toBe('request:7');
    expect(registry.access.listRights()[1]!.origin).toBe('central:alice');
    let refusal: unknown;
    try {
      registry.access.addRight('alice', subject, service, 'GET', '/items/last');
    } catch (err) {
      refusal = err;
    }
    expect(refusal).toBeInstanceOf(RegistryError);
    expect((refusal as RegistryError).kind).toBe('limit');
    expect((refusal as Error).message).toMatch(/already has 1000 access rights/);
    expect(registry.access.listRights()).toHaveLength(MAX_RIGHTS_PER_MEMBER);
  });
});
