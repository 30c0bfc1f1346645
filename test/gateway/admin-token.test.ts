import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../common/ports.js';
import { adminTokenFile } from '../../gateway/admin/token.js';
import { checkGatewayConfig, ConfigError } from '../../gateway/config.js';
import { call, errorOf } from '../support/http.js';
import { SERVICE, startTestNetwork, type TestNetwork } from '../support/network.js';
import { tempDir } from '../support/tmp.js';

// A client with a `clients:` entry that names its certificate but no connection type: X-Road's default.
const PINNED = 'CAMDX/COM/DEMOBANK/OTHER';
// The provider's own subsystem has no entry at all on its gateway.
const UNLISTED = 'CAMDX/GOV/MOI/KYC';
let n: TestNetwork;
let certs: { path: string; cleanup(): void };
let tlsPort: number;

beforeAll(async () => {
  certs = tempDir();
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(certs.path, 'is.key'), '-out', join(certs.path, 'is.pem'), '-subj', '/CN=bank information system', '-days', '30'], { stdio: 'ignore' });
  tlsPort = await freePort();
  n = await startTestNetwork({
    consumerConfig: { listen: { consumerTls: { host: '127.0.0.1', port: tlsPort } } as never, clients: { [PINNED]: { certificates: [join(certs.path, 'is.pem')] } } },
  });
  await n.central.admin.call('POST', '/access-rights', { subject: PINNED, service: SERVICE });
}, 120_000);
afterAll(async () => {
  await n?.close();
  certs?.cleanup();
});

describe('the admin token', () => {
  it('is written by provisioning: random, base64url, readable by the owner only', () => {
    const tokens = [n.consumer, n.provider].map((g) => {
      const file = adminTokenFile(g.dir);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      return readFileSync(file, 'utf8').trim();
    });
    for (const t of tokens) expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(tokens[0]).not.toBe(tokens[1]);
  });

  it('guards the console API (/records, POST /ocsp/refresh), from loopback too: none or a wrong one → 401 with a JSON error', async () => {
    const other = readFileSync(adminTokenFile(n.provider.dir), 'utf8').trim();
    const url = `${n.consumer.consoleUrl}/api/v1`;
    for (const [path, method] of [['/records', 'GET'], ['/ocsp/refresh', 'POST']] as const) {
      for (const authorization of [undefined, `Bearer ${other}`, `Bearer ${other.slice(0, 10)}`, 'Bearer', `Basic ${other}`]) {
        const res = await fetch(`${url}${path}`, { method, headers: authorization ? { authorization } : {} });
        expect(res.status, `${method} ${path} with ${authorization ?? 'no token'}`).toBe(401);
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expect(await res.json()).toMatchObject({ error: 'unauthorized', message: expect.stringContaining('admin-token') });
      }
    }
    expect((await n.consumer.admin('/records')).status).toBe(200);
    expect((await n.consumer.admin('/ocsp/refresh', { method: 'POST' })).status).toBe(200);
    // The admin port says where they went.
    const moved = await fetch(`${n.consumer.adminUrl}/records`, { headers: { authorization: `Bearer ${readFileSync(adminTokenFile(n.consumer.dir), 'utf8').trim()}` } });
    expect(moved.status).toBe(404);
    expect(await moved.json()).toMatchObject({ error: 'moved', message: expect.stringContaining('/api/v1/records') });
  });

  it('leaves /metrics and /health open', async () => {
    expect((await fetch(`${n.consumer.adminUrl}/metrics`)).status).toBe(200);
    expect((await fetch(`${n.consumer.adminUrl}/health`)).status).toBe(200);
  });
});

describe('new clients default to HTTPS with a pinned IS certificate', () => {
  const overTls = (withCert: boolean) =>
    new Promise<{ status: number; type?: string }>((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port: tlsPort,
          path: `/r1/${SERVICE}/echo/default`,
          method: 'POST',
          headers: { 'X-Road-Client': PINNED },
          rejectUnauthorized: false,
          ...(withCert ? { key: readFileSync(join(certs.path, 'is.key')), cert: readFileSync(join(certs.path, 'is.pem')) } : {}),
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode!, type: res.headers['x-road-error'] as string | undefined }));
        },
      );
      req.on('error', reject);
      req.end('x');
    });

  it('a client whose entry names only its certificate: plain HTTP → SslAuthenticationFailed; HTTPS with that certificate passes', async () => {
    const plain = await call(`${n.consumer.consumerUrl}/r1/${SERVICE}/echo/default`, { method: 'POST', headers: [['X-Road-Client', PINNED]], body: 'x' });
    expect(errorOf(plain)).toMatchObject({ type: 'Server.ClientProxy.SslAuthenticationFailed', message: expect.stringMatching(/configured for HTTPS/) });
    expect((await overTls(false)).type).toBe('Server.ClientProxy.SslAuthenticationFailed');
    // The access right spreads with the next configuration poll (1 s here).
    let pinned = await overTls(true);
    for (let i = 0; i < 20 && pinned.type === 'Server.ServerProxy.AccessDenied'; i++) {
      await new Promise((r) => setTimeout(r, 250));
      pinned = await overTls(true);
    }
    expect(pinned).toEqual({ status: 200, type: undefined });
  });

  it('a registered client with no entry at all: plain HTTP → SslAuthenticationFailed, saying why', async () => {
    const before = n.echo.calls.length;
    const res = await call(`${n.provider.consumerUrl}/r1/${SERVICE}/echo/unlisted`, { method: 'POST', headers: [['X-Road-Client', UNLISTED]], body: 'x' });
    expect(res.status).toBe(500);
    expect(errorOf(res)).toMatchObject({ type: 'Server.ClientProxy.SslAuthenticationFailed', message: expect.stringMatching(/the default: it has no entry under clients/) });
    expect(n.echo.calls.length).toBe(before);
  });

  it('a configuration whose client entry pins nothing is refused at start, saying how to fix it', () => {
    const dir = tempDir();
    try {
      const base = { owner: 'CAMDX/COM/ACME', serverCode: 'SS1', anchor: 'x', keystores: { auth: { file: 'x', passwordFile: 'x' }, signing: { file: 'x', passwordFile: 'x' } }, listen: { consumer: { port: 1 }, consumerTls: { port: 2 }, peer: { port: 3 }, admin: { port: 4 } } };
      expect(() => checkGatewayConfig({ ...base, clients: { 'CAMDX/COM/ACME/SHOP': {} } }, dir.path)).toThrow(ConfigError);
      expect(() => checkGatewayConfig({ ...base, clients: { 'CAMDX/COM/ACME/SHOP': {} } }, dir.path)).toThrow(/clients\.CAMDX\/COM\/ACME\/SHOP\.certificates: HTTPS clients \(the default\) need at least one pinned IS certificate; .* connection: HTTP/);
    } finally {
      dir.cleanup();
    }
  });
});
