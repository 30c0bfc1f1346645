import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MOI, startTestPki, type TestPki } from '../support/pki.js';

let t: TestPki;
beforeAll(async () => {
  t = await startTestPki();
});
afterAll(() => t.close());

const admin = (path: string, body: unknown, token = t.pki.adminToken) =>
  fetch(`${t.url}/admin${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('PKI HTTP service', () => {
  it('lists its endpoints and serves the CA certificates', async () => {
    const index = (await (await fetch(t.url, { headers: { accept: 'application/json' } })).json()) as { endpoints: Record<string, string> };
    expect(Object.keys(index.endpoints)).toEqual(['caCertificates', 'enrol', 'ocsp', 'tsa']);
    const cas = (await (await fetch(`${t.url}/ca`)).json()) as Array<{ name: string }>;
    expect(cas.map((c) => c.name)).toEqual(['root-ca', 'camdx-ca', 'camdigikey-ca']);
    expect(await (await fetch(`${t.url}/ca/camdigikey-ca.pem`)).text()).toBe(t.pki.cas.get('camdigikey-ca')!.pem);
    expect((await fetch(`${t.url}/ca/evil-ca.pem`)).status).toBe(404);
    expect((await fetch(`${t.url}/nothing-here`)).status).toBe(404);
  });

  it('guards the admin API with its bearer token', async () => {
    expect((await admin('/enrolments', { profile: 'member-signing', identity: MOI }, 'wrong')).status).toBe(401);
    const res = await fetch(`${t.url}/admin/certificates`);
    expect(res.status).toBe(401);
    expect(await res.text()).not.toContain(t.pki.adminToken);
  });

  it('answers bad admin input with 400 and a reason, never a stack trace', async () => {
    const badJson = await admin('/enrolments', '{"profile": ');
    expect(badJson.status).toBe(400);
    expect(await badJson.text()).not.toMatch(/at .*\.js|node_modules/);
    const badIdentity = await admin('/enrolments', { profile: 'server-auth', identity: { ...MOI, serverCode: 'SS 1' } });
    expect(badIdentity.status).toBe(400);
    expect(((await badIdentity.json()) as { message: string }).message).toMatch(/serverCode contains character U\+0020/);
    expect((await admin('/revocations', { serial: 'ABCDEF', reason: 'becauseISaidSo' })).status).toBe(400);
    expect((await admin('/revocations', { serial: 'ABCDEF' })).status).toBe(404);
  });

  it('enrols, issues and lists through the HTTP API', async () => {
    const enrolled = await admin('/enrolments', { profile: 'member-signing', identity: MOI, ttlSeconds: 600 });
    expect(enrolled.status).toBe(201);
    const body = (await enrolled.json()) as { token: string; expiresAt: string };
    expect(Date.parse(body.expiresAt) - Date.now()).toBeLessThanOrEqual(600_000);
    const list = (await (await fetch(`${t.url}/admin/certificates`, { headers: { authorization: `Bearer ${t.pki.adminToken}` } })).json()) as Array<Record<string, unknown>>;
    expect(list.length).toBeGreaterThanOrEqual(6);
    expect(list[0]).not.toHaveProperty('der');
  });
});
