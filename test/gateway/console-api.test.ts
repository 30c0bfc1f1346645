import http from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../common/ports.js';
import type { RawGatewayConfig } from '../../gateway/config.js';
import { readAdminToken } from '../../gateway/admin/token.js';
import { CLIENT, startTestNetwork, type TestNetwork } from '../support/network.js';

/**
 * A gateway's console listener (`listen.console`) on a real network: `/api/v1` takes the admin
 * token, or a session traded for it with CSRF on changes; `/metrics` and `/health` stay open on
 * the admin port; a foreign Host gets 421; every sign-in, refusal and action is audited.
 */
let n: TestNetwork;
let consolePort: number;
let token: string;
const base = () => `http://127.0.0.1:${consolePort}/api/v1`;

async function call(method: string, path: string, o: { token?: string; cookie?: string; csrf?: string; body?: string } = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  if (o.cookie) headers.cookie = o.cookie;
  if (o.csrf) headers['x-csrf-token'] = o.csrf;
  const res = await fetch(`${base()}${path}`, { method, headers, ...(o.body === undefined ? {} : { body: o.body }) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> & unknown[] };
}

const auditLines = () => readFileSync(join(n.consumer.dir, 'console-audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { actor: string; action: string; detail?: Record<string, unknown> });

beforeAll(async () => {
  consolePort = await freePort();
  // Only the port: the host is left to its default, loopback.
  n = await startTestNetwork({ consumerConfig: { listen: { console: { port: consolePort } } } as unknown as Partial<RawGatewayConfig> });
  token = readAdminToken(n.consumer.dir);
}, 90_000);
afterAll(() => n?.close());

describe("a gateway's console listener", () => {
  it('binds to loopback by default, and /api/v1 needs the token while /metrics and /health on the admin port do not', async () => {
    const other = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    if (other) {
      const refused = await new Promise<string>((resolve) => connect(consolePort, other).once('connect', () => resolve('connected')).once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error')));
      expect(refused).toBe('ECONNREFUSED');
    }
    expect((await fetch(`${n.consumer.adminUrl}/metrics`)).status).toBe(200);
    expect([200, 503]).toContain((await fetch(`${n.consumer.adminUrl}/health`)).status);
    const anonymous = await call('GET', '/clients');
    expect(anonymous.status).toBe(401);
    expect((await call('GET', '/clients', { token: 'wrong' })).status).toBe(401);
  });

  it("lists the owner's clients with their connection types, and the token certificates with OCSP", async () => {
    const clients = await call('GET', '/clients', { token });
    expect(clients.status).toBe(200);
    expect(clients.body).toEqual(expect.arrayContaining([{ id: CLIENT, connection: 'HTTP', certificates: 0, registered: true, disabled: false }, expect.objectContaining({ id: 'CAMDX/COM/DEMOBANK/OTHER', registered: true })]));
    const certs = await call('GET', '/token-certificates', { token });
    expect(certs.body).toMatchObject({ auth: { subject: expect.stringContaining('CN=SS1'), ocsp: { good: true } }, signing: { subject: expect.stringContaining('CN=DEMOBANK'), ocsp: { good: true } } });
  });

  it('runs the connection tests doctor runs, on the keys and configuration in use', async () => {
    const d = await call('GET', '/diagnostics', { token });
    expect(d.status).toBe(200);
    const checks = (d.body as unknown as { ok: boolean; checks: Array<{ name: string; ok: boolean }> }).checks;
    expect(new Set(checks.map((c) => c.name))).toEqual(new Set(['central', 'globalconf', 'registration', 'ocsp', 'tsa', 'peer']));
    expect(checks.filter((c) => !c.ok)).toEqual([]);
  });

  it('trades the token for a session: reads with the cookie, changes only with the CSRF token, all audited without the token', async () => {
    const signIn = await call('POST', '/session', { body: JSON.stringify({ token }) });
    expect(signIn.status).toBe(201);
    expect(signIn.headers.get('set-cookie')).toMatch(/^camdx_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\//);
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
    const csrf = String(signIn.body.csrfToken);
    expect((await call('GET', '/records?limit=5', { cookie })).status).toBe(200);
    const noCsrf = await call('POST', '/ocsp/refresh', { cookie });
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.body).toMatchObject({ error: 'csrf' });
    const refreshed = await call('POST', '/ocsp/refresh', { cookie, csrf });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body).toMatchObject({ ocspAgeSeconds: { auth: expect.any(Number), signing: expect.any(Number) } });
    expect((await call('DELETE', '/session', { cookie, csrf })).status).toBe(204);
    expect((await call('GET', '/clients', { cookie })).status).toBe(401);

    const lines = auditLines();
    expect(lines.map((l) => l.action)).toEqual(expect.arrayContaining(['session.start', 'api.refused', 'POST /api/v1/ocsp/refresh', 'session.end']));
    expect(lines.find((l) => l.action === 'POST /api/v1/ocsp/refresh')).toMatchObject({ actor: 'admin-token', detail: { status: 200, outcome: 'refreshed' } });
    expect(readFileSync(join(n.consumer.dir, 'console-audit.log'), 'utf8')).not.toContain(token);
  });

  it('refuses a malformed body with 400, and the 6th wrong token within a minute with 429', async () => {
    const malformed = await call('POST', '/session', { body: '{"token":' });
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({ error: 'invalid' });
    for (let i = 0; i < 5; i++) expect((await call('POST', '/session', { body: JSON.stringify({ token: `guess-${i}` }) })).status).toBe(401);
    const sixth = await call('POST', '/session', { body: JSON.stringify({ token }) });
    expect(sixth.status).toBe(429);
    expect(Number(sixth.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('answers a foreign Host with 421, and sends the console CSP', async () => {
    const get = (host: string) =>
      new Promise<{ status: number; csp: string | undefined }>((resolve, reject) => {
        http.get(`${base()}/clients`, { headers: { host, authorization: `Bearer ${token}` }, agent: false }, (res) => {
          res.resume();
          resolve({ status: res.statusCode!, csp: res.headers['content-security-policy'] as string | undefined });
        }).on('error', reject);
      });
    expect((await get('evil.example')).status).toBe(421);
    const own = await get(`localhost:${consolePort}`);
    expect(own.status).toBe(200);
    expect(own.csp).toMatch(/script-src 'self'.*frame-ancestors 'none'/);
  });
});
