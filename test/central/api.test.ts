import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCsr } from '../../certs/csr.js';
import { generateKeyPair } from '../../certs/keys.js';
import { getProfile } from '../../certs/profiles.js';
import { failure, startTestCentral, type TestCentral } from '../support/central.js';

let t: TestCentral;
beforeAll(async () => {
  t = await startTestCentral();
});
afterAll(() => t.close());


const api = <T = unknown>(method: string, path: string, body?: unknown) => t.admin.call<T>(method, path, body);

describe('central admin API: members and subsystems', () => {
  it('adds a member, issuing an enrolment token its signing certificate can be requested with', async () => {
    const res = await api<{ member: { id: string; name: string }; enrolment: { signing: { token: string } } }>('POST', '/members', { id: 'CAMDX/GOV/MOI', name: 'Ministry of Interior' });
    expect(res.member).toMatchObject({ id: 'CAMDX/GOV/MOI', name: 'Ministry of Interior' });
    const identity = { instance: 'CAMDX', memberClass: 'GOV', memberCode: 'MOI', memberName: 'Ministry of Interior' };
    const issued = t.pki.services.ra.submit(createCsr(getProfile('member-signing').subject(identity), generateKeyPair('P-256').privateKey), res.enrolment.signing.token);
    expect(new X509Certificate(issued.der).subject).toContain('serialNumber=CAMDX/GOV/MOI');
  });

  it('lists, shows, renames', async () => {
    await api('POST', '/subsystems', { id: 'CAMDX/GOV/MOI/KYC' });
    expect((await api<Array<{ id: string; subsystems: string[] }>>('GET', '/members')).find((m) => m.id === 'CAMDX/GOV/MOI')!.subsystems).toEqual(['KYC']);
    expect(await api('PATCH', '/members/CAMDX/GOV/MOI', { name: 'Ministry of Interior (KH)' })).toMatchObject({ name: 'Ministry of Interior (KH)' });
    expect(await api('GET', '/members/CAMDX/GOV/MOI')).toMatchObject({ memberClass: 'GOV', memberCode: 'MOI', subsystems: ['KYC'] });
  });

  it.each<[Record<string, unknown>, number, string, string | undefined]>([
    [{ id: 'CAMDX/GOV/MO I', name: 'x' }, 400, 'id code', 'characters'],
    [{ id: 'CAMDX/GOV', name: 'x' }, 400, 'id', 'shape'],
    [{ id: 'OTHER/GOV/X', name: 'x' }, 400, 'id', undefined],
    [{ id: 'CAMDX/XYZ/X', name: 'x' }, 400, 'memberClass', undefined],
    [{ id: 'CAMDX/GOV/X', name: '' }, 400, 'name', undefined],
    [{ id: 'CAMDX/GOV/X' }, 400, 'name', undefined],
    [{ id: 'CAMDX/GOV/X', name: 'x', extra: 1 }, 400, '(body)', undefined],
    [{ id: 'CAMDX/GOV/MOI', name: 'again' }, 409, 'id', undefined],
  ])('refuses member %j with %i naming %s', async (body, status, field) => {
    const before = (await api<unknown[]>('GET', '/members')).length;
    const f = await failure(api('POST', '/members', body));
    expect(f.status).toBe(status);
    expect(f.field).toBe(field);
    expect((await api<unknown[]>('GET', '/members')).length).toBe(before);
  });

  it('answers 404 for unknown members and subsystems', async () => {
    expect((await failure(api('GET', '/members/CAMDX/GOV/NOBODY'))).status).toBe(404);
    expect((await failure(api('POST', '/subsystems', { id: 'CAMDX/GOV/NOBODY/X' }))).status).toBe(404);
    expect((await failure(api('DELETE', '/subsystems/CAMDX/GOV/MOI/NOPE'))).status).toBe(404);
  });

  it('refuses deletes that would orphan data, saying what depends on it', async () => {
    const f = await failure(api('DELETE', '/members/CAMDX/GOV/MOI'));
    expect(f).toMatchObject({ status: 409, error: 'in-use' });
    expect(f.message).toMatch(/1 subsystem/);
  });
});

describe('central admin API: servers, services, rights, groups', () => {
  beforeAll(async () => {
    await api('POST', '/members', { id: 'CAMDX/COM/DEMOBANK', name: 'Demo Bank Plc' });
    await api('POST', '/subsystems', { id: 'CAMDX/COM/DEMOBANK/ONBOARDING' });
  });

  it('adds a security server with an auth-certificate enrolment token, and its clients', async () => {
    const res = await api<{ server: { id: string; address: string }; enrolment: { auth: { token: string } } }>('POST', '/servers', { id: 'CAMDX/COM/DEMOBANK/SS1', address: '127.0.0.1:5500' });
    expect(res.server).toMatchObject({ id: 'CAMDX/COM/DEMOBANK/SS1', address: '127.0.0.1:5500', authCertHashes: [] });
    expect(res.enrolment.auth.token).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    await api('POST', '/servers/CAMDX/COM/DEMOBANK/SS1/clients', { client: 'CAMDX/COM/DEMOBANK/ONBOARDING' });
    expect((await api<{ clients: string[] }>('GET', '/servers/CAMDX/COM/DEMOBANK/SS1')).clients).toEqual(['CAMDX/COM/DEMOBANK/ONBOARDING']);
    expect((await failure(api('POST', '/servers/CAMDX/COM/DEMOBANK/SS1/clients', { client: 'CAMDX/COM/DEMOBANK/ONBOARDING' }))).status).toBe(409);
    expect((await failure(api('DELETE', '/servers/CAMDX/COM/DEMOBANK/SS1'))).error).toBe('in-use');
    expect((await failure(api('POST', '/servers', { id: 'CAMDX/COM/DEMOBANK/SS2', address: 'nowhere' }))).field).toBe('address');
    expect((await failure(api('POST', '/servers', { id: 'CAMDX/COM/NOBODY/SS1', address: 'h:1' }))).status).toBe(404);
  });

  it('adds, updates and removes a REST service with endpoints', async () => {
    const service = await api<{ id: string; endpoints: unknown[] }>('POST', '/services', {
      id: 'CAMDX/GOV/MOI/KYC/kyc',
      endpoints: [
        { method: 'POST', path: '/api/2.0/kyc/info' },
        { method: 'POST', path: '/api/2.0/kyc/ocr-idcard' },
      ],
      openApi: '{"openapi":"3.0.0"}',
    });
    expect(service.endpoints).toHaveLength(2);
    expect((await api<{ timestampSynchronously: boolean }>('PATCH', '/services/CAMDX/GOV/MOI/KYC/kyc', { timestampSynchronously: true })).timestampSynchronously).toBe(true);
    const bad = await failure(api('POST', '/services', { id: 'CAMDX/GOV/MOI/KYC/other', endpoints: [{ method: 'GET', path: '/a/../b' }] }));
    expect(bad).toMatchObject({ status: 400, field: 'endpoints.0.path' });
    expect((await failure(api('POST', '/services', { id: 'CAMDX/GOV/MOI/NOSUB/kyc' }))).status).toBe(404);
    expect((await failure(api('POST', '/services', { id: 'CAMDX/GOV/MOI/KYC/kyc' }))).status).toBe(409);
  });

  it('grants access rights to subsystems and groups, deny by default', async () => {
    const right = await api<{ id: number; subjectType: string }>('POST', '/access-rights', {
      subject: 'CAMDX/COM/DEMOBANK/ONBOARDING',
      service: 'CAMDX/GOV/MOI/KYC/kyc',
      method: 'POST',
      path: '/api/2.0/kyc/info',
    });
    expect(right.subjectType).toBe('SUBSYSTEM');
    await api('POST', '/groups', { code: 'banks', description: 'Licensed banks' });
    await api('POST', '/groups/banks/members', { member: 'CAMDX/COM/DEMOBANK/ONBOARDING' });
    const groupRight = await api<{ subject: string; subjectType: string; method: string; path: string }>('POST', '/access-rights', { subject: 'CAMDX/banks', service: 'CAMDX/GOV/MOI/KYC/kyc' });
    expect(groupRight).toMatchObject({ subject: 'CAMDX/banks', subjectType: 'GLOBALGROUP', method: '*', path: '/**' });

    expect((await failure(api('POST', '/access-rights', { subject: 'CAMDX/COM/DEMOBANK/ONBOARDING', service: 'CAMDX/GOV/MOI/KYC/kyc', method: 'POST', path: '/api/2.0/kyc/info' }))).status).toBe(409);
    expect((await failure(api('POST', '/access-rights', { subject: 'CAMDX/COM/DEMOBANK/ONBOARDING', service: 'CAMDX/GOV/MOI/KYC/none' }))).status).toBe(404);
    expect((await failure(api('POST', '/access-rights', { subject: 'CAMDX/nogroup', service: 'CAMDX/GOV/MOI/KYC/kyc' }))).status).toBe(404);
    expect((await failure(api('POST', '/access-rights', { subject: 'CAMDX/COM/DEMOBANK/ONBOARDING', service: 'CAMDX/GOV/MOI/KYC/kyc', method: 'FETCH' }))).field).toBe('method');
    expect((await failure(api('POST', '/access-rights', { subject: 'CAMDX/COM/DEMOBANK/ONBOARDING', service: 'CAMDX/GOV/MOI/KYC/kyc', path: 'no-slash' }))).field).toBe('path');

    expect((await failure(api('DELETE', '/services/CAMDX/GOV/MOI/KYC/kyc'))).error).toBe('in-use');
    expect((await failure(api('DELETE', '/groups/banks'))).message).toMatch(/1 member\(s\), 1 access right/);
    await api('DELETE', `/access-rights/${groupRight ? (await api<Array<{ id: number; subject: string }>>('GET', '/access-rights')).find((r) => r.subject === 'CAMDX/banks')!.id : 0}`);
    await api('DELETE', '/groups/banks/members/CAMDX/COM/DEMOBANK/ONBOARDING');
    await api('DELETE', '/groups/banks');
    expect((await api<unknown[]>('GET', '/access-rights')).length).toBe(1);
    expect((await failure(api('DELETE', '/access-rights/9999'))).status).toBe(404);
    expect((await failure(api('DELETE', '/access-rights/abc'))).status).toBe(400);
  });

  it('validates approved CAs and TSAs', async () => {
    const cas = await api<Array<{ name: string; ocspUrl: string }>>('GET', '/approved-cas');
    expect(cas.map((c) => c.name)).toEqual(['CamDX CA']);
    const leaf = t.pki.issue('member-signing', { instance: 'CAMDX', memberClass: 'GOV', memberCode: 'MOI', memberName: 'Ministry of Interior' });
    expect((await failure(api('POST', '/approved-cas', { name: 'x', certificate: leaf.cert.toString(), rootCertificate: t.pki.pki.root.toString(), ocspUrl: 'http://x/ocsp' }))).field).toBe('certificate');
    expect((await failure(api('POST', '/approved-tsas', { name: 'x', url: 'http://x/tsa', certificate: leaf.cert.toString() }))).message).toMatch(/timeStamping/);
    expect((await failure(api('POST', '/approved-tsas', { name: 'x', url: 'http://x/tsa', certificate: 'not pem' }))).field).toBe('certificate');
  });
});

describe('central admin API: guard rails', () => {
  it('needs the bearer token', async () => {
    const res = await fetch(`${t.running.consoleUrl}/api/members`);
    expect(res.status).toBe(401);
    const wrong = await fetch(`${t.running.consoleUrl}/api/members`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
  });

  it('answers malformed JSON with 400 and unknown endpoints with 404', async () => {
    const res = await fetch(`${t.running.consoleUrl}/api/members`, { method: 'POST', headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' }, body: '{"id":' });
    expect(res.status).toBe(400);
    expect(await res.text()).not.toMatch(/node_modules|at .*\(/);
    expect((await failure(api('GET', '/nothing'))).status).toBe(404);
  });

  it('records every change — who, what, when — and no secrets', async () => {
    const audit = await api<Array<{ actor: string; action: string; target: string; at: string; detail: unknown }>>('GET', '/audit');
    const actions = audit.map((a) => a.action);
    for (const action of ['member.add', 'member.rename', 'subsystem.add', 'server.add', 'server.client.add', 'service.add', 'service.update', 'right.add', 'right.remove', 'group.add', 'group.remove', 'ca.add', 'tsa.add']) {
      expect(actions).toContain(action);
    }
    // Changes made with the admin token are audited as admin-token; the refusals above (no or a wrong token) as anonymous.
    expect(audit.filter((a) => a.action !== 'api.refused').every((a) => a.actor === 'admin-token' && !Number.isNaN(Date.parse(a.at)))).toBe(true);
    expect(JSON.stringify(audit)).not.toContain(t.adminToken);
    expect(JSON.stringify(audit)).not.toMatch(/Bearer|BEGIN/i);
  });

  it('writes nothing when the PKI cannot issue the enrolment token', async () => {
    const other = await startTestCentral();
    try {
      await other.pki.stopServer();
      const f = await failure(other.admin.call('POST', '/members', { id: 'CAMDX/GOV/MOC', name: 'Ministry of Commerce' }));
      expect(f).toMatchObject({ status: 502, error: 'pki-unavailable' });
      expect(await other.admin.call('GET', '/members')).toEqual([]);
    } finally {
      await other.close();
    }
  });
});
