import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, errorOf } from '../support/http.js';
import { CLIENT, SERVICE, startTestNetwork, type TestGateway, type TestNetwork } from '../support/network.js';
import { run } from '../support/run.js';
import { requireTool } from '../support/tools.js';

let n: TestNetwork;
beforeAll(async () => {
  // A tiny in-memory spool limit makes the provider spool real bodies to disk, encrypted.
  n = await startTestNetwork({ providerConfig: { limits: { spoolMemoryBytes: 1024 } }, consumerConfig: { limits: { spoolMemoryBytes: 1024 } } });
}, 120_000);
afterAll(() => n?.close());

const client = (extra: Array<[string, string]> = []): Array<[string, string]> => [['X-Road-Client', CLIENT], ...extra];
const records = async (gateway: TestGateway, messageId?: string) => {
  const all = (await (await gateway.admin('/records')).json()) as Array<{ messageId: string; side: string; endpoint: string; succeeded: boolean; faultCode: string | null; status: number }>;
  return messageId ? all.filter((r) => r.messageId === messageId) : all;
};

/** Every file under `dir`, recursively. */
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

describe('an allowed call', () => {
  it('returns the provider’s body and headers byte for byte, with the X-Road headers and a correct request hash', async () => {
    const body = randomBytes(3000);
    const res = await call(`${n.serviceUrl}/echo/items/42?q=a%20b&r=1`, {
      method: 'POST',
      headers: client([['Content-Type', 'application/x-test'], ['X-Road-Id', 'msg-byte-for-byte'], ['X-Custom', 'kept as is']]),
      body,
    });
    expect(res.status).toBe(200);
    expect(res.body.equals(body)).toBe(true);
    const echo = n.echo.calls.at(-1)!;
    expect(echo.url).toBe('/echo/items/42?q=a%20b&r=1');
    expect(echo.headers['x-custom']).toBe('kept as is');
    expect(echo.headers['content-type']).toBe('application/x-test');
    expect(echo.headers['x-road-client']).toBe(CLIENT);
    expect(echo.headers['x-road-service']).toBe(SERVICE);
    expect(echo.headers['x-road-id']).toBe('msg-byte-for-byte');
    // The provider's headers arrive in order, repeated ones separately, values unchanged.
    const pairs = [];
    for (let i = 0; i < res.rawHeaders.length; i += 2) pairs.push([res.rawHeaders[i]!.toLowerCase(), res.rawHeaders[i + 1]!]);
    expect(pairs.filter(([k]) => k.startsWith('x-echo') || k === 'x-multi' || k === 'set-cookie')).toEqual([
      ['x-echo-method', 'POST'],
      ['x-echo-url', '/echo/items/42?q=a%20b&r=1'],
      ['x-echo-client', CLIENT],
      ['x-echo-bytes', '3000'],
      ['x-multi', 'one'],
      ['x-multi', 'two'],
      ['set-cookie', 'a=1; Path=/'],
    ]);
    expect(res.headers['x-road-client']).toBe(CLIENT);
    expect(res.headers['x-road-service']).toBe(SERVICE);
    expect(res.headers['x-road-id']).toBe('msg-byte-for-byte');
    expect(res.headers['x-road-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    // The hash the provider bound its signed answer to is the one the consumer signed.
    expect(res.headers['x-road-request-hash']).toBe(echo.headers['x-road-request-hash']);
    expect(Buffer.from(String(res.headers['x-road-request-hash']), 'base64')).toHaveLength(64);

    const consumerLog = await records(n.consumer, 'msg-byte-for-byte');
    const providerLog = await records(n.provider, 'msg-byte-for-byte');
    expect(consumerLog).toHaveLength(1);
    expect(providerLog).toHaveLength(1);
    expect(consumerLog[0]).toMatchObject({ side: 'Client', endpoint: 'POST /echo/**', succeeded: true, status: 200 });
    expect(providerLog[0]).toMatchObject({ side: 'Producer', endpoint: 'POST /echo/**', succeeded: true, status: 200 });
  });

  it('passes the provider’s own error statuses through unchanged', async () => {
    const res = await call(`${n.serviceUrl}/echo/x`, { headers: client([['x-echo-status', '404']]) });
    expect(res.status).toBe(404);
    expect(res.headers['x-road-error']).toBeUndefined();
  });

  it('keeps no body, query, user id or header value anywhere in the state (WAL included), nor in the spool', async () => {
    const marker = `MARK${randomBytes(12).toString('hex')}`;
    // Under the echo's 64 KiB keep limit, above the gateways' 1 KiB spool limit: spooled to disk, encrypted.
    const big = Buffer.concat([randomBytes(30_000), Buffer.from(marker), randomBytes(30_000)]);
    const res = await call(`${n.serviceUrl}/echo/m?secret=${marker}q`, {
      method: 'POST',
      headers: client([['X-Road-UserId', `${marker}u`], ['X-Secret', `${marker}h`], ['X-Road-Id', 'msg-markers']]),
      body: big,
    });
    expect(res.status).toBe(200);
    expect(res.body.equals(big)).toBe(true);
    await call(`${n.serviceUrl}/echo/m`, { method: 'POST', headers: client(), body: `${marker}b` });
    await new Promise((r) => setTimeout(r, 300)); // let the message logs flush
    const needles = [marker, Buffer.from(marker).toString('hex'), Buffer.from(marker).toString('base64').slice(0, 24), Buffer.from(marker).toString('base64url').slice(0, 24)];
    const found: string[] = [];
    for (const file of files(n.central.stateDir)) {
      const content = readFileSync(file);
      for (const needle of needles) if (content.includes(needle) || content.includes(Buffer.from(needle, 'utf16le'))) found.push(`${file}: ${needle}`);
    }
    expect(found).toEqual([]);
    const { tmpdir } = await import('node:os');
    // Each gateway process spools under its own tmpdir()/camdx-spool-<pid>-XXXXXX (gateway/transport/spool.ts).
    // Only this user's: another user's spool directories are 0700 (and none of our gateways').
    const spoolDirs = readdirSync(tmpdir()).filter((d) => d.startsWith('camdx-spool-')).map((d) => join(tmpdir(), d)).filter((d) => statSync(d).uid === process.getuid?.());
    const spooled = spoolDirs.flatMap((d) => readdirSync(d, { recursive: true, encoding: 'utf8' }).map((f) => join(d, f)));
    expect(spooled.filter((f) => f.includes('CAMDX_GOV_MOI') || f.includes('CAMDX_COM_DEMOBANK'))).toEqual([]);
  });

  it('keeps what `camdx verify` needs: a signature document xmlsec1 verifies against the CA chain', requireTool('xmlsec1'), async () => {
    await call(`${n.serviceUrl}/echo/sig`, { method: 'POST', headers: client([['X-Road-Id', 'msg-xmlsec']]), body: 'x' });
    await new Promise((r) => setTimeout(r, 300));
    const db = new Database(join(n.provider.dir, 'messagelog.db'), { readonly: true });
    const row = db.prepare("SELECT s.xml FROM records r JOIN signatures s ON s.hash = r.request_signature WHERE r.message_id = 'msg-xmlsec'").get() as { xml: string };
    db.close();
    const file = join(n.central.stateDir, 'captured-signature.xml');
    writeFileSync(file, row.xml);
    const pki = n.central.pki.pki.layout;
    const res = await run('xmlsec1', ['--verify', '--trusted-pem', pki.caCert('root-ca'), '--untrusted-pem', pki.caCert('camdx-ca'), '--enabled-reference-uris', 'empty', '--enabled-key-data', 'x509', file]);
    expect(res.code, res.stderr).toBe(0);
  });
});

describe('refusals, each with its own X-Road error type', () => {
  const cases: Array<[string, string, Array<[string, string]>, string, number]> = [
    ['an endpoint without an access right', `/r1/${SERVICE}/admin/x`, client(), 'Server.ServerProxy.AccessDenied', 500],
    ['an unknown service', '/r1/CAMDX/GOV/MOI/KYC/nothing/x', client(), 'Client.UnknownService', 400],
    ['an unknown member', '/r1/CAMDX/GOV/NOBODY/KYC/echo/x', client(), 'Client.UnknownMember', 400],
    ['an unknown subsystem', '/r1/CAMDX/GOV/MOI/NOSUB/echo/x', client(), 'Client.UnknownSubsystem', 400],
    ['a malformed service identifier', '/r1/CAMDX/GOV/MO%3BI/KYC/echo/x', client(), 'Client.InvalidServiceIdentifier', 400],
    ['a too-short service path', '/r1/CAMDX/GOV/MOI', client(), 'Client.InvalidServiceIdentifier', 400],
    ['a malformed X-Road-Client', `/r1/${SERVICE}/echo/x`, [['X-Road-Client', 'CAMDX/COM/DEMO BANK/ONBOARDING']], 'Client.InvalidClientIdentifier', 400],
    ['a member as X-Road-Client', `/r1/${SERVICE}/echo/x`, [['X-Road-Client', 'CAMDX/COM/DEMOBANK']], 'Client.InvalidClientIdentifier', 400],
    ['no X-Road-Client', `/r1/${SERVICE}/echo/x`, [], 'Client.InvalidClientIdentifier', 400],
    ['a duplicate X-Road-Client', `/r1/${SERVICE}/echo/x`, [['X-Road-Client', CLIENT], ['X-Road-Client', CLIENT]], 'Client.InvalidHttpHeader', 400],
    ['a client not registered on this gateway', `/r1/${SERVICE}/echo/x`, [['X-Road-Client', 'CAMDX/GOV/MOI/KYC']], 'Client.ClientNotRegistered', 400],
    ['an unknown client subsystem', `/r1/${SERVICE}/echo/x`, [['X-Road-Client', 'CAMDX/COM/DEMOBANK/NOPE']], 'Client.UnknownSubsystem', 400],
    ['a path escaping with ..', `/r1/${SERVICE}/echo/../admin/x`, client(), 'Client.InvalidRequest', 400],
    ['an encoded slash', `/r1/${SERVICE}/echo%2F..%2Fadmin`, client(), 'Client.InvalidRequest', 400],
    ['a pinned server that does not serve the provider', `/r1/${SERVICE}/echo/x`, client([['X-Road-Security-Server', 'CAMDX/COM/DEMOBANK/SS1']]), 'Client.InvalidSecurityServer', 400],
  ];

  it.each(cases)('refuses %s', async (_name, path, headers, type, status) => {
    const before = n.echo.calls.length;
    const res = await call(`${n.consumer.consumerUrl}${path}`, { headers });
    expect(res.status).toBe(status);
    const err = errorOf(res);
    expect(err.type).toBe(type);
    expect(err.header).toBe(type);
    expect(err.message.length).toBeGreaterThan(10);
    expect(n.echo.calls.length).toBe(before);
  });

  it('logs refused calls on both sides with their fault code', async () => {
    await call(`${n.serviceUrl}/admin/y`, { headers: client([['X-Road-Id', 'msg-denied']]) });
    await new Promise((r) => setTimeout(r, 200));
    expect((await records(n.consumer, 'msg-denied'))[0]).toMatchObject({ succeeded: false, faultCode: 'Server.ServerProxy.AccessDenied', endpoint: 'GET /admin/**' });
    expect((await records(n.provider, 'msg-denied'))[0]).toMatchObject({ succeeded: false, faultCode: 'Server.ServerProxy.AccessDenied' });
  });
});

describe('metaservices', () => {
  it('lists clients, methods, allowed methods and the OpenAPI document', async () => {
    const clients = JSON.parse((await call(`${n.consumer.consumerUrl}/listClients`)).body.toString()) as { member: Array<{ id: { object_type: string; subsystem_code?: string } }> };
    expect(clients.member.some((m) => m.id.object_type === 'SUBSYSTEM' && m.id.subsystem_code === 'KYC')).toBe(true);
    const methods = JSON.parse((await call(`${n.consumer.consumerUrl}/r1/CAMDX/GOV/MOI/KYC/listMethods`, { headers: client() })).body.toString()) as { service: Array<{ service_code: string; object_type: string }> };
    expect(methods.service).toEqual([expect.objectContaining({ object_type: 'SERVICE', xroad_instance: 'CAMDX', member_class: 'GOV', member_code: 'MOI', subsystem_code: 'KYC', service_code: 'echo' })]);
    const allowed = JSON.parse((await call(`${n.consumer.consumerUrl}/r1/CAMDX/GOV/MOI/KYC/allowedMethods`, { headers: client() })).body.toString()) as { service: Array<{ endpoint_list: Array<{ method: string; path: string }> }> };
    expect(allowed.service[0]!.endpoint_list).toEqual(
      expect.arrayContaining([
        { method: 'POST', path: '/echo/**' },
        { method: 'GET', path: '/echo/**' },
      ]),
    );
    expect(allowed.service[0]!.endpoint_list).toHaveLength(2);
    const other = JSON.parse((await call(`${n.consumer.consumerUrl}/r1/CAMDX/GOV/MOI/KYC/allowedMethods`, { headers: [['X-Road-Client', 'CAMDX/COM/DEMOBANK/OTHER']] })).body.toString()) as { service: unknown[] };
    expect(other.service).toEqual([]);
    const openapi = await call(`${n.consumer.consumerUrl}/r1/CAMDX/GOV/MOI/KYC/getOpenAPI?serviceCode=echo`, { headers: client() });
    expect(JSON.parse(openapi.body.toString())).toMatchObject({ openapi: '3.0.3' });
    expect(errorOf(await call(`${n.consumer.consumerUrl}/r1/CAMDX/GOV/MOI/KYC/getOpenAPI?serviceCode=nope`, { headers: client() })).type).toBe('Client.UnknownService');
  });
});

describe('metrics', () => {
  it('are accepted by promtool, and the request counter rises by exactly N with the right labels', requireTool('promtool'), async () => {
    const counter = async () => {
      const text = await (await fetch(`${n.provider.adminUrl}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith('camdx_gateway_requests_total{') && l.includes('side="Producer"') && l.includes(`client="${CLIENT}"`) && l.includes(`service="${SERVICE}"`) && l.includes('status="200"'));
      return { text, value: line ? Number(line.split(' ').at(-1)) : 0 };
    };
    const before = await counter();
    const N = 7;
    for (let i = 0; i < N; i++) expect((await call(`${n.serviceUrl}/echo/count`, { headers: client() })).status).toBe(200);
    const after = await counter();
    expect(after.value - before.value).toBe(N);
    const file = join(n.central.stateDir, 'metrics.txt');
    writeFileSync(file, after.text);
    const check = await run('promtool', ['check', 'metrics'], { input: after.text });
    expect(check.code, check.stdout + check.stderr).toBe(0);
    expect(after.text).toMatch(/camdx_gateway_globalconf_version\{server="CAMDX\/GOV\/MOI\/SS1"\} \d+/);
    expect(after.text).toMatch(/camdx_gateway_ocsp_good\{certificate="signing",server="CAMDX\/GOV\/MOI\/SS1"\} 1/);
  });
});
