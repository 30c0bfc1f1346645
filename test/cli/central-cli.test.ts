import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCentral, type TestCentral } from '../support/central.js';
import { run } from '../support/run.js';

const BIN = join(import.meta.dirname, '../../bin/camdx.js');
let t: TestCentral;
const camdx = (...args: string[]) => run(process.execPath, [BIN, '--state-dir', t.stateDir, 'central', ...args]);
const json = async <T>(...args: string[]): Promise<T> => {
  const res = await camdx('--json', ...args);
  expect(res.code, res.stderr).toBe(0);
  return JSON.parse(res.stdout) as T;
};

beforeAll(async () => {
  t = await startTestCentral();
});
afterAll(() => t.close());

describe('camdx central', () => {
  it('manages members, subsystems, servers, services, rights and groups', async () => {
    const added = await camdx('member', 'add', 'CAMDX/GOV/MOI', '--name', 'Ministry of Interior');
    expect(added.code, added.stderr).toBe(0);
    // The token alone on stdout (`… > sign.token`), what happened on stderr.
    expect(added.stdout).toMatch(/^[A-Za-z0-9_-]{40,}\n$/);
    expect(added.stderr).toMatch(/^added member CAMDX\/GOV\/MOI\nsigning certificate enrolment token \(until \S+\) follows on stdout\n$/);
    expect((await camdx('subsystem', 'add', 'CAMDX/GOV/MOI/KYC')).code).toBe(0);
    const tokenFile = join(t.stateDir, 'auth.token');
    const server = await camdx('server', 'add', 'CAMDX/GOV/MOI/SS1', '--address', '127.0.0.1:5502', '--out', tokenFile);
    expect(server.stdout).toMatch(new RegExp(`^added security server CAMDX/GOV/MOI/SS1\nauthentication certificate enrolment token \\(until \\S+\\) written to ${tokenFile}\n$`));
    expect(readFileSync(tokenFile, 'utf8')).toMatch(/^[A-Za-z0-9_-]{40,}\n$/);
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    expect((await camdx('client', 'add', 'CAMDX/GOV/MOI/SS1', 'CAMDX/GOV/MOI/KYC')).code).toBe(0);
    const openapi = join(t.stateDir, 'kyc.json');
    writeFileSync(openapi, '{"openapi":"3.0.3","info":{"title":"KYC","version":"2.0"},"paths":{}}');
    const service = await camdx('service', 'add', 'CAMDX/GOV/MOI/KYC/kyc', '--endpoint', 'POST /api/2.0/kyc/info', '--endpoint', 'POST /api/2.0/kyc/ocr-idcard', '--openapi', openapi);
    expect(service.code, service.stderr).toBe(0);
    expect((await camdx('group', 'add', 'ministries', '--description', 'Government ministries')).code).toBe(0);
    expect((await camdx('group', 'add-member', 'ministries', 'CAMDX/GOV/MOI/KYC')).code).toBe(0);
    const right = await camdx('right', 'add', 'CAMDX/ministries', 'CAMDX/GOV/MOI/KYC/kyc', '--method', 'POST', '--path', '/api/2.0/kyc/*');
    expect(right.stdout).toMatch(/added access right #\d+: CAMDX\/ministries → CAMDX\/GOV\/MOI\/KYC\/kyc POST \/api\/2\.0\/kyc\/\*/);

    const members = await json<Array<{ id: string; subsystems: string[] }>>('member', 'list');
    expect(members).toEqual([expect.objectContaining({ id: 'CAMDX/GOV/MOI', subsystems: ['KYC'] })]);
    const services = await json<Array<{ id: string; endpoints: unknown[]; openApi: string }>>('service', 'list');
    expect(services[0]).toMatchObject({ id: 'CAMDX/GOV/MOI/KYC/kyc', openApi: expect.stringContaining('3.0.3') });
    expect((await camdx('right', 'list', '--service', 'CAMDX/GOV/MOI/KYC/kyc')).stdout).toMatch(/CAMDX\/ministries → CAMDX\/GOV\/MOI\/KYC\/kyc {2}POST/);
    expect((await camdx('server', 'list')).stdout).toMatch(/CAMDX\/GOV\/MOI\/SS1 {2}127\.0\.0\.1:5502 {2}auth certs: 0 {2}clients: CAMDX\/GOV\/MOI\/KYC/);
    expect((await camdx('audit')).stdout).toMatch(/right\.add/);
  });

  it('exits 1 with the reason, the status and the field when the API refuses', async () => {
    const bad = await camdx('member', 'add', 'CAMDX/GOV/M;OI', '--name', 'x');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/contains character U\+003B ';'.*\(HTTP 400 invalid, field id code\)/);
    const inUse = await camdx('member', 'remove', 'CAMDX/GOV/MOI');
    expect(inUse.code).toBe(1);
    expect(inUse.stderr).toMatch(/cannot be removed while it has 1 subsystem\(s\), 1 security server\(s\).*HTTP 409 in-use/);
    const endpoint = await camdx('service', 'add', 'CAMDX/GOV/MOI/KYC/x', '--endpoint', 'nonsense');
    expect(endpoint.code).not.toBe(0);
    expect(endpoint.stderr).toMatch(/must look like 'POST \/path/);
  });

  it('prints the configuration anchor', async () => {
    const res = await camdx('anchor');
    expect(JSON.parse(res.stdout)).toMatchObject({ format: 'camdx-anchor/1', instance: 'CAMDX', centralUrl: t.running.url });
  });
});
