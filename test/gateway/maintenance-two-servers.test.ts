import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { call, errorOf, type RawResponse } from '../support/http.js';
import { SERVICE, startTestNetwork, type TestGateway, type TestNetwork } from '../support/network.js';
import { startEcho, type EchoService } from '../support/echo.js';
import { startSecondServer } from '../support/second-server.js';

/**
 * Issue 20 with a provider on two security servers: MOI/KYC's echo service is hosted on SS1
 * (backend `n.echo`) and SS2 (its own backend `echo2`), so which backend a call reached says
 * which server answered. Maintenance on one server sends every call to the other; on both,
 * callers hear the owner's message. A right central's console granted is the provider's to
 * revoke: its server denies at once, and the configuration drops the right within a poll.
 * (The only-server maintenance case is in access-rights.test.ts.)
 */
const CLIENT = 'CAMDX/COM/DEMOBANK/ONBOARDING';
const OTHER = 'CAMDX/COM/DEMOBANK/OTHER';
const SS1 = 'CAMDX/GOV/MOI/SS1';
const SS2 = 'CAMDX/GOV/MOI/SS2';
let n: TestNetwork;
let ss2: TestGateway;
let echo2: EchoService;

/** A call through the consumer gateway, optionally pinned to one provider server (X-Road-Security-Server). */
const callAs = (client: string, path: string, server?: string) =>
  call(`${n.serviceUrl}${path}`, { headers: [['X-Road-Client', client], ...(server ? ([['X-Road-Security-Server', server]] as Array<[string, string]>) : [])] });
const typeOf = (res: RawResponse) => res.headers['x-road-error'] as string | undefined;
async function until(check: () => Promise<boolean>, ms = 15_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

beforeAll(async () => {
  n = await startTestNetwork();
  echo2 = await startEcho();
  const endpoints = [{ method: 'GET', path: '/echo/**' }];
  ss2 = await startSecondServer(n, { member: 'CAMDX/GOV/MOI', name: 'Ministry of Interior', serverCode: 'SS2', subsystems: ['KYC'], services: { [SERVICE]: { url: echo2.url, endpoints } } });
  // The consumer knows SS2 once a call pinned to it passes.
  if (!(await until(async () => (await callAs(CLIENT, '/echo/ready', SS2)).status === 200, 30_000))) throw new Error('SS2 never served the echo service');
}, 120_000);
afterAll(async () => {
  await ss2?.child.stop();
  await echo2?.close();
  await n?.close();
});

const json = (method: string, body?: unknown): RequestInit => ({ method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
const maintenanceOn = async (g: TestGateway, message: string) => {
  const res = await g.admin('/maintenance', json('POST', { message }));
  expect(res.status, await res.text()).toBe(201);
};
/** Where `count` unpinned calls went: how many each backend (so each server) received; all must pass. */
async function backendsOf(count: number): Promise<{ ss1: number; ss2: number }> {
  const [a, b] = [n.echo.calls.length, echo2.calls.length];
  for (let i = 0; i < count; i++) {
    const res = await callAs(CLIENT, `/echo/call-${i}`);
    expect(res.status, res.body.toString()).toBe(200);
  }
  return { ss1: n.echo.calls.length - a, ss2: echo2.calls.length - b };
}

describe("maintenance on a provider's two servers", () => {
  // Both servers end in service whatever the outcome, so a failure cannot fail the next test.
  afterEach(async () => {
    await Promise.all([n.provider, ss2].map((g) => g.admin('/maintenance', { method: 'DELETE' })));
    await until(async () => (await callAs(CLIENT, '/echo/x', SS1)).status === 200);
  });

  it("SS1 in maintenance: every call reaches SS2; both: Server.ClientProxy.MaintenanceMode with the owner's message; SS2 back: calls reach it", async () => {
    // In service, calls go to the first server in configuration order.
    expect(await backendsOf(3)).toEqual({ ss1: 3, ss2: 0 });

    await maintenanceOn(n.provider, 'SS1: replacing its disks');
    expect(await until(async () => (await backendsOf(1)).ss2 === 1)).toBe(true);
    expect(await backendsOf(5)).toEqual({ ss1: 0, ss2: 5 });

    await maintenanceOn(ss2, 'SS2: moving to the new data centre');
    expect(await until(async () => typeOf(await callAs(CLIENT, '/echo/x')) === 'Server.ClientProxy.MaintenanceMode')).toBe(true);
    const refused = errorOf(await callAs(CLIENT, '/echo/x'));
    expect(refused.message).toBe(`security server ${SS1} (and every other server of CAMDX/GOV/MOI/KYC) is in maintenance mode: SS1: replacing its disks`);

    const off = await ss2.admin('/maintenance', { method: 'DELETE' });
    expect(off.status, await off.text()).toBeLessThan(300);
    expect(await until(async () => (await callAs(CLIENT, '/echo/x')).status === 200)).toBe(true);
    expect(await backendsOf(3)).toEqual({ ss1: 0, ss2: 3 });
  }, 60_000);
});

describe("a provider revokes a right central's console granted", () => {
  const right = { service: SERVICE, subject: OTHER, method: 'GET', path: '/echo/granted-by-central' };
  const centralRights = () => n.central.admin.call<Array<typeof right & { id: number; origin: string }>>('GET', '/access-rights');
  /** The rights of the configuration central publishes now. */
  const publishedRights = async () => {
    const jws = await (await fetch(`${n.central.running.url}/globalconf`)).text();
    return (JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString('utf8')) as { accessRights: Array<typeof right> }).accessRights;
  };
  const matches = (r: typeof right) => r.service === right.service && r.subject === right.subject && r.method === right.method && r.path === right.path;
  afterEach(async () => {
    for (const r of (await centralRights()).filter(matches)) await n.central.admin.call('DELETE', `/access-rights/${r.id}`);
    await n.provider.admin('/access-rights/withdrawals', json('DELETE', right));
  });

  it('granted at central (origin central:<user>), the call passes; revoked in the provider console with central up: denied at once; the configuration drops it within a poll, and SS2 denies it too', async () => {
    await n.central.admin.call('POST', '/access-rights', right);
    expect((await centralRights()).find(matches)?.origin).toMatch(/^central:\S+/);
    expect(await until(async () => (await callAs(OTHER, right.path, SS1)).status === 200)).toBe(true);
    expect(await until(async () => (await callAs(OTHER, right.path, SS2)).status === 200)).toBe(true);

    const revoked = await n.provider.admin('/access-rights', json('DELETE', right));
    const body = await revoked.text();
    expect(revoked.status, body).toBe(200);
    expect(JSON.parse(body)).toMatchObject({ withdrawn: true, central: 'recorded' });
    // SS1 has not polled yet: the deny is its own, at once.
    expect(typeOf(await callAs(OTHER, right.path, SS1))).toBe('Server.ServerProxy.AccessDenied');

    expect(await until(async () => !(await publishedRights()).some(matches), 5_000)).toBe(true);
    expect((await centralRights()).some(matches)).toBe(false);
    // The other server of the provider learns it from the configuration.
    expect(await until(async () => typeOf(await callAs(OTHER, right.path, SS2)) === 'Server.ServerProxy.AccessDenied', 5_000)).toBe(true);
    // The entry ends once SS1 polls the configuration without the right; the deny stays.
    expect(await until(async () => ((await (await n.provider.admin('/access-rights')).json()) as { withdrawals: unknown[] }).withdrawals.length === 0, 5_000)).toBe(true);
    expect(typeOf(await callAs(OTHER, right.path, SS1))).toBe('Server.ServerProxy.AccessDenied');
  }, 60_000);
});
