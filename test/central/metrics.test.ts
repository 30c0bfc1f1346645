import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../certs/keys.js';
import { parseSamples, type Sample } from '../../central/dashboard/prom-text.js';
import { managementRequestType, routeGroup } from '../../central/metrics.js';
import { signManagementRequest } from '../../protocol/management.js';
import { startTestCentral, type TestCentral } from '../support/central.js';
import { promtoolCheckMetrics } from '../support/prometheus.js';
import { requireTool } from '../support/tools.js';

let t: TestCentral;
beforeAll(async () => {
  t = await startTestCentral();
});
afterAll(() => t?.close());

async function scrape(): Promise<{ text: string; samples: Sample[] }> {
  // No Authorization header: Prometheus scrapes without credentials.
  const res = await fetch(`${t.running.consoleUrl}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  const names = new Set([...text.matchAll(/^(camdx_central_\w+)/gm)].map((m) => m[1]!));
  return { text, samples: parseSamples(text, names) };
}
const find = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

describe('central /metrics', () => {
  it('reports the global configuration as version, signing and expiry time', async () => {
    const { samples } = await scrape();
    const version = find(samples, 'camdx_central_globalconf_version');
    const generated = find(samples, 'camdx_central_globalconf_generated_at_seconds')!;
    const expires = find(samples, 'camdx_central_globalconf_expires_at_seconds')!;
    expect(version).toBe(t.running.publisher.current.version);
    expect(expires - generated).toBe(t.running.settings.confExpirySeconds);
    expect(Math.abs(generated - Date.now() / 1000)).toBeLessThan(t.running.settings.confExpirySeconds);
    expect(expires * 1000).toBe(t.running.publisher.current.expiresAt);
  });

  it('counts registry entries as they are added', async () => {
    const api = t.admin;
    await api.call('POST', '/members', { id: 'CAMDX/GOV/MOI', name: 'Ministry of Interior' });
    await api.call('POST', '/subsystems', { id: 'CAMDX/GOV/MOI/KYC' });
    await api.call('POST', '/subsystems', { id: 'CAMDX/GOV/MOI/OTHER' });
    await api.call('POST', '/servers', { id: 'CAMDX/GOV/MOI/SS1', address: '127.0.0.1:5502' });
    await api.call('POST', '/services', { id: 'CAMDX/GOV/MOI/KYC/kyc', endpoints: [{ method: 'POST', path: '/kyc' }] });
    await api.call('POST', '/access-rights', { subject: 'CAMDX/GOV/MOI/OTHER', service: 'CAMDX/GOV/MOI/KYC/kyc' });
    const { samples } = await scrape();
    const entries = Object.fromEntries(samples.filter((s) => s.name === 'camdx_central_registry_entries').map((s) => [s.labels.kind, s.value]));
    expect(entries).toEqual({ members: 1, subsystems: 2, servers: 1, services: 1, access_rights: 1, global_groups: 0, approved_cas: 1, approved_tsas: 1 });
  });

  it('counts configuration downloads, full and not modified', async () => {
    const before = await scrape();
    const first = await fetch(`${t.running.url}/globalconf`);
    await first.text();
    const again = await fetch(`${t.running.url}/globalconf`, { headers: { 'if-none-match': first.headers.get('etag')! } });
    expect(again.status).toBe(304);
    const after = await scrape();
    for (const result of ['full', 'not_modified']) {
      expect(find(after.samples, 'camdx_central_globalconf_downloads_total', { result })).toBe(find(before.samples, 'camdx_central_globalconf_downloads_total', { result })! + 1);
    }
  });

  it('counts management requests by type and outcome, and HTTP requests by route group and status', async () => {
    // A well-formed registerClient request from a member that does not exist: refused as unknown-member.
    const envelope = signManagementRequest({ type: 'registerClient', instance: 'CAMDX', server: 'CAMDX/GOV/NOPE/SS1', client: 'CAMDX/GOV/NOPE/X' }, [{ role: 'owner', key: generateKeyPair('P-256').privateKey }]);
    const refused = await fetch(`${t.running.url}/management/requests`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(envelope) });
    expect(refused.status).toBe(404);
    const garbage = await fetch(`${t.running.url}/management/requests`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"request":"!!"}' });
    expect(garbage.status).toBe(400);
    expect((await fetch(`${t.running.consoleUrl}/api/members`)).status).toBe(401);
    expect((await fetch(`${t.running.consoleUrl}/api/no/such/thing?x=1`, { headers: { authorization: `Bearer ${t.adminToken}` } })).status).toBe(404);

    const { samples } = await scrape();
    expect(find(samples, 'camdx_central_management_requests_received_total', { type: 'registerClient', outcome: 'unknown-member' })).toBe(1);
    expect(find(samples, 'camdx_central_management_requests_received_total', { type: 'unknown', outcome: 'invalid-request' })).toBe(1);
    expect(find(samples, 'camdx_central_http_requests_total', { route: 'api/members', method: 'GET', status: '401' })).toBe(1);
    expect(find(samples, 'camdx_central_http_requests_total', { route: 'api/other', method: 'GET', status: '404' })).toBe(1);
    expect(find(samples, 'camdx_central_http_requests_total', { route: 'management', method: 'POST', status: '404' })).toBe(1);
    expect(find(samples, 'camdx_central_http_request_duration_seconds_count', { route: 'management' })).toBeGreaterThanOrEqual(2);
    // Nothing recorded: refused requests change no state.
    expect(await t.admin.call('GET', '/management-requests')).toEqual([]);
    expect(samples.filter((s) => s.name === 'camdx_central_management_requests' && s.value > 0)).toEqual([]);
  });

  it('follows Prometheus naming conventions (promtool check metrics), with every name prefixed camdx_central_', requireTool('promtool'), async () => {
    const { text } = await scrape();
    const check = promtoolCheckMetrics(text);
    expect(check.code, check.output).toBe(0);
    const names = [...text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]!);
    expect(names.length).toBeGreaterThan(10);
    for (const name of names) expect(name).toMatch(/^camdx_central_/);
    // Its own registry: none of prom-client's global default metrics.
    expect(text).not.toMatch(/^nodejs_|^process_cpu/m);
  });
});

describe('metric labels stay bounded', () => {
  it.each([
    ['/globalconf', 'globalconf'],
    ['/management/requests', 'management'],
    ['/api/servers/CAMDX/GOV/MOI/SS1?x=1', 'api/servers'],
    ['/api/access-rights/7', 'api/access-rights'],
    ['/api/whatever-someone-sends', 'api/other'],
    ['/dashboard/data', 'dashboard'],
    ['/metrics', 'metrics'],
    ['/../../etc/passwd', 'other'],
    ['/', 'other'],
  ])('route of %s is %s', (url, group) => expect(routeGroup(url)).toBe(group));

  it('names a management request type only when it is one of the known types', () => {
    const body = (req: unknown) => ({ request: Buffer.from(JSON.stringify(req)).toString('base64url') });
    expect(managementRequestType(body({ type: 'registerAuthCert' }))).toBe('registerAuthCert');
    expect(managementRequestType(body({ type: 'dropTables' }))).toBe('unknown');
    expect(managementRequestType({ request: 'not base64 json' })).toBe('unknown');
    expect(managementRequestType(null)).toBe('unknown');
    expect(managementRequestType('x')).toBe('unknown');
  });
});
