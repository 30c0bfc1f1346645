import type { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOcspRequest } from '../../certs/ocsp/client.js';
import { submitServiceRequest, type SigningKey } from '../../gateway/setup/service-requests.js';
import type { GlobalConf } from '../../protocol/globalconf.js';
import { signManagementRequest, type ManagementEnvelope, type RequestSigner } from '../../protocol/management.js';
import { failure, startTestCentral, type TestCentral } from '../support/central.js';
import type { TestPki } from '../support/pki.js';

/**
 * Services sent to central in signed management requests (serviceAdd, serviceUpdate,
 * serviceRemove): only the service's member may sign them, an older request than the one last
 * applied is refused, and approval works as for registrations.
 */

const MOI = { instance: 'CAMDX', memberClass: 'GOV', memberCode: 'MOI', memberName: 'Ministry of Interior' };
const BANK = { instance: 'CAMDX', memberClass: 'COM', memberCode: 'DEMOBANK', memberName: 'Demo Bank Plc' };
const MOI_SERVER = 'CAMDX/GOV/MOI/SS1';
const BANK_SERVER = 'CAMDX/COM/DEMOBANK/SS1';
const PAYMENTS = 'CAMDX/GOV/MOI/PAYMENTS';
/** A subsystem of the bank's, hosted on the ministry's server. */
const HOSTED = 'CAMDX/COM/DEMOBANK/HOSTED';

const signingKey = (pki: TestPki, member: typeof MOI): SigningKey => {
  const issued = pki.issue('member-signing', member);
  return { key: issued.key.privateKey, cert: issued.cert };
};
const ocspOf = (pki: TestPki, cert: X509Certificate) => pki.services.ocsp.respond(buildOcspRequest(cert, pki.pki.cas.get('camdx-ca')!.cert));

/** A central with the two members, their servers and clients, as registration leaves them. */
async function network(autoApprove: boolean): Promise<{ t: TestCentral; moi: SigningKey; bank: SigningKey }> {
  const t = await startTestCentral({ autoApprove });
  await t.admin.call('POST', '/members', { id: 'CAMDX/GOV/MOI', name: MOI.memberName });
  await t.admin.call('POST', '/members', { id: 'CAMDX/COM/DEMOBANK', name: BANK.memberName });
  for (const id of [PAYMENTS, HOSTED, 'CAMDX/COM/DEMOBANK/ONBOARDING']) await t.admin.call('POST', '/subsystems', { id });
  await t.admin.call('POST', '/servers', { id: MOI_SERVER, address: '127.0.0.1:5502' });
  await t.admin.call('POST', '/servers', { id: BANK_SERVER, address: '127.0.0.1:5503' });
  for (const client of [PAYMENTS, HOSTED]) await t.admin.call('POST', `/servers/${MOI_SERVER}/clients`, { client });
  await t.admin.call('POST', `/servers/${BANK_SERVER}/clients`, { client: 'CAMDX/COM/DEMOBANK/ONBOARDING' });
  return { t, moi: signingKey(t.pki, MOI), bank: signingKey(t.pki, BANK) };
}

const publishedConf = async (t: TestCentral): Promise<GlobalConf> => {
  const jws = await (await fetch(`${t.running.url}/globalconf`)).text();
  return JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString('utf8')) as GlobalConf;
};
const publishedService = async (t: TestCentral, id: string) => (await publishedConf(t)).services.find((s) => s.id === id);
const requestCount = async (t: TestCentral) => (await t.admin.call<unknown[]>('GET', '/management-requests')).length;

async function post(t: TestCentral, envelope: unknown): Promise<{ status: number; body: { id?: number; status?: string; error?: string; message?: string } }> {
  const res = await fetch(`${t.running.url}/management/requests`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(envelope) });
  return { status: res.status, body: (await res.json()) as { error?: string } };
}

let sim: Awaited<ReturnType<typeof network>>;
let held: Awaited<ReturnType<typeof network>>;
beforeAll(async () => {
  [sim, held] = await Promise.all([network(true), network(false)]);
}, 60_000);
afterAll(async () => {
  await Promise.all([sim?.t.close(), held?.t.close()]);
});

/** A request signed directly (not through the gateway helper), so tests can choose signers and time. */
function signed(
  pki: TestPki,
  body: { type: 'serviceAdd' | 'serviceUpdate'; service: string; endpoints: Array<{ method: string; path: string }>; server?: string } | { type: 'serviceRemove'; service: string; server?: string },
  keys: ReadonlyArray<[RequestSigner['role'], SigningKey]>,
  at = Date.now(),
): ManagementEnvelope {
  const signers = keys.map(([role, k]): RequestSigner => ({ role, key: k.key, certificatePem: k.cert.toString(), ocsp: ocspOf(pki, k.cert) }));
  return signManagementRequest({ ...body, instance: 'CAMDX', server: body.server ?? MOI_SERVER }, signers, at);
}

describe('services in signed management requests (simulation mode: approved at once)', () => {
  const ORDERS = `${PAYMENTS}/orders`;

  it("a serviceAdd signed by the service's member applies, and the next configuration carries it; serviceUpdate and serviceRemove follow", async () => {
    const { t, moi } = sim;
    const before = (await publishedConf(t)).version;
    const doc = JSON.stringify({ openapi: '3.1.0', info: { title: 'orders', version: '1' }, paths: { '/orders/{id}': { get: {} } } });
    const added = await submitServiceRequest(t.running.url, { serverId: MOI_SERVER, owner: moi, change: { type: 'serviceAdd', service: ORDERS, endpoints: [{ method: 'GET', path: '/orders/*' }], openApi: doc } });
    expect(added.status).toBe('approved');
    const conf = await publishedConf(t);
    expect(conf.version).toBeGreaterThan(before);
    expect(conf.services.find((s) => s.id === ORDERS)).toMatchObject({ endpoints: [{ method: 'GET', path: '/orders/*' }], openApi: doc });

    const endpoints = [{ method: 'POST', path: '/orders' }, { method: 'GET', path: '/orders/**' }];
    await submitServiceRequest(t.running.url, { serverId: MOI_SERVER, owner: moi, change: { type: 'serviceUpdate', service: ORDERS, endpoints } });
    const updated = await publishedService(t, ORDERS);
    expect(updated!.endpoints).toEqual(expect.arrayContaining(endpoints));
    expect(updated!.endpoints).toHaveLength(2);
    expect(updated!.openApi).toBeUndefined();

    await submitServiceRequest(t.running.url, { serverId: MOI_SERVER, owner: moi, change: { type: 'serviceRemove', service: ORDERS } });
    expect(await publishedService(t, ORDERS)).toBeUndefined();
    // The records name the service; the lists leave the document out.
    const records = (await t.admin.call<Array<{ type: string; subject: string; detail: Record<string, string> }>>('GET', '/management-requests')).filter((r) => r.subject === ORDERS);
    expect(records.map((r) => r.type)).toEqual(['serviceAdd', 'serviceUpdate', 'serviceRemove']);
    expect(records[0]!.detail).not.toHaveProperty('openApi');
    expect(records[0]!.detail.openApiSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("a service of another member's subsystem hosted on the server applies when that member countersigns", async () => {
    const { t, moi, bank } = sim;
    const service = `${HOSTED}/accounts`;
    const outcome = await submitServiceRequest(t.running.url, { serverId: MOI_SERVER, owner: moi, member: bank, change: { type: 'serviceAdd', service, endpoints: [{ method: 'GET', path: '/accounts' }] } });
    expect(outcome.status).toBe('approved');
    expect(await publishedService(t, service)).toBeDefined();
  });

  const foreignSigners: Array<[string, () => ManagementEnvelope, number, string, RegExp]> = [
    [
      "signed by another member, sent as from this member's server",
      () => signed(sim.t.pki, { type: 'serviceAdd', service: `${PAYMENTS}/forged`, endpoints: [{ method: 'GET', path: '/x' }] }, [['owner', sim.bank]]),
      403,
      'identity-mismatch',
      /issued to CAMDX\/COM\/DEMOBANK, not CAMDX\/GOV\/MOI/,
    ],
    [
      "signed by another member, sent from its own server (this member's subsystem is not its client)",
      () => signed(sim.t.pki, { type: 'serviceAdd', service: `${PAYMENTS}/forged`, endpoints: [{ method: 'GET', path: '/x' }], server: BANK_SERVER }, [['owner', sim.bank]]),
      403,
      'identity-mismatch',
      /CAMDX\/GOV\/MOI\/PAYMENTS.*is not a client of security server CAMDX\/COM\/DEMOBANK\/SS1/,
    ],
    [
      'by the hosting server owner alone, for a subsystem of another member',
      () => signed(sim.t.pki, { type: 'serviceAdd', service: `${HOSTED}/forged`, endpoints: [{ method: 'GET', path: '/x' }] }, [['owner', sim.moi]]),
      403,
      'invalid-signature',
      /lacks the client signature/,
    ],
    [
      'by the hosting server owner, countersigned by itself instead of the member',
      () => signed(sim.t.pki, { type: 'serviceAdd', service: `${HOSTED}/forged`, endpoints: [{ method: 'GET', path: '/x' }] }, [['owner', sim.moi], ['client', sim.moi]]),
      403,
      'identity-mismatch',
      /member of service CAMDX\/COM\/DEMOBANK\/HOSTED\/forged is issued to CAMDX\/GOV\/MOI, not CAMDX\/COM\/DEMOBANK/,
    ],
  ];

  it.each(foreignSigners)('a serviceAdd %s is refused; the configuration version is unchanged', async (_name, make, status, error, message) => {
    const { t } = sim;
    const [version, count] = [(await publishedConf(t)).version, await requestCount(t)];
    const res = await post(t, make());
    expect(res).toMatchObject({ status, body: { error } });
    expect(res.body.message).toMatch(message);
    await t.running.publisher.settled();
    expect((await publishedConf(t)).version).toBe(version);
    expect(await requestCount(t)).toBe(count);
    expect((await publishedConf(t)).services.map((s) => s.id)).not.toContain(`${PAYMENTS}/forged`);
  });

  it('refuses a request older than the last one applied to the service, and a replayed one', async () => {
    const { t, moi } = sim;
    const service = `${PAYMENTS}/ledger`;
    const now = Date.now();
    const add = signed(t.pki, { type: 'serviceAdd', service, endpoints: [{ method: 'GET', path: '/v2' }] }, [['owner', moi]], now);
    expect((await post(t, add)).status).toBe(201);
    const version = (await publishedConf(t)).version;

    // Signed a minute before the applied one (still within the clock window), delivered late.
    const older = signed(t.pki, { type: 'serviceUpdate', service, endpoints: [{ method: 'GET', path: '/v1' }] }, [['owner', moi]], now - 60_000);
    const late = await post(t, older);
    expect(late).toMatchObject({ status: 409, body: { error: 'out-of-order' } });
    expect(late.body.message).toMatch(/already applied.*is older/);
    const replayed = await post(t, add);
    expect(replayed).toMatchObject({ status: 409, body: { error: 'replay' } });

    expect((await publishedConf(t)).version).toBe(version);
    expect((await publishedService(t, service))!.endpoints).toEqual([{ method: 'GET', path: '/v2' }]);
  });

  it('refuses a serviceAdd for an existing service and a serviceUpdate for a missing one, recording nothing', async () => {
    const { t, moi } = sim;
    const service = `${PAYMENTS}/twice`;
    expect((await post(t, signed(t.pki, { type: 'serviceAdd', service, endpoints: [] }, [['owner', moi]]))).status).toBe(201);
    const count = await requestCount(t);
    expect(await post(t, signed(t.pki, { type: 'serviceAdd', service, endpoints: [] }, [['owner', moi]]))).toMatchObject({ status: 409, body: { error: 'service-exists' } });
    expect(await post(t, signed(t.pki, { type: 'serviceUpdate', service: `${PAYMENTS}/missing`, endpoints: [] }, [['owner', moi]]))).toMatchObject({ status: 404, body: { error: 'unknown-service' } });
    expect(await post(t, signed(t.pki, { type: 'serviceAdd', service: `${PAYMENTS}/bad`, endpoints: [{ method: 'GET', path: 'no-slash' }] }, [['owner', moi]]))).toMatchObject({ status: 400, body: { error: 'invalid-request' } });
    expect(await requestCount(t)).toBe(count);
  });

  it('a serviceRemove that cannot apply (access rights remain) is not left recorded, and no configuration is signed', async () => {
    const { t, moi } = sim;
    const service = `${PAYMENTS}/granted`;
    expect((await post(t, signed(t.pki, { type: 'serviceAdd', service, endpoints: [{ method: 'GET', path: '/g' }] }, [['owner', moi]]))).status).toBe(201);
    await t.admin.call('POST', '/access-rights', { subject: 'CAMDX/COM/DEMOBANK/ONBOARDING', service, method: 'GET', path: '/g' });
    await t.running.publisher.settled();
    const [version, count] = [(await publishedConf(t)).version, await requestCount(t)];
    const res = await post(t, signed(t.pki, { type: 'serviceRemove', service }, [['owner', moi]]));
    expect(res).toMatchObject({ status: 409, body: { error: 'in-use' } });
    await t.running.publisher.settled();
    expect((await publishedConf(t)).version).toBe(version);
    expect(await requestCount(t)).toBe(count);
    expect(await publishedService(t, service)).toBeDefined();
  });
});

describe('services in signed management requests (approval by an administrator)', () => {
  it('keeps a request pending until it is approved, then applies it', async () => {
    const { t, moi } = held;
    const service = `${PAYMENTS}/pending`;
    const outcome = await submitServiceRequest(t.running.url, { serverId: MOI_SERVER, owner: moi, change: { type: 'serviceAdd', service, endpoints: [{ method: 'GET', path: '/p' }] } });
    expect(outcome.status).toBe('pending');
    expect(await publishedService(t, service)).toBeUndefined();
    const approved = await t.admin.call<{ status: string }>('POST', `/management-requests/${outcome.id}/approve`);
    expect(approved.status).toBe('approved');
    expect((await publishedService(t, service))!.endpoints).toEqual([{ method: 'GET', path: '/p' }]);
  });

  it('refuses to approve a request older than one approved after it was sent', async () => {
    const { t, moi } = held;
    const service = `${PAYMENTS}/raced`;
    const now = Date.now();
    const add = await post(t, signed(t.pki, { type: 'serviceAdd', service, endpoints: [] }, [['owner', moi]], now - 2000));
    await t.admin.call('POST', `/management-requests/${add.body.id}/approve`);
    const first = await post(t, signed(t.pki, { type: 'serviceUpdate', service, endpoints: [{ method: 'GET', path: '/first' }] }, [['owner', moi]], now - 1000));
    const second = await post(t, signed(t.pki, { type: 'serviceUpdate', service, endpoints: [{ method: 'GET', path: '/second' }] }, [['owner', moi]], now));
    await t.admin.call('POST', `/management-requests/${second.body.id}/approve`);
    expect(await failure(t.admin.call('POST', `/management-requests/${first.body.id}/approve`))).toMatchObject({ status: 409, error: 'out-of-order' });
    expect((await t.admin.call<{ status: string }>('GET', `/management-requests/${first.body.id}`)).status).toBe('pending');
    expect((await publishedService(t, service))!.endpoints).toEqual([{ method: 'GET', path: '/second' }]);
  });
});
