import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openDatabase } from '../../common/sqlite.js';
import { Registry } from '../../central/registry/registry.js';
import { REGISTRY_MIGRATIONS } from '../../central/registry/schema.js';
import { failure, startTestCentral, type TestCentral } from '../support/central.js';
import { run } from '../support/run.js';
import { tempDir } from '../support/tmp.js';

/** The monitoring address of security servers: registry, admin API, CLI. Never published. */
let t: TestCentral;
const SERVER = 'CAMDX/GOV/MOI/SS1';
const api = <T = unknown>(method: string, path: string, body?: unknown) => t.admin.call<T>(method, path, body);
type Server = { id: string; address: string; monitoringUrl: string | null };


/** The global configuration's payload, as gateways get it. */
async function globalConf(): Promise<{ version: number; securityServers: Array<Record<string, unknown>> }> {
  const jws = await (await fetch(`${t.running.url}/globalconf`)).text();
  return JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString('utf8'));
}

beforeAll(async () => {
  t = await startTestCentral();
  await api('POST', '/members', { id: 'CAMDX/GOV/MOI', name: 'Ministry of Interior' });
});
afterAll(() => t?.close());

describe('monitoringUrl through the admin API', () => {
  it('is accepted when a server is added, and kept out of the global configuration', async () => {
    const res = await api<{ server: Server }>('POST', '/servers', { id: SERVER, address: '127.0.0.1:5502', monitoringUrl: 'http://127.0.0.1:9082' });
    expect(res.server).toMatchObject({ id: SERVER, address: '127.0.0.1:5502', monitoringUrl: 'http://127.0.0.1:9082' });
    expect(await api('GET', `/servers/${SERVER}`)).toMatchObject({ monitoringUrl: 'http://127.0.0.1:9082' });
    const conf = await globalConf();
    expect(conf.securityServers).toEqual([{ id: SERVER, address: '127.0.0.1:5502', authCertHashes: [], clients: [] }]);
    expect(JSON.stringify(conf)).not.toContain('9082');
  });

  it('is set and cleared by PATCH without signing a new configuration version, and audited', async () => {
    const version = t.running.publisher.current.version;
    expect(await api('PATCH', `/servers/${SERVER}`, { monitoringUrl: 'https://gw-moi.example:9443/admin/' })).toMatchObject({ monitoringUrl: 'https://gw-moi.example:9443/admin/', address: '127.0.0.1:5502' });
    expect(await api('PATCH', `/servers/${SERVER}`, { monitoringUrl: null })).toMatchObject({ monitoringUrl: null });
    expect(t.running.publisher.current.version).toBe(version);
    const audit = await api<Array<{ action: string; target: string; detail: Record<string, unknown> }>>('GET', '/audit');
    expect(audit.filter((a) => a.action === 'server.monitoring-url').map((a) => a.detail)).toEqual([
      { monitoringUrl: 'http://127.0.0.1:9082' },
      { monitoringUrl: 'https://gw-moi.example:9443/admin/' },
      { monitoringUrl: null },
    ]);
  });

  it('still changes the address alone (a new configuration version), or both together', async () => {
    const version = t.running.publisher.current.version;
    expect(await api('PATCH', `/servers/${SERVER}`, { address: '127.0.0.1:5602' })).toMatchObject({ address: '127.0.0.1:5602', monitoringUrl: null });
    expect(t.running.publisher.current.version).toBeGreaterThan(version);
    expect((await globalConf()).securityServers[0]).toMatchObject({ address: '127.0.0.1:5602' });
    expect(await api('PATCH', `/servers/${SERVER}`, { address: '127.0.0.1:5502', monitoringUrl: 'http://127.0.0.1:9082' })).toMatchObject({ address: '127.0.0.1:5502', monitoringUrl: 'http://127.0.0.1:9082' });
  });

  it.each<[unknown, string, RegExp]>([
    ['ftp://127.0.0.1:9082', 'monitoringUrl', /must be http or https, not ftp/],
    ['127.0.0.1:9082', 'monitoringUrl', /must be http or https|not a URL/],
    ['not a url', 'monitoringUrl', /not a URL/],
    ['http://admin:secret@127.0.0.1:9082', 'monitoringUrl', /must not contain credentials/],
    ['http://127.0.0.1:9082/?token=x', 'monitoringUrl', /no query or fragment/],
    ['http://127.0.0.1:9082/#x', 'monitoringUrl', /no query or fragment/],
    [`http://h/${'a'.repeat(2100)}`, 'monitoringUrl', /2048/],
    [9082, 'monitoringUrl', /string/],
  ])('refuses monitoringUrl %j with 400 naming the field, changing nothing', async (monitoringUrl, field, message) => {
    const before = await api<Server>('GET', `/servers/${SERVER}`);
    const f = await failure(api('PATCH', `/servers/${SERVER}`, { monitoringUrl }));
    expect(f).toMatchObject({ status: 400, error: 'invalid', field });
    expect(f.message).toMatch(message);
    expect(f.message).not.toContain('secret');
    expect(await api('GET', `/servers/${SERVER}`)).toEqual(before);
  });

  it('refuses an empty PATCH, an unknown field, a bad address next to a good URL, and an unknown server', async () => {
    const before = await api<Server>('GET', `/servers/${SERVER}`);
    expect(await failure(api('PATCH', `/servers/${SERVER}`, {}))).toMatchObject({ status: 400, message: expect.stringMatching(/address, monitoringUrl/) });
    expect(await failure(api('PATCH', `/servers/${SERVER}`, { monitoring: 'http://x' }))).toMatchObject({ status: 400, field: '(body)' });
    expect(await failure(api('PATCH', `/servers/${SERVER}`, { address: 'nowhere', monitoringUrl: 'http://127.0.0.1:1' }))).toMatchObject({ status: 400, field: 'address' });
    expect(await api('GET', `/servers/${SERVER}`)).toEqual(before);
    expect(await failure(api('PATCH', '/servers/CAMDX/GOV/MOI/SS9', { monitoringUrl: 'http://127.0.0.1:1' }))).toMatchObject({ status: 404 });
  });

  it('checks monitoringUrl on POST before asking the PKI for an enrolment token', async () => {
    const enrol = vi.spyOn(t.pki.services.ra, 'enrol');
    try {
      const f = await failure(api('POST', '/servers', { id: 'CAMDX/GOV/MOI/SS2', address: '127.0.0.1:5503', monitoringUrl: 'gopher://x' }));
      expect(f).toMatchObject({ status: 400, field: 'monitoringUrl' });
      expect(enrol).not.toHaveBeenCalled();
      expect((await api<Server[]>('GET', '/servers')).map((s) => s.id)).toEqual([SERVER]);
    } finally {
      enrol.mockRestore();
    }
  });
});

describe('camdx central server … --monitoring-url', () => {
  const BIN = join(import.meta.dirname, '../../bin/camdx.js');
  const camdx = (...args: string[]) => run(process.execPath, [BIN, '--state-dir', t.stateDir, 'central', ...args]);

  it('adds a server with a monitoring address, sets and clears it later', async () => {
    const added = await camdx('server', 'add', 'CAMDX/GOV/MOI/SS3', '--address', '127.0.0.1:5504', '--monitoring-url', 'http://127.0.0.1:9084');
    expect(added.code, added.stderr).toBe(0);
    expect((await api<Server>('GET', '/servers/CAMDX/GOV/MOI/SS3')).monitoringUrl).toBe('http://127.0.0.1:9084');
    expect((await camdx('server', 'list')).stdout).toMatch(/CAMDX\/GOV\/MOI\/SS3 {2}127\.0\.0\.1:5504 .* monitored at http:\/\/127\.0\.0\.1:9084/);

    const set = await camdx('server', 'set-monitoring-url', 'CAMDX/GOV/MOI/SS3', 'http://127.0.0.1:9184');
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain('CAMDX/GOV/MOI/SS3 is monitored at http://127.0.0.1:9184');
    const cleared = await camdx('--json', 'server', 'set-monitoring-url', 'CAMDX/GOV/MOI/SS3', '--clear');
    expect(cleared.code, cleared.stderr).toBe(0);
    expect(JSON.parse(cleared.stdout)).toMatchObject({ id: 'CAMDX/GOV/MOI/SS3', monitoringUrl: null });
  });

  it('exits 1 with the reason and the field for a bad URL, and asks for a URL or --clear', async () => {
    const bad = await camdx('server', 'set-monitoring-url', 'CAMDX/GOV/MOI/SS3', 'file:///etc/passwd');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/must be http or https, not file \(HTTP 400 invalid, field monitoringUrl\)/);
    const neither = await camdx('server', 'set-monitoring-url', 'CAMDX/GOV/MOI/SS3');
    expect(neither.code).toBe(1);
    expect(neither.stderr).toMatch(/either a URL or --clear/);
    expect((await api<Server>('GET', '/servers/CAMDX/GOV/MOI/SS3')).monitoringUrl).toBeNull();
  });
});

describe('registry migration', () => {
  it('adds monitoring_url to an existing version-1 registry, keeping its servers', () => {
    const dir = tempDir();
    try {
      const path = join(dir.path, 'central.db');
      const old = openDatabase(path, REGISTRY_MIGRATIONS.slice(0, 1));
      old.exec("INSERT INTO members (id, member_class, member_code, name, created_at) VALUES (1, 'GOV', 'MOI', 'MOI', 0); INSERT INTO servers (owner_id, server_code, address, created_at) VALUES (1, 'SS1', 'h:1', 0);");
      old.close();
      const registry = new Registry(path, 'CAMDX', ['GOV']);
      try {
        expect(registry.servers.list()).toEqual([expect.objectContaining({ id: SERVER, address: 'h:1', monitoringUrl: null })]);
      } finally {
        registry.close();
      }
    } finally {
      dir.cleanup();
    }
  });
});
