import type { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOcspRequest } from '../../certs/ocsp/client.js';
import { signManagementRequest, type RequestSigner } from '../../protocol/management.js';
import { startTestCentral, type TestCentral } from '../support/central.js';
import type { TestPki } from '../support/pki.js';

/** What an officer reviews before approving: each signature's certificate, in the request's record. */

const MOI = { instance: 'CAMDX', memberClass: 'GOV', memberCode: 'MOI', memberName: 'Ministry of Interior' };
const BANK = { instance: 'CAMDX', memberClass: 'COM', memberCode: 'DEMOBANK', memberName: 'Demo Bank Plc' };
const SERVER = 'CAMDX/GOV/MOI/SS1';

let t: TestCentral;
beforeAll(async () => {
  t = await startTestCentral({ autoApprove: false });
  await t.admin.call('POST', '/members', { id: 'CAMDX/GOV/MOI', name: MOI.memberName });
  await t.admin.call('POST', '/members', { id: 'CAMDX/COM/DEMOBANK', name: BANK.memberName });
}, 60_000);
afterAll(() => t?.close());

type Issued = ReturnType<TestPki['issue']>;
const ocspOf = (cert: X509Certificate) => t.pki.services.ocsp.respond(buildOcspRequest(cert, t.pki.pki.cas.get('camdx-ca')!.cert));
const signer = (role: RequestSigner['role'], issued: Issued, withCert = true): RequestSigner => ({
  role,
  key: issued.key.privateKey,
  ...(withCert ? { certificatePem: issued.cert.toString() } : {}),
  ocsp: ocspOf(issued.cert),
});

async function submit(envelope: unknown): Promise<number> {
  const res = await fetch(`${t.running.url}/management/requests`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(envelope) });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: number }).id;
}

/** What the record must say of `cert`, read independently with node:crypto. */
const expected = (cert: X509Certificate) => ({
  subject: cert.subject.split('\n').join(', '),
  issuer: cert.issuer.split('\n').join(', '),
  serial: cert.serialNumber.toLowerCase(),
  notBefore: new Date(cert.validFrom).toISOString(),
  notAfter: new Date(cert.validTo).toISOString(),
});

type Signature = { role: string; subject: string; issuer: string; serial: string; notBefore: string; notAfter: string; keyUsage: string[]; extendedKeyUsage: string[] };

describe("management requests carry their signatures' certificates", () => {
  it('registerAuthCert: the owner (nonRepudiation) and the new auth key (digitalSignature, TLS client)', async () => {
    const owner = t.pki.issue('member-signing', MOI);
    const auth = t.pki.issue('server-auth', { ...MOI, serverCode: 'SS1', dns: [], ip: ['127.0.0.1'] });
    const id = await submit(
      signManagementRequest({ type: 'registerAuthCert', instance: 'CAMDX', server: SERVER, address: '127.0.0.1:5502', authCertificate: auth.cert.toString() }, [signer('owner', owner), signer('auth', auth, false)]),
    );
    const listed = (await t.admin.call<Array<{ id: number; signatures: Signature[] }>>('GET', '/management-requests')).find((r) => r.id === id)!;
    expect(listed.signatures).toEqual([
      { role: 'owner', ...expected(owner.cert), keyUsage: ['nonRepudiation'], extendedKeyUsage: [] },
      { role: 'auth', ...expected(auth.cert), keyUsage: ['digitalSignature'], extendedKeyUsage: ['serverAuth', 'clientAuth'] },
    ]);
    expect(listed.signatures[0]!.subject).toMatch(/O=Ministry of Interior/);
    expect(listed.signatures[0]!.issuer).not.toBe(listed.signatures[0]!.subject);
    expect(listed.signatures[0]!.serial).toMatch(/^[0-9a-f]+$/);
    // The same record by its id, and still after a decision.
    await t.admin.call('POST', `/management-requests/${id}/decline`, { reason: 'checked the certificates' });
    expect(await t.admin.call('GET', `/management-requests/${id}`)).toMatchObject({ id, status: 'declined', signatures: listed.signatures });
  });

  it("registerClient: the server owner's and the client member's signing certificates", async () => {
    // The server must exist for a client request: register it directly.
    await t.admin.call('POST', '/servers', { id: 'CAMDX/GOV/MOI/SS2', address: '127.0.0.1:5503' });
    const owner = t.pki.issue('member-signing', MOI);
    const client = t.pki.issue('member-signing', BANK);
    const id = await submit(signManagementRequest({ type: 'registerClient', instance: 'CAMDX', server: 'CAMDX/GOV/MOI/SS2', client: 'CAMDX/COM/DEMOBANK/ONBOARDING' }, [signer('owner', owner), signer('client', client)]));
    const record = await t.admin.call<{ signatures: Signature[] }>('GET', `/management-requests/${id}`);
    expect(record.signatures.map((s) => [s.role, s.serial])).toEqual([
      ['owner', owner.cert.serialNumber.toLowerCase()],
      ['client', client.cert.serialNumber.toLowerCase()],
    ]);
    expect(record.signatures[1]!.subject).toMatch(/O=Demo Bank Plc/);
  });

  it('answers 404 for an unknown request id and 400 for a malformed one', async () => {
    const unknown = await fetch(`${t.running.consoleUrl}/api/management-requests/99999`, { headers: { authorization: `Bearer ${t.adminToken}` } });
    expect(unknown.status).toBe(404);
    const malformed = await fetch(`${t.running.consoleUrl}/api/management-requests/x`, { headers: { authorization: `Bearer ${t.adminToken}` } });
    expect([malformed.status, ((await malformed.json()) as { field: string }).field]).toEqual([400, 'id']);
  });
});
