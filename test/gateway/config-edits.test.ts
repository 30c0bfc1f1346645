import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { close, listen } from '../../common/http.js';
import { freePort } from '../../common/ports.js';
import { readAdminToken } from '../../gateway/admin/token.js';
import type { RawGatewayConfig } from '../../gateway/config.js';
import { ConfigEditError, editGatewayConfig } from '../../gateway/config-store.js';
import type { GatewayContext } from '../../gateway/context.js';
import { call, errorOf, outcomeOf } from '../support/http.js';
import { CLIENT, SERVICE, startTestNetwork, type TestGateway, type TestNetwork } from '../support/network.js';
import { tempDir } from '../support/tmp.js';

/**
 * Edits of a running gateway's clients and services through its console API (issue 19): each
 * is validated whole, written atomically to gateway.yaml and swapped in without a restart; a
 * refused one changes nothing; an exchange under way finishes on the settings it started with.
 */
const HELD = 'CAMDX/GOV/MOI/KYC/held';
const SECURE = 'CAMDX/GOV/MOI/KYC/secure';
let n: TestNetwork;
let dir: { path: string; cleanup(): void };
let tlsPort: number;
const ports = { consumer: 0, provider: 0 };
// The held system answers /hold/* only when the test releases it, so an exchange can be caught mid-call.
const held: Array<() => void> = [];
let heldServer: http.Server;
let heldUrl: string;
let secureServer: https.Server;
let secureUrl: string;

const enc = encodeURIComponent;
async function patch(g: TestGateway, path: string, body: unknown) {
  const port = g === n.consumer ? ports.consumer : ports.provider;
  const res = await fetch(`http://127.0.0.1:${port}/api/v1${path}`, { method: 'PATCH', headers: { authorization: `Bearer ${readAdminToken(g.dir)}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
const callService = (service: string, path: string) => call(`${n.consumer.consumerUrl}/r1/${service}${path}`, { method: 'POST', headers: [['X-Road-Client', CLIENT]], body: 'x' });
const auditLines = (g: TestGateway) => readFileSync(join(g.dir, 'console-audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { at: string; actor: string; action: string; target: string; detail: Record<string, unknown> });
const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });

beforeAll(async () => {
  dir = tempDir();
  // The bank's information system's certificate, and the provider system's self-signed one for 127.0.0.1.
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir.path, 'is.key'), '-out', join(dir.path, 'is.pem'), '-subj', '/CN=bank information system', '-days', '2');
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir.path, 'system.key'), '-out', join(dir.path, 'system.pem'), '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '2');
  heldServer = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const answer = () => res.writeHead(200, { 'content-type': 'text/plain' }).end('answered');
      if (req.url?.startsWith('/hold')) held.push(answer);
      else answer();
    });
  });
  heldUrl = `http://127.0.0.1:${await listen(heldServer, 0, '127.0.0.1')}`;
  secureServer = https.createServer({ key: readFileSync(join(dir.path, 'system.key')), cert: readFileSync(join(dir.path, 'system.pem')) }, (req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end('secure'));
  });
  secureUrl = `https://127.0.0.1:${await listen(secureServer, 0, '127.0.0.1')}`;
  [ports.consumer, ports.provider, tlsPort] = [await freePort(), await freePort(), await freePort()];
  n = await startTestNetwork({
    consumerConfig: { listen: { console: { port: ports.consumer }, consumerTls: { host: '127.0.0.1', port: tlsPort } } } as unknown as Partial<RawGatewayConfig>,
    providerConfig: { listen: { console: { port: ports.provider } } } as unknown as Partial<RawGatewayConfig>,
    extraServices: { [HELD]: heldUrl, [SECURE]: secureUrl },
  });
}, 90_000);
afterAll(async () => {
  await n?.close();
  heldServer?.closeAllConnections();
  await Promise.all([heldServer && close(heldServer), secureServer && close(secureServer)]);
  dir?.cleanup();
});

/** Until the held system has `count` calls waiting (bounded). */
async function untilHeld(count: number): Promise<void> {
  for (let i = 0; i < 100 && held.length < count; i++) await new Promise((r) => setTimeout(r, 50));
  expect(held.length).toBe(count);
}

describe("edits of a running gateway's settings", () => {
  it('an invalid edit is refused naming the field, leaves gateway.yaml byte for byte as it was, and the gateway keeps serving', async () => {
    const before = { consumer: readFileSync(n.consumer.config), provider: readFileSync(n.provider.config) };
    const fileUrl = await patch(n.provider, `/services/${enc(SERVICE)}`, { url: 'file:///etc/passwd' });
    expect(fileUrl.status).toBe(400);
    expect(fileUrl.body).toMatchObject({ error: 'invalid', field: `services.${SERVICE}.url` });
    const telnet = await patch(n.consumer, `/clients/${enc(CLIENT)}`, { connection: 'TELNET' });
    expect(telnet.status).toBe(400);
    expect(telnet.body).toMatchObject({ error: 'invalid', field: 'connection' });
    // Valid alone, invalid with the rest: HTTPS needs a pinned certificate.
    const unpinned = await patch(n.consumer, `/clients/${CLIENT.replaceAll('/', ':')}`, { connection: 'HTTPS' });
    expect(unpinned.status).toBe(400);
    expect(unpinned.body).toMatchObject({ field: `clients.${CLIENT}.certificates`, message: expect.stringContaining('pinned IS certificate') });
    const plainTls = await patch(n.provider, `/services/${enc(SERVICE)}`, { tls: { verify: false } });
    expect(plainTls.body).toMatchObject({ field: `services.${SERVICE}.tls`, message: expect.stringContaining('https url only') });

    expect(readFileSync(n.consumer.config).equals(before.consumer)).toBe(true);
    expect(readFileSync(n.provider.config).equals(before.provider)).toBe(true);
    expect(outcomeOf(await callService(SERVICE, '/echo/after-refusals'))).toBe('ok');
    const refused = auditLines(n.provider).find((l) => l.action === 'PATCH /api/v1/services/{id}');
    expect(refused).toMatchObject({ actor: 'admin-token', target: SERVICE, detail: { status: 400, outcome: 'refused', field: `services.${SERVICE}.url`, changed: ['url'] } });
    expect(Date.parse(refused!.at)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('a client edit (HTTP to HTTPS with a pinned certificate) applies to the next call without a restart, and gateway.yaml keeps it', async () => {
    const pem = readFileSync(join(dir.path, 'is.pem'), 'utf8');
    const edited = await patch(n.consumer, `/clients/${enc(CLIENT)}`, { connection: 'HTTPS', certificates: [pem] });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ id: CLIENT, connection: 'HTTPS', certificates: [{ file: expect.stringMatching(/^client-certificates\/[0-9a-f]{64}\.pem$/), subject: 'CN=bank information system' }] });
    const file = readFileSync(n.consumer.config, 'utf8');
    expect(file.startsWith('# Written by camdx')).toBe(true);
    expect((parseYaml(file) as RawGatewayConfig).clients![CLIENT]).toEqual({ connection: 'HTTPS', certificates: [(edited.body.certificates as Array<{ file: string }>)[0]!.file] });

    // As X-Road: over plain HTTP, or over TLS without the pinned certificate, the client is refused.
    const plain = await callService(SERVICE, '/echo/plain');
    expect(errorOf(plain)).toMatchObject({ type: 'Server.ClientProxy.SslAuthenticationFailed', message: expect.stringContaining('configured for HTTPS') });
    expect((await overTls(false)).type).toBe('Server.ClientProxy.SslAuthenticationFailed');
    expect(await overTls(true)).toEqual({ status: 200, type: undefined });

    const back = await patch(n.consumer, `/clients/${enc(CLIENT)}`, { connection: 'HTTP', certificates: [] });
    expect(back.body).toMatchObject({ connection: 'HTTP', certificates: [] });
    expect(outcomeOf(await callService(SERVICE, '/echo/plain-again'))).toBe('ok');
    expect(auditLines(n.consumer).filter((l) => l.action === 'PATCH /api/v1/clients/{id}' && l.target === CLIENT && l.detail.outcome === 'applied').map((l) => l.detail.changed)).toEqual([
      ['connection', 'certificates'],
      ['connection', 'certificates'],
    ]);
  });

  it("a service's timeout edit applies to the next call", async () => {
    const edited = await patch(n.provider, `/services/${enc(HELD)}`, { timeoutMs: 300 });
    expect(edited.body).toMatchObject({ id: HELD, url: heldUrl, timeoutMs: 300, effectiveTimeoutMs: 300 });
    const timedOut = await callService(HELD, '/hold/1');
    expect(errorOf(timedOut)).toMatchObject({ type: 'Server.ServerProxy.Timeout', message: expect.stringContaining('300 ms') });
    held.length = 0;
    expect((await patch(n.provider, `/services/${enc(HELD)}`, { timeoutMs: null })).body).toMatchObject({ timeoutMs: null, effectiveTimeoutMs: 60_000 });
    expect((parseYaml(readFileSync(n.provider.config, 'utf8')) as RawGatewayConfig).services![HELD]).toEqual({ url: heldUrl });
  });

  it('an exchange under way finishes on the settings it started with; the next one gets the new ones', async () => {
    const slow = callService(HELD, '/hold/2');
    await untilHeld(1);
    const dead = `http://127.0.0.1:${await freePort()}`;
    expect((await patch(n.provider, `/services/${enc(HELD)}`, { url: dead })).body).toMatchObject({ url: dead });
    held.shift()!();
    const finished = await slow;
    expect(finished.status).toBe(200);
    expect(finished.body.toString()).toBe('answered');
    expect(errorOf(await callService(HELD, '/next'))).toMatchObject({ type: 'Server.ServerProxy.ServiceFailed', message: expect.stringContaining('unreachable') });
    await patch(n.provider, `/services/${enc(HELD)}`, { url: heldUrl });
    expect(outcomeOf(await callService(HELD, '/restored'))).toBe('ok');
  });

  it("checks an https provider system's certificate: refused by default, accepted with its CA, or with verification off", async () => {
    const refused = await callService(SECURE, '/x');
    expect(errorOf(refused)).toMatchObject({ type: 'Server.ServerProxy.ServiceFailed', message: expect.stringMatching(/TLS certificate is refused: .*self-signed/) });
    const withCa = await patch(n.provider, `/services/${enc(SECURE)}`, { tls: { ca: readFileSync(join(dir.path, 'system.pem'), 'utf8') } });
    expect(withCa.body).toMatchObject({ tls: { verify: true, caFile: expect.stringMatching(/^service-ca\/[0-9a-f]{64}\.pem$/) } });
    expect((parseYaml(readFileSync(n.provider.config, 'utf8')) as RawGatewayConfig).services![SECURE]!.tls).toEqual({ caFile: (withCa.body.tls as { caFile: string }).caFile });
    const trusted = await callService(SECURE, '/x');
    expect(trusted.status).toBe(200);
    expect(trusted.body.toString()).toBe('secure');
    expect((await patch(n.provider, `/services/${enc(SECURE)}`, { tls: { verify: false } })).body).toMatchObject({ tls: { verify: false, caFile: null } });
    expect(outcomeOf(await callService(SECURE, '/x'))).toBe('ok');
    // Back to the system CA store: the connection opened without verification is not reused for it.
    expect((await patch(n.provider, `/services/${enc(SECURE)}`, { tls: null })).body).toMatchObject({ tls: { verify: true, caFile: null } });
    expect(outcomeOf(await callService(SECURE, '/x'))).toBe('Server.ServerProxy.ServiceFailed');
  });
});

describe('the edit pipeline', () => {
  const refusal = (ctx: GatewayContext, path: string[]) => {
    try {
      editGatewayConfig(ctx, [{ path: path as never, value: 1 }]);
    } catch (err) {
      return err instanceof ConfigEditError ? { status: err.status, field: err.field, message: err.message } : err;
    }
    return 'applied';
  };

  it('refuses an edit outside clients and services (they are set up at start-up), and a gateway not started from a file', () => {
    const file = join(dir.path, 'unit.yaml');
    writeFileSync(file, '# kept\nlisten: { admin: { port: 9082 } }\n');
    let swaps = 0;
    const ctx = { config: { configFile: file }, replaceConfig: () => swaps++ } as unknown as GatewayContext;
    expect(refusal(ctx, ['listen', 'admin', 'port'])).toEqual({ status: 409, field: 'listen.admin.port', message: expect.stringContaining('restart the gateway') });
    expect(refusal(ctx, ['keystores', 'auth', 'file'])).toMatchObject({ status: 409, field: 'keystores.auth.file' });
    expect(refusal({ config: {}, replaceConfig: () => swaps++ } as unknown as GatewayContext, ['clients', 'X', 'connection'])).toMatchObject({ status: 409, field: '(file)' });
    expect(readFileSync(file, 'utf8')).toBe('# kept\nlisten: { admin: { port: 9082 } }\n');
    expect(swaps).toBe(0);
  });
});

function overTls(withCert: boolean): Promise<{ status: number; type?: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: tlsPort,
        path: `/r1/${SERVICE}/echo/tls`,
        method: 'POST',
        headers: { 'X-Road-Client': CLIENT },
        rejectUnauthorized: false,
        agent: false,
        ...(withCert ? { key: readFileSync(join(dir.path, 'is.key')), cert: readFileSync(join(dir.path, 'is.pem')) } : {}),
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, type: res.headers['x-road-error'] as string | undefined }));
      },
    );
    req.on('error', reject);
    req.end('x');
  });
}
