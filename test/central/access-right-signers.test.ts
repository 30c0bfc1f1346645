import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ocspResponses, postManagementRequest } from '../../gateway/setup/register.js';
import { signManagementRequest, type RequestSigner } from '../../protocol/management.js';
import { startTestCentral, type TestCentral } from '../support/central.js';
import { MOI, type TestPki } from '../support/pki.js';

/**
 * Issue 20: a provider's accessRightAdd carries its signer's OCSP response, fetched from the real
 * responder as a gateway fetches it (gateway/setup/register.ts). A signer revoked there is
 * refused with the responder's verdict, whether it signs as the server owner or as the hosted
 * member whose service it is; nothing changes and the refusal is audited.
 */
const MOH = { instance: 'CAMDX', memberClass: 'GOV', memberCode: 'MOH', memberName: 'Ministry of Health' };
const SERVER = 'CAMDX/GOV/MOI/SS1';
const KYC_SERVICE = 'CAMDX/GOV/MOI/KYC/echo';
/** MOH's service, hosted on MOI's server: its rights need MOH's signature beside MOI's. */
const MOH_SERVICE = 'CAMDX/GOV/MOH/RECORDS/files';
const SUBJECT = 'CAMDX/COM/DEMOBANK/ONBOARDING';

let t: TestCentral;
beforeAll(async () => {
  t = await startTestCentral({ autoApprove: true });
  for (const [id, name] of [['CAMDX/GOV/MOI', MOI.memberName], ['CAMDX/GOV/MOH', MOH.memberName], ['CAMDX/COM/DEMOBANK', 'Demo Bank Plc']]) await t.admin.call('POST', '/members', { id, name });
  for (const id of ['CAMDX/GOV/MOI/KYC', 'CAMDX/GOV/MOH/RECORDS', SUBJECT]) await t.admin.call('POST', '/subsystems', { id });
  await t.admin.call('POST', '/servers', { id: SERVER, address: '127.0.0.1:5502' });
  for (const client of ['CAMDX/GOV/MOI/KYC', 'CAMDX/GOV/MOH/RECORDS']) await t.admin.call('POST', '/servers/CAMDX/GOV/MOI/SS1/clients', { client });
  for (const id of [KYC_SERVICE, MOH_SERVICE]) await t.admin.call('POST', '/services', { id, endpoints: [{ method: 'GET', path: '/**' }] });
}, 60_000);
afterAll(() => t?.close());

type Issued = ReturnType<TestPki['issue']>;
const revoke = async (issued: Issued) => {
  const res = await fetch(`${t.pki.url}/admin/revocations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${t.pki.pki.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ serial: issued.serial, reason: 'keyCompromise' }),
  });
  expect(res.status, await res.text()).toBe(200);
};
/** A signer whose OCSP response is fetched now, from the responder central's configuration names. */
const signer = async (role: RequestSigner['role'], issued: Issued): Promise<RequestSigner> => {
  const [ocsp] = await ocspResponses(t.running.url, [issued.cert]);
  return { role, key: issued.key.privateKey, certificatePem: issued.cert.toString(), ocsp: ocsp! };
};
const accessRightAdd = (service: string, path: string, signers: RequestSigner[]) =>
  postManagementRequest(t.running.url, signManagementRequest({ type: 'accessRightAdd', instance: 'CAMDX', server: SERVER, service, subject: SUBJECT, method: 'GET', path } as never, signers));

const version = async () => (await t.admin.call<{ version: number }>('GET', '/globalconf/status')).version;
/** The configuration version once no signing is pending: unchanged for longer than the publisher's ≤ 1/s debounce. */
async function settledVersion(): Promise<number> {
  let last = await version();
  for (;;) {
    await new Promise((r) => setTimeout(r, 1_100));
    const now = await version();
    if (now === last) return now;
    last = now;
  }
}
const rightsOn = async (service: string) => (await t.admin.call<Array<{ service: string; path: string }>>('GET', '/access-rights')).filter((r) => r.service === service).map((r) => r.path);
const refusals = async () =>
  (await t.admin.call<Array<{ action: string; actor: string; target: string; detail: { type?: string; reason?: string; message?: string } | null }>>('GET', '/audit?limit=1000')).filter((a) => a.action === 'request.refused');

describe('accessRightAdd signed with a certificate revoked at the OCSP responder', () => {
  it("the server owner's: refused with certificate-status (revoked); rights and configuration version unchanged; the refusal audited", async () => {
    const owner = t.pki.issue('member-signing', MOI);
    // The same signer, before its revocation, is accepted: only the revocation makes the difference.
    const before = await accessRightAdd(KYC_SERVICE, '/before-revocation', [await signer('owner', owner)]);
    expect(before.status, JSON.stringify(before.body)).toBe(201);

    await revoke(owner);
    const version0 = await settledVersion();
    const answer = await accessRightAdd(KYC_SERVICE, '/after-revocation', [await signer('owner', owner)]);
    expect(answer.status).toBe(403);
    expect(answer.body).toMatchObject({ error: 'certificate-status' });
    expect(answer.body.message).toMatch(/server owner.*OCSP status is revoked/);
    expect(await rightsOn(KYC_SERVICE)).toEqual(['/before-revocation']);
    expect(await settledVersion()).toBe(version0);
    expect(await refusals()).toContainEqual(
      expect.objectContaining({ actor: `server:${SERVER}`, target: KYC_SERVICE, detail: expect.objectContaining({ type: 'accessRightAdd', reason: 'certificate-status', message: expect.stringMatching(/revoked/) }) }),
    );
  }, 30_000);

  it("the hosted member's, beside a good owner signature: refused with certificate-status naming that member; nothing changes", async () => {
    const owner = t.pki.issue('member-signing', MOI);
    const member = t.pki.issue('member-signing', MOH);
    const before = await accessRightAdd(MOH_SERVICE, '/before-revocation', [await signer('owner', owner), await signer('client', member)]);
    expect(before.status, JSON.stringify(before.body)).toBe(201);

    await revoke(member);
    const version0 = await settledVersion();
    const answer = await accessRightAdd(MOH_SERVICE, '/after-revocation', [await signer('owner', owner), await signer('client', member)]);
    expect(answer.status).toBe(403);
    expect(answer.body).toMatchObject({ error: 'certificate-status' });
    expect(answer.body.message).toMatch(/CAMDX\/GOV\/MOH.*OCSP status is revoked/);
    expect(await rightsOn(MOH_SERVICE)).toEqual(['/before-revocation']);
    expect(await settledVersion()).toBe(version0);
    expect((await refusals()).filter((a) => a.target === MOH_SERVICE && a.detail?.reason === 'certificate-status')).toHaveLength(1);
  }, 30_000);
});

describe("accessRightAdd on a hosted member's service", () => {
  it("signed by the server owner alone: not-owner, naming the member whose service it is; nothing changes", async () => {
    const owner = t.pki.issue('member-signing', MOI);
    const version0 = await settledVersion();
    const answer = await accessRightAdd(MOH_SERVICE, '/owner-only', [await signer('owner', owner)]);
    expect(answer.status).toBe(403);
    expect(answer.body).toMatchObject({ error: 'not-owner' });
    expect(answer.body.message).toMatch(/CAMDX\/GOV\/MOH's to change: the request lacks CAMDX\/GOV\/MOH's signature/);
    expect(await rightsOn(MOH_SERVICE)).not.toContain('/owner-only');
    expect(await settledVersion()).toBe(version0);
    expect(await refusals()).toContainEqual(expect.objectContaining({ target: MOH_SERVICE, detail: expect.objectContaining({ reason: 'not-owner' }) }));
  }, 30_000);
});
