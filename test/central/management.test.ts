import type { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOcspRequest } from '../../certs/ocsp/client.js';
import { revokeBySerial } from '../../certs/revocation.js';
import { signManagementRequest, type ManagementEnvelope, type RequestSigner } from '../../protocol/management.js';
import { startTestCentral, type TestCentral } from '../support/central.js';
import { startTestPki, type TestPki } from '../support/pki.js';

const MOI = { instance: 'CAMDX', memberClass: 'GOV', memberCode: 'MOI', memberName: 'Ministry of Interior' };
const BANK = { instance: 'CAMDX', memberClass: 'COM', memberCode: 'DEMOBANK', memberName: 'Demo Bank Plc' };
const SERVER = 'CAMDX/GOV/MOI/SS1';

let t: TestCentral;
let rogue: TestPki;
beforeAll(async () => {
  t = await startTestCentral({ autoApprove: false });
  rogue = await startTestPki();
  await t.admin.call('POST', '/members', { id: 'CAMDX/GOV/MOI', name: MOI.memberName });
  await t.admin.call('POST', '/members', { id: 'CAMDX/COM/DEMOBANK', name: BANK.memberName });
});
afterAll(async () => {
  await t.close();
  await rogue.close();
});

type Issued = ReturnType<TestPki['issue']> & { readonly ocsp: Buffer };
/** The real responder's answer about `issued` now (the test PKI runs in this process). */
const ocspNow = (pki: TestPki, cert: X509Certificate) => pki.services.ocsp.respond(buildOcspRequest(cert, pki.pki.cas.get('camdx-ca')!.cert));
const withOcsp = (pki: TestPki, issued: ReturnType<TestPki['issue']>): Issued => ({ ...issued, ocsp: ocspNow(pki, issued.cert) });
const signing = (pki: TestPki, member: typeof MOI) => withOcsp(pki, pki.issue('member-signing', member));
const auth = (pki: TestPki, member: typeof MOI, serverCode = 'SS1') => withOcsp(pki, pki.issue('server-auth', { ...member, serverCode, dns: [], ip: ['127.0.0.1'] }));
const signer = (role: RequestSigner['role'], issued: Issued, withCert = true): RequestSigner => ({
  role,
  key: issued.key.privateKey,
  ...(withCert ? { certificatePem: issued.cert.toString() } : {}),
  ocsp: issued.ocsp,
});

async function submit(envelope: unknown): Promise<{ status: number; body: { id?: number; status?: string; error?: string; message?: string } }> {
  const res = await fetch(`${t.running.url}/management/requests`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(envelope) });
  return { status: res.status, body: (await res.json()) as { error?: string } };
}

function authCertRequest(owner = signing(t.pki, MOI), authIssued = auth(t.pki, MOI), server = SERVER): ManagementEnvelope {
  return signManagementRequest(
    { type: 'registerAuthCert', instance: 'CAMDX', server, address: '127.0.0.1:5502', authCertificate: authIssued.cert.toString() },
    [signer('owner', owner), signer('auth', authIssued, false)],
  );
}

const requestCount = async () => (await t.admin.call<unknown[]>('GET', '/management-requests')).length;

describe('management requests', () => {
  it('registers an authentication certificate after approval, with proof of possession', async () => {
    const authIssued = auth(t.pki, MOI);
    const res = await submit(authCertRequest(signing(t.pki, MOI), authIssued));
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('pending');
    const approved = await t.admin.call<{ status: string }>('POST', `/management-requests/${res.body.id}/approve`);
    expect(approved.status).toBe('approved');
    const server = await t.admin.call<{ address: string; authCertHashes: string[] }>('GET', `/servers/${SERVER}`);
    const { createHash } = await import('node:crypto');
    expect(server.authCertHashes).toEqual([createHash('sha256').update(authIssued.cert.raw).digest('hex')]);
    expect(server.address).toBe('127.0.0.1:5502');
  });

  it('registers a client subsystem signed by the server owner and the client member', async () => {
    const envelope = signManagementRequest({ type: 'registerClient', instance: 'CAMDX', server: SERVER, client: 'CAMDX/COM/DEMOBANK/ONBOARDING' }, [
      signer('owner', signing(t.pki, MOI)),
      signer('client', signing(t.pki, BANK)),
    ]);
    const res = await submit(envelope);
    expect(res.status).toBe(202);
    await t.admin.call('POST', `/management-requests/${res.body.id}/approve`);
    expect((await t.admin.call<{ clients: string[] }>('GET', `/servers/${SERVER}`)).clients).toContain('CAMDX/COM/DEMOBANK/ONBOARDING');
  });

  it('lets an administrator decline, recording the reason', async () => {
    const res = await submit(authCertRequest(signing(t.pki, MOI), auth(t.pki, MOI)));
    const declined = await t.admin.call<{ status: string; reason: string }>('POST', `/management-requests/${res.body.id}/decline`, { reason: 'not our server' });
    expect(declined).toMatchObject({ status: 'declined', reason: 'not our server' });
    expect((await t.admin.call<{ authCertHashes: string[] }>('GET', `/servers/${SERVER}`)).authCertHashes).toHaveLength(1);
  });

  const refusals: Array<[string, () => unknown, number, string]> = [
    ['signed by the wrong member', () => authCertRequest(signing(t.pki, BANK)), 403, 'identity-mismatch'],
    ['with a certificate from an unapproved CA', () => authCertRequest(signing(rogue, MOI)), 403, 'untrusted-certificate'],
    ['with an auth certificate from an unapproved CA', () => authCertRequest(signing(t.pki, MOI), auth(rogue, MOI)), 403, 'untrusted-certificate'],
    ['with the auth certificate in the signing role', () => authCertRequest(auth(t.pki, MOI)), 403, 'wrong-key-usage'],
    [
      'with a signing certificate as the authentication certificate',
      () => {
        const sign = signing(t.pki, MOI);
        return signManagementRequest({ type: 'registerAuthCert', instance: 'CAMDX', server: SERVER, address: '127.0.0.1:5502', authCertificate: sign.cert.toString() }, [signer('owner', sign), signer('auth', sign, false)]);
      },
      403,
      'wrong-key-usage',
    ],
    [
      'without proof of possession of the new auth key',
      () => {
        const envelope = authCertRequest();
        return { ...envelope, signatures: envelope.signatures.filter((s) => s.role !== 'auth') };
      },
      403,
      'invalid-signature',
    ],
    [
      'whose signed bytes were altered',
      () => {
        const envelope = authCertRequest();
        const request = JSON.parse(Buffer.from(envelope.request, 'base64url').toString()) as Record<string, string>;
        request.address = '203.0.113.9:5500';
        return { ...envelope, request: Buffer.from(JSON.stringify(request)).toString('base64url') };
      },
      403,
      'invalid-signature',
    ],
    ['for an auth certificate issued to another server', () => authCertRequest(signing(t.pki, MOI), auth(t.pki, MOI, 'SS9')), 403, 'identity-mismatch'],
    ['from an unknown member', () => authCertRequest(signing(t.pki, MOI), auth(t.pki, MOI), 'CAMDX/GOV/NOBODY/SS1'), 404, 'unknown-member'],
    [
      'claiming another member’s subsystem without its signature',
      () => signManagementRequest({ type: 'registerClient', instance: 'CAMDX', server: SERVER, client: 'CAMDX/COM/DEMOBANK/PAYMENTS' }, [signer('owner', signing(t.pki, MOI))]),
      403,
      'invalid-signature',
    ],
    [
      'claiming another member’s subsystem, countersigned by the wrong member',
      () =>
        signManagementRequest({ type: 'registerClient', instance: 'CAMDX', server: SERVER, client: 'CAMDX/COM/DEMOBANK/PAYMENTS' }, [
          signer('owner', signing(t.pki, MOI)),
          signer('client', signing(t.pki, MOI)),
        ]),
      403,
      'identity-mismatch',
    ],
    ['signed an hour ago', () => signManagementRequest({ type: 'registerClient', instance: 'CAMDX', server: SERVER, client: 'CAMDX/GOV/MOI/KYC' }, [signer('owner', signing(t.pki, MOI))], Date.now() - 3_600_000), 400, 'stale-request'],
    ['that is not an envelope', () => ({ hello: 'world' }), 400, 'invalid-request'],
    ['for another instance', () => signManagementRequest({ type: 'registerClient', instance: 'OTHER', server: SERVER, client: 'CAMDX/GOV/MOI/KYC' }, [signer('owner', signing(t.pki, MOI))]), 400, 'invalid-request'],
  ];

  it.each(refusals)('refuses a request %s, recording nothing', async (_name, make, status, error) => {
    const before = await requestCount();
    const res = await submit(make());
    expect(res.status).toBe(status);
    expect(res.body.error).toBe(error);
    expect(res.body.message!.length).toBeGreaterThan(10);
    expect(await requestCount()).toBe(before);
  });

  const statusRefusals: Array<[string, () => unknown, RegExp]> = [
    [
      'signed by a revoked server owner key',
      () => {
        const owner = signing(t.pki, MOI);
        expect(revokeBySerial(t.pki.pki.store, owner.serial, 'keyCompromise').outcome).toBe('revoked');
        return authCertRequest({ ...owner, ocsp: ocspNow(t.pki, owner.cert) });
      },
      /signing certificate of the server owner: the certificate's OCSP status is revoked/,
    ],
    [
      'countersigned by a revoked client member key',
      () => {
        const client = signing(t.pki, BANK);
        revokeBySerial(t.pki.pki.store, client.serial, 'keyCompromise');
        return signManagementRequest({ type: 'registerClient', instance: 'CAMDX', server: SERVER, client: 'CAMDX/COM/DEMOBANK/REVOKED' }, [signer('owner', signing(t.pki, MOI)), signer('client', { ...client, ocsp: ocspNow(t.pki, client.cert) })]);
      },
      /signing certificate of the client member: the certificate's OCSP status is revoked/,
    ],
    [
      'for a revoked authentication certificate',
      () => {
        const authIssued = auth(t.pki, MOI);
        revokeBySerial(t.pki.pki.store, authIssued.serial, 'keyCompromise');
        return authCertRequest(signing(t.pki, MOI), { ...authIssued, ocsp: ocspNow(t.pki, authIssued.cert) });
      },
      /authentication certificate: the certificate's OCSP status is revoked/,
    ],
    [
      'without an OCSP response for the owner',
      () => {
        const envelope = authCertRequest();
        return { ...envelope, signatures: envelope.signatures.map(({ ocsp, ...rest }) => (rest.role === 'owner' ? rest : { ...rest, ocsp })) };
      },
      /owner signature carries no OCSP response/,
    ],
    ['carrying the OCSP response of another certificate', () => authCertRequest({ ...signing(t.pki, MOI), ocsp: signing(t.pki, MOI).ocsp }), /about another certificate/],
    ['carrying an OCSP response signed by another PKI', () => authCertRequest({ ...signing(t.pki, MOI), ocsp: signing(rogue, MOI).ocsp }), /not authorised by the CA for OCSP signing/],
  ];

  it.each(statusRefusals)('refuses a request %s (certificate-status), recording nothing', async (_name, make, reason) => {
    const before = await requestCount();
    const res = await submit(make());
    expect(res).toMatchObject({ status: 403, body: { error: 'certificate-status' } });
    expect(res.body.message).toMatch(reason);
    expect(await requestCount()).toBe(before);
  });

  it('refuses an OCSP response older than ocspFreshnessSeconds', async () => {
    // 2 s, not 1: OCSP times are whole seconds, so a response just made can already look ~1 s old.
    const strict = await startTestCentral({ autoApprove: true, ocspFreshnessSeconds: 2 });
    try {
      await strict.admin.call('POST', '/members', { id: 'CAMDX/GOV/MOI', name: MOI.memberName });
      const owner = signing(strict.pki, MOI);
      await new Promise((r) => setTimeout(r, 3100));
      const stale = await fetch(`${strict.running.url}/management/requests`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(authCertRequest(owner, auth(strict.pki, MOI))) });
      expect(stale.status).toBe(403);
      expect(await stale.json()).toMatchObject({ error: 'certificate-status', message: expect.stringMatching(/older than 2 s/) });
      const fresh = await fetch(`${strict.running.url}/management/requests`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(authCertRequest({ ...owner, ocsp: ocspNow(strict.pki, owner.cert) }, auth(strict.pki, MOI))) });
      expect(fresh.status).toBe(201);
    } finally {
      await strict.close();
    }
  });

  it('refuses a replayed request', async () => {
    const envelope = signManagementRequest({ type: 'registerClient', instance: 'CAMDX', server: SERVER, client: 'CAMDX/GOV/MOI/KYC' }, [signer('owner', signing(t.pki, MOI))]);
    expect((await submit(envelope)).status).toBe(202);
    const again = await submit(envelope);
    expect(again).toMatchObject({ status: 409, body: { error: 'replay' } });
  });

  it('approves at once in simulation mode', async () => {
    const sim = await startTestCentral({ autoApprove: true });
    try {
      await sim.admin.call('POST', '/members', { id: 'CAMDX/GOV/MOI', name: MOI.memberName });
      const res = await fetch(`${sim.running.url}/management/requests`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(authCertRequest(signing(sim.pki, MOI), auth(sim.pki, MOI))),
      });
      expect(res.status).toBe(201);
      expect(((await res.json()) as { status: string }).status).toBe('approved');
      const conf = await (await fetch(`${sim.running.url}/globalconf`)).text();
      const payload = JSON.parse(Buffer.from(conf.split('.')[1]!, 'base64url').toString()) as { securityServers: Array<{ id: string; authCertHashes: string[] }> };
      expect(payload.securityServers.find((s) => s.id === SERVER)!.authCertHashes).toHaveLength(1);
    } finally {
      await sim.close();
    }
  });
});
