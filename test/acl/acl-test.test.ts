import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { freePort } from '../../common/ports.js';
import { CLIENT, SERVICE, startTestNetwork, type TestNetwork } from '../support/network.js';
import { run } from '../support/run.js';
import { tempDir } from '../support/tmp.js';
import { parseJUnit } from './junit.js';

/**
 * `camdx acl-test` end to end: the CLI process sends each case through real gateway processes
 * (consumer DEMOBANK, provider MOI/KYC with the echo service; ONBOARDING may GET and POST
 * /echo/**, OTHER nothing) and the answers decide the verdicts.
 */

const BIN = join(import.meta.dirname, '../../bin/camdx.js');
const OTHER = 'CAMDX/COM/DEMOBANK/OTHER';
let n: TestNetwork;
const dir = tempDir('camdx-acl-');

beforeAll(async () => {
  n = await startTestNetwork();
}, 120_000);
afterAll(async () => {
  await n?.close();
  dir.cleanup();
});

const camdx = (...args: string[]) => run(process.execPath, [BIN, 'acl-test', ...args]);
let files = 0;
function matrixFile(matrix: unknown): string {
  const file = join(dir.path, `matrix-${++files}.yaml`);
  writeFileSync(file, typeof matrix === 'string' ? matrix : stringify(matrix));
  return file;
}

const CASES = [
  { name: 'ONBOARDING may POST to echo', client: CLIENT, service: SERVICE, method: 'POST', path: '/echo/acl-hello', expect: 'allow' },
  { name: 'ONBOARDING may GET echo', client: CLIENT, service: SERVICE, method: 'GET', path: '/echo/items/1?q=a', expect: 'allow' },
  { name: "the provider's own 404 still passed access control", client: CLIENT, service: SERVICE, method: 'POST', path: '/echo/missing', headers: { 'X-Echo-Status': '404' }, expect: 'allow' },
  { name: 'ONBOARDING may not PUT', client: CLIENT, service: SERVICE, method: 'PUT', path: '/echo/x', expect: 'deny' },
  { name: 'the admin endpoint exists but is not granted', client: CLIENT, service: SERVICE, method: 'GET', path: '/admin/x', expect: 'deny' },
  { name: 'OTHER has no right at all', client: OTHER, service: SERVICE, method: 'POST', path: '/echo/acl-hello', expect: 'deny' },
];

describe('camdx acl-test through real gateways', () => {
  it('passes a correct matrix: exit 0, the table and the summary', async () => {
    const res = await camdx(matrixFile({ gateways: { 'CAMDX/COM/DEMOBANK': n.consumer.consumerUrl }, cases: CASES }));
    expect(res.code, res.stdout + res.stderr).toBe(0);
    const lines = res.stdout.split('\n');
    expect(lines[0]).toMatch(/^# {2}expect {2}got {4}result {2}answer +case$/);
    expect(lines[1]).toMatch(/^1 {2}allow {3}allow {2}pass {4}HTTP 200 +ONBOARDING may POST to echo: CAMDX\/COM\/DEMOBANK\/ONBOARDING → POST CAMDX\/GOV\/MOI\/KYC\/echo \/echo\/acl-hello$/);
    expect(lines[3]).toMatch(/^3 {2}allow {3}allow {2}pass {4}HTTP 404 /);
    expect(lines[4]).toMatch(/^4 {2}deny {4}deny {3}pass {4}HTTP 500 Server\.ServerProxy\.AccessDenied /);
    expect(lines[6]).toMatch(/^6 {2}deny {4}deny {3}pass .*OTHER has no right at all/);
    expect(res.stdout).not.toContain('failures:');
    expect(res.stdout.trimEnd().split('\n').at(-1)).toBe('6 cases: 6 passed, 0 failed');
    // The allowed POST reached the provider system with the small JSON body, as the client.
    const posted = n.echo.calls.find((c) => c.url === '/echo/acl-hello' && c.headers['x-road-client'] === CLIENT)!;
    expect(posted).toMatchObject({ method: 'POST', bodyBytes: 2, headers: expect.objectContaining({ 'content-type': 'application/json' }) });
    expect(n.echo.calls.some((c) => c.headers['x-road-client'] === OTHER)).toBe(false);
  });

  it('fails a flipped expectation and an unknown service: exit 1, the error type, and a JUnit report naming them', async () => {
    const cases = [...CASES.map((c) => (c.name === 'ONBOARDING may not PUT' ? { ...c, name: 'flipped: ONBOARDING may PUT', expect: 'allow' } : c))];
    cases.push({ name: 'a service that does not exist', client: CLIENT, service: 'CAMDX/GOV/MOI/KYC/nope', method: 'GET', path: '/x', expect: 'deny' });
    const junit = join(dir.path, 'report.xml');
    const res = await camdx(matrixFile({ gateways: { 'CAMDX/COM/DEMOBANK': n.consumer.consumerUrl }, cases }), '--junit', junit);
    expect(res.code, res.stdout + res.stderr).toBe(1);
    expect(res.stdout).toMatch(/^4 {2}allow {3}deny {3}FAIL {4}HTTP 500 Server\.ServerProxy\.AccessDenied +flipped/m);
    expect(res.stdout).toMatch(/^7 {2}deny {4}error {2}FAIL {4}HTTP 400 Client\.UnknownService +a service that does not exist/m);
    expect(res.stdout).toContain('expected deny, got error (HTTP 400 Client.UnknownService: service CAMDX/GOV/MOI/KYC/nope is not registered)');
    expect(res.stdout.trimEnd().split('\n').at(-1)).toBe('7 cases: 5 passed, 2 failed');

    const report = parseJUnit(readFileSync(junit, 'utf8'));
    expect(report.suites).toBe(1);
    expect(report.suite).toMatchObject({ tests: '7', failures: '2' });
    expect(report.testcases.map((t) => t.name)).toEqual(cases.map((c) => c.name));
    const failing = report.testcases.filter((t) => t.failure);
    expect(failing.map((t) => t.name)).toEqual(['flipped: ONBOARDING may PUT', 'a service that does not exist']);
    expect(failing[0]).toMatchObject({ classname: CLIENT, failure: { message: 'expected allow, got deny', type: 'Server.ServerProxy.AccessDenied', text: expect.stringContaining('has no access right to PUT (no endpoint) of') } });
    expect(failing[1]!.failure).toMatchObject({ message: 'expected deny, got error', type: 'Client.UnknownService' });
  });

  it('takes the gateway from --gateway and prints JSON', async () => {
    const res = await camdx(matrixFile({ cases: CASES.slice(0, 2) }), '--gateway', `CAMDX/COM/DEMOBANK=${n.consumer.consumerUrl}`, '--json');
    expect(res.code, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout) as { summary: unknown; results: Array<{ got: string; status: number }> };
    expect(out.summary).toEqual({ cases: 2, passed: 2, failed: 0 });
    expect(out.results.map((r) => [r.got, r.status])).toEqual([
      ['allow', 200],
      ['allow', 200],
    ]);
  });

  it('reports a gateway that is down or silent as an error, within the per-case timeout', async () => {
    // Accepts connections and never answers: only the runner's timeout ends the case.
    const sockets = new Set<Socket>();
    const silent = createServer((s) => sockets.add(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentPort = (silent.address() as AddressInfo).port;
    try {
      const down = `http://127.0.0.1:${await freePort()}`;
      const matrix = {
        gateways: { 'CAMDX/COM/DEMOBANK': down, 'CAMDX/COM/QUIET': `http://127.0.0.1:${silentPort}` },
        cases: [
          { client: CLIENT, service: SERVICE, method: 'GET', path: '/echo/x', expect: 'deny' },
          { client: 'CAMDX/COM/QUIET/APP', service: SERVICE, method: 'GET', path: '/echo/x', expect: 'deny' },
        ],
      };
      const started = Date.now();
      const res = await camdx(matrixFile(matrix), '--timeout', '500');
      expect(res.code).toBe(1);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(res.stdout).toContain(`expected deny, got error (cannot reach the consumer gateway ${down}: ECONNREFUSED)`);
      expect(res.stdout).toContain(`expected deny, got error (no answer from http://127.0.0.1:${silentPort} within 500 ms)`);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('refuses a malformed matrix or option with exit 2, naming the field', async () => {
    const typo = await camdx(matrixFile({ gateways: { 'CAMDX/COM/DEMOBANK': n.consumer.consumerUrl }, cases: [CASES[0], { ...CASES[1], expect: 'allowed' }] }));
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/^camdx: .*matrix-\d+\.yaml: cases\.1\.expect: must be 'allow' or 'deny'\n$/);
    expect(typo.stdout).toBe('');
    const unknownField = await camdx(matrixFile('cases:\n  - {client: CAMDX/COM/DEMOBANK/ONBOARDING, service: CAMDX/GOV/MOI/KYC/echo, method: GET, path: /x, expected: deny}\n'));
    expect(unknownField.code).toBe(2);
    expect(unknownField.stderr).toContain("cases.0: unknown field 'expected'");
    const badOption = await camdx(matrixFile({ cases: CASES }), '--gateway', 'CAMDX/COM/DEMOBANK');
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toContain('must look like MEMBER=URL');
    const missing = await camdx(join(dir.path, 'absent.yaml'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('(file): cannot read');
  });
});
