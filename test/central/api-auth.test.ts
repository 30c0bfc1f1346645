import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { centralLayout } from '../../central/settings.js';
import { startTestCentral, type TestCentral } from '../support/central.js';

/**
 * The console's side of the admin API on a real central: users bootstrapped by the token, then
 * sessions (cookie, CSRF, idle and absolute ends, sign-in limits), roles enforced by the API,
 * the Host check and the console's CSP. Every refusal changes nothing and is audited.
 */
let t: TestCentral;
let now = Date.parse('2026-12-03T08:00:00Z');
const clock = () => now;

interface Answer { status: number; body: Record<string, unknown>; headers: Headers }

async function api(method: string, path: string, o: { body?: unknown; cookie?: string; csrf?: string; token?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (o.cookie) headers.cookie = o.cookie;
  if (o.csrf) headers['x-csrf-token'] = o.csrf;
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  const res = await fetch(`${t.running.consoleUrl}/api${path}`, { method, headers, ...(o.body === undefined ? {} : { body: JSON.stringify(o.body) }) });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, headers: res.headers };
}

async function signIn(name: string, password: string): Promise<{ cookie: string; csrf: string; setCookie: string }> {
  const r = await api('POST', '/session', { body: { name, password } });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  const setCookie = r.headers.get('set-cookie')!;
  return { cookie: setCookie.split(';')[0]!, csrf: String(r.body.csrfToken), setCookie };
}

async function auditActions(): Promise<Array<{ actor: string; action: string; target: string }>> {
  return (await api('GET', '/audit?limit=5000', { token: t.adminToken })).body as unknown as Array<{ actor: string; action: string; target: string }>;
}

/** node:http, because fetch will not send a Host of the caller's choosing. */
function withHost(url: string, host: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: { host }, agent: false }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}

describe('the admin API behind the console', () => {
  let admin: { cookie: string; csrf: string; setCookie: string };

  beforeAll(async () => {
    t = await startTestCentral({}, { consoleClock: clock });
  }, 60_000);
  afterAll(() => t?.close());

  it('lets the admin token add the first user only', async () => {
    expect((await api('GET', '/users', { token: t.adminToken })).body).toEqual([]);
    const first = await api('POST', '/users', { token: t.adminToken, body: { name: 'alice', role: 'administrator', password: 'correct horse' } });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ name: 'alice', role: 'administrator' });
    const second = await api('POST', '/users', { token: t.adminToken, body: { name: 'mallory', role: 'administrator', password: 'x' } });
    expect(second.status).toBe(403);
    expect(second.body.message).toMatch(/only adds the first user/);
    expect((await api('GET', '/users', { token: t.adminToken })).status).toBe(403);
  });

  it('signs in with a 256-bit HttpOnly, SameSite=Strict cookie stored only as its hash', async () => {
    admin = await signIn('alice', 'correct horse');
    expect(admin.setCookie).toMatch(/^camdx_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\//);
    const value = admin.cookie.split('=')[1]!;
    const db = new Database(centralLayout(t.stateDir).database, { readonly: true });
    try {
      const rows = db.prepare('SELECT id_hash FROM console_sessions').all() as Array<{ id_hash: string }>;
      expect(rows.length).toBe(1);
      expect(rows[0]!.id_hash).not.toContain(value);
      expect(JSON.stringify(db.prepare('SELECT * FROM users').all())).not.toContain('correct horse');
    } finally {
      db.close();
    }
    const session = await api('GET', '/session', { cookie: admin.cookie });
    expect(session.body).toMatchObject({ name: 'alice', role: 'administrator', csrfToken: admin.csrf });
  });

  it('takes a change with the CSRF token, and refuses one without or with a wrong one', async () => {
    const before = (await api('GET', '/members', { cookie: admin.cookie })).body;
    for (const csrf of [undefined, 'not-the-token']) {
      const r = await api('POST', '/members', { cookie: admin.cookie, ...(csrf ? { csrf } : {}), body: { id: 'CAMDX/COM/CSRF1', name: 'Nobody' } });
      expect(r.status).toBe(403);
      expect(r.body).toMatchObject({ error: 'csrf' });
    }
    expect((await api('GET', '/members', { cookie: admin.cookie })).body).toEqual(before);
    const ok = await api('POST', '/members', { cookie: admin.cookie, csrf: admin.csrf, body: { id: 'CAMDX/COM/BYSESSION', name: 'By Session' } });
    expect(ok.status).toBe(201);
    const audit = await auditActions();
    expect(audit.filter((a) => a.action === 'api.refused' && a.target === 'POST /api/members').length).toBe(2);
    expect(audit.some((a) => a.actor === 'alice' && a.target.includes('BYSESSION'))).toBe(true);
  });

  it('refuses an observer\'s change even with a valid session and CSRF token, but lets it read and change its own password', async () => {
    expect((await api('POST', '/users', { cookie: admin.cookie, csrf: admin.csrf, body: { name: 'olga', role: 'observer', password: 'read only' } })).status).toBe(201);
    const olga = await signIn('olga', 'read only');
    expect((await api('GET', '/members', { cookie: olga.cookie })).status).toBe(200);
    const r = await api('POST', '/members', { cookie: olga.cookie, csrf: olga.csrf, body: { id: 'CAMDX/COM/OBSERVED', name: 'Observed' } });
    expect(r.status).toBe(403);
    expect(r.body).toMatchObject({ error: 'forbidden' });
    expect(((await api('GET', '/members', { cookie: olga.cookie })).body as unknown as Array<{ id: string }>).some((m) => m.id.endsWith('OBSERVED'))).toBe(false);
    expect((await api('GET', '/users', { cookie: olga.cookie })).status).toBe(403);
    expect((await api('PUT', '/users/alice/password', { cookie: olga.cookie, csrf: olga.csrf, body: { password: 'taken over' } })).status).toBe(403);
    // Its own password: allowed, and every session of olga's ends with it.
    expect((await api('PUT', '/users/olga/password', { cookie: olga.cookie, csrf: olga.csrf, body: { password: 'new secret' } })).status).toBe(204);
    expect((await api('GET', '/members', { cookie: olga.cookie })).status).toBe(401);
    await signIn('olga', 'new secret');
    expect((await auditActions()).some((a) => a.actor === 'olga' && a.action === 'api.refused' && a.target === 'POST /api/members')).toBe(true);
  });

  it('refuses malformed users with the field: a bad name, an empty password, a duplicate', async () => {
    const add = (body: unknown) => api('POST', '/users', { cookie: admin.cookie, csrf: admin.csrf, body });
    expect((await add({ name: 'bad name!', role: 'observer', password: 'x' })).body).toMatchObject({ error: 'invalid', field: 'name' });
    expect((await add({ name: 'x'.repeat(65), role: 'observer', password: 'x' })).body).toMatchObject({ error: 'invalid', field: 'name' });
    expect((await add({ name: 'empty', role: 'observer', password: '' })).body).toMatchObject({ error: 'invalid', field: 'password' });
    expect((await add({ name: 'olga', role: 'observer', password: 'x' })).body).toMatchObject({ error: 'conflict', field: 'name' });
    expect(((await api('GET', '/users', { cookie: admin.cookie })).body as unknown as Array<{ name: string }>).map((u) => u.name)).toEqual(['alice', 'olga']);
    // The last administrator stays.
    expect((await api('DELETE', '/users/alice', { cookie: admin.cookie, csrf: admin.csrf })).status).toBe(409);
  });

  it('ends a session after 30 minutes idle and after 8 hours, whatever the activity', async () => {
    const s = await signIn('alice', 'correct horse');
    now += 29 * 60_000;
    expect((await api('GET', '/members', { cookie: s.cookie })).status).toBe(200);
    now += 29 * 60_000;
    expect((await api('GET', '/members', { cookie: s.cookie })).status).toBe(200);
    now += 31 * 60_000;
    const idle = await api('GET', '/members', { cookie: s.cookie });
    expect(idle.status).toBe(401);
    expect(idle.body.message).toMatch(/30 minutes idle/);
    const long = await signIn('alice', 'correct horse');
    // 16 × 29 min = 7 h 44 min, never idle; 29 min more passes 8 h.
    for (let i = 0; i < 16; i++) {
      now += 29 * 60_000;
      expect((await api('GET', '/session', { cookie: long.cookie })).status).toBe(200);
    }
    now += 29 * 60_000;
    const ended = await api('GET', '/members', { cookie: long.cookie });
    expect(ended.status).toBe(401);
    expect(ended.body.message).toMatch(/8 hours/);
    admin = await signIn('alice', 'correct horse');
  });

  it('ends the session at logout', async () => {
    const s = await signIn('alice', 'correct horse');
    const out = await api('DELETE', '/session', { cookie: s.cookie, csrf: s.csrf });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/camdx_session=; .*Max-Age=0/);
    expect((await api('GET', '/members', { cookie: s.cookie })).status).toBe(401);
  });

  it('gives the 6th failed sign-in within a minute 429, per name and per address, and a minute later tries again', async () => {
    for (let i = 0; i < 5; i++) expect((await api('POST', '/session', { body: { name: 'alice', password: `guess ${i}` } })).status).toBe(401);
    const sixth = await api('POST', '/session', { body: { name: 'alice', password: 'correct horse' } });
    expect(sixth.status).toBe(429);
    expect(Number(sixth.headers.get('retry-after'))).toBeGreaterThan(0);
    // The same address trying another name is held too.
    expect((await api('POST', '/session', { body: { name: 'olga', password: 'new secret' } })).status).toBe(429);
    now += 61_000;
    await signIn('alice', 'correct horse');
    const audit = await auditActions();
    expect(audit.filter((a) => a.action === 'session.failed').length).toBeGreaterThanOrEqual(5);
    expect(audit.some((a) => a.action === 'session.refused')).toBe(true);
  });

  it('refuses a wrong or missing credential with 401, audited', async () => {
    expect((await api('GET', '/members')).status).toBe(401);
    const wrong = await api('POST', '/members', { token: 'not-the-token', body: { id: 'CAMDX/COM/TOKEN', name: 'x' } });
    expect(wrong.status).toBe(401);
    expect(wrong.body.message).toMatch(/admin token is wrong/);
    expect((await auditActions()).some((a) => a.actor === 'anonymous' && a.target === 'POST /api/members')).toBe(true);
  });

  it('answers a foreign Host with 421 before anything else, and sends the console CSP', async () => {
    for (const path of ['/api/members', '/console', '/api/session']) {
      const r = await withHost(`${t.running.consoleUrl}${path}`, 'evil.example');
      expect(r.status, path).toBe(421);
      expect(JSON.parse(r.body)).toMatchObject({ error: 'misdirected' });
    }
    for (const path of ['/console', '/catalogue', '/api/members']) {
      const r = await withHost(`${t.running.consoleUrl}${path}`, `localhost:${t.running.consolePort}`);
      expect(r.headers['content-security-policy'], path).toMatch(/script-src 'self'.*frame-ancestors 'none'/);
    }
  });
});
