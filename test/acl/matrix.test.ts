import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkMatrix, loadMatrix, MatrixError, topologyGateways } from '../../sim/acl/matrix.js';
import { tempDir } from '../support/tmp.js';

const CLIENT = 'CAMDX/COM/DEMOBANK/ONBOARDING';
const SERVICE = 'CAMDX/GOV/MOI/KYC/kyc';
const one = (extra: Record<string, unknown> = {}) => ({ client: CLIENT, service: SERVICE, method: 'POST', path: '/api/2.0/kyc/info', expect: 'allow', ...extra });

/** The field and reason a bad matrix is refused with. */
function refusal(raw: unknown, options?: Parameters<typeof checkMatrix>[1]): { field: string; reason: string } {
  try {
    checkMatrix(raw, options);
  } catch (err) {
    if (err instanceof MatrixError) return { field: err.field, reason: err.reason };
    throw err;
  }
  throw new Error('the matrix was accepted');
}

describe('checkMatrix', () => {
  it('applies defaults: a JSON body only for methods with bodies, the topology’s gateways, names from the call', () => {
    const m = checkMatrix({
      cases: [one(), one({ method: 'get' }), one({ method: 'PUT', body: { id: 1 } }), one({ method: 'DELETE', body: 'x' }), one({ name: 'named' })],
    });
    expect(m.cases.map((c) => [c.method, c.body])).toEqual([
      ['POST', {}],
      ['GET', undefined],
      ['PUT', { id: 1 }],
      ['DELETE', 'x'],
      ['POST', {}],
    ]);
    expect(m.cases.map((c) => c.index)).toEqual([0, 1, 2, 3, 4]);
    expect(m.cases[0]).toMatchObject({ gateway: topologyGateways()['CAMDX/COM/DEMOBANK'], timeoutMs: 10_000, headers: {}, name: `${CLIENT} → POST ${SERVICE} /api/2.0/kyc/info` });
    expect(m.cases[4]!.name).toBe('named');
  });

  it('takes defaults from the matrix, and gateways from the topology ← the matrix ← --gateway', () => {
    const raw = {
      gateways: { 'CAMDX/COM/DEMOBANK': 'http://127.0.0.1:1/', 'CAMDX/COM/OTHERBANK': 'http://127.0.0.1:2' },
      defaults: { body: { q: 1 }, headers: { 'X-Trace': 'a' }, timeoutMs: 500 },
      cases: [one(), one({ client: 'CAMDX/COM/OTHERBANK/APP', headers: { 'X-Trace': 'b' }, timeoutMs: 700 }), one({ client: 'CAMDX/GOV/MOC/BIZREG' })],
    };
    const m = checkMatrix(raw);
    expect(m.cases.map((c) => [c.gateway, c.body, c.headers, c.timeoutMs])).toEqual([
      ['http://127.0.0.1:1', { q: 1 }, { 'X-Trace': 'a' }, 500],
      ['http://127.0.0.1:2', { q: 1 }, { 'X-Trace': 'b' }, 700],
      [topologyGateways()['CAMDX/GOV/MOC'], { q: 1 }, { 'X-Trace': 'a' }, 500],
    ]);
    const overridden = checkMatrix(raw, { gateways: { 'CAMDX/COM/DEMOBANK': 'http://127.0.0.1:3' }, timeoutMs: 99 });
    expect(overridden.cases.map((c) => [c.gateway, c.timeoutMs])[0]).toEqual(['http://127.0.0.1:3', 99]);
  });

  it.each([
    ['an unknown field (a typo) before the missing one', { cases: [{ ...one(), expect: undefined, expected: 'deny' }] }, 'cases.0', "unknown field 'expected'"],
    ['a missing field', { cases: [{ ...one(), method: undefined }] }, 'cases.0.method', 'is required'],
    ['a bad expectation', { cases: [one({ expect: 'maybe' })] }, 'cases.0.expect', "must be 'allow' or 'deny'"],
    ['a bad method', { cases: [one(), one({ method: 'FETCH' })] }, 'cases.1.method', 'must be one of GET, POST'],
    ['a bad client identifier', { cases: [one({ client: 'CAMDX/COM/DEMO;BANK/ONBOARDING' })] }, 'cases.0.client', "client code contains character U+003B ';'"],
    ['a service without its code', { cases: [one({ service: 'CAMDX/GOV/MOI/KYC' })] }, 'cases.0.service', 'has 4 parts; expected INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE'],
    ['a relative path', { cases: [one({ path: 'api' })] }, 'cases.0.path', "must start with '/'"],
    ['a bad gateway member', { gateways: { 'CAMDX/COM': 'http://x' }, cases: [one()] }, 'gateways.CAMDX/COM', 'has 2 parts'],
    ['a gateway that is not an HTTP URL', { gateways: { 'CAMDX/COM/X': 'ftp://x' }, cases: [one()] }, 'gateways.CAMDX/COM/X', 'must be an http:// or https:// URL'],
    ['X-Road-Client as a header', { defaults: { headers: { 'x-road-client': 'a' } }, cases: [one()] }, 'defaults.headers.x-road-client', 'set by the runner'],
    ['no cases', { cases: [] }, 'cases', 'the matrix has no cases'],
    ['an empty file', null, '(root)', 'the matrix is empty'],
    ['a client whose member has no gateway', { cases: [one(), one({ client: 'CAMDX/COM/NOBANK/APP' })] }, 'cases.1.client', 'no consumer gateway for member CAMDX/COM/NOBANK'],
  ])('refuses %s, naming the field', (_what, raw, field, reason) => {
    const r = refusal(raw);
    expect(r.field).toBe(field);
    expect(r.reason).toContain(reason);
  });

  it('refuses a bad --gateway override by its option', () => {
    expect(refusal({ cases: [one()] }, { gateways: { 'CAMDX/COM/DEMOBANK': 'not a url' } })).toMatchObject({ field: '--gateway CAMDX/COM/DEMOBANK' });
    expect(refusal({ cases: [one()] }, { gateways: { DEMOBANK: 'http://x' } }).reason).toContain('has 1 parts');
  });
});

describe('loadMatrix', () => {
  const dir = tempDir('camdx-acl-');
  afterAll(() => dir.cleanup());

  it('reports unreadable files and invalid YAML as (file)', () => {
    expect(() => loadMatrix(join(dir.path, 'absent.yaml'))).toThrow(/^\(file\): cannot read .*absent\.yaml: ENOENT/);
    const bad = join(dir.path, 'bad.yaml');
    writeFileSync(bad, 'cases: [\n  - {client: }\n');
    expect(() => loadMatrix(bad)).toThrow(/^\(file\): not valid YAML/);
  });
});
