import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCamdx, type ChildService } from '../../common/child.js';
import { freePort } from '../../common/ports.js';
import { run } from '../support/run.js';
import { freePortOffset, startSim, type RunningSim } from '../support/sim.js';
import { tempDir } from '../support/tmp.js';

const BIN = join(import.meta.dirname, '../../bin/camdx.js');
let dir: { path: string; cleanup(): void };
let sim: RunningSim;
const services: ChildService[] = [];

beforeAll(async () => {
  dir = tempDir();
  sim = await startSim(join(dir.path, 'var'), await freePortOffset());
}, 120_000);
afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()));
  await sim?.stop();
  dir?.cleanup();
});

/** `npx camdx …` in the integrator's working directory, against the running network's state. */
async function camdx(...args: string[]): Promise<string> {
  const res = await run(process.execPath, [BIN, ...args], { cwd: dir.path, env: { ...process.env, CAMDX_STATE_DIR: join(dir.path, 'var') } });
  if (res.code !== 0) throw new Error(`camdx ${args.join(' ')} failed (${res.code}): ${res.stderr}${res.stdout}`);
  return res.stdout;
}

/**
 * Calls through a gateway, retrying while the new global configuration is still spreading
 * (gateways poll it every few seconds): unknown parties, and rights not yet seen when `allowed`.
 */
async function callUntilKnown(url: string, client: string, init: { method: string; body?: string }, allowed = true): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  for (let i = 0; ; i++) {
    const res = await fetch(url, { ...init, headers: { 'x-road-client': client, 'content-type': 'application/json' } });
    const text = await res.text();
    const json = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
    const spreading = typeof json.type === 'string' && (/Unknown|ClientNotRegistered|SslAuthenticationFailed|CertValidation/.test(json.type) || (allowed && /AccessDenied/.test(json.type)));
    if (!spreading || i >= 40) return { status: res.status, json, headers: res.headers };
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe('bring your own member (the README walk-through)', () => {
  it('adds Acme with its own keys and gateway, serves MOC, and calls MOI', async () => {
    const pkiUrl = sim.url('PKI (CAs, RA, OCSP, TSA)');
    const [consumer, peer, admin, api] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);

    // 1. Central's operator registers the organisation, its subsystem and its security server.
    const member = await camdx('central', 'member', 'add', 'CAMDX/COM/ACME', '--name', 'Acme Trading');
    writeFileSync(join(dir.path, 'sign.token'), /enrolment token \(until [^)]*\): (\S+)/.exec(member)![1]!);
    await camdx('central', 'subsystem', 'add', 'CAMDX/COM/ACME/SHOP');
    const server = await camdx('central', 'server', 'add', 'CAMDX/COM/ACME/SS1', '--address', `127.0.0.1:${peer}`);
    writeFileSync(join(dir.path, 'auth.token'), /enrolment token \(until [^)]*\): (\S+)/.exec(server)![1]!);

    // 2. Acme makes its keys and CSRs, and gets its certificates from the RA.
    await camdx('pki', 'keygen', '--out', 'sign.key');
    await camdx('pki', 'keygen', '--out', 'auth.key');
    await camdx('pki', 'csr', '--key', 'sign.key', '--profile', 'member-signing', '--member', 'CAMDX/COM/ACME', '--member-name', 'Acme Trading', '--out', 'sign.csr');
    await camdx('pki', 'csr', '--key', 'auth.key', '--profile', 'server-auth', '--member', 'CAMDX/COM/ACME', '--member-name', 'Acme Trading', '--server-code', 'SS1', '--ip', '127.0.0.1', '--out', 'auth.csr');
    await camdx('pki', 'issue', '--csr', 'sign.csr', '--token-file', 'sign.token', '--url', pkiUrl, '--out', 'sign.pem');
    await camdx('pki', 'issue', '--csr', 'auth.csr', '--token-file', 'auth.token', '--url', pkiUrl, '--out', 'auth.pem');

    // 3. Its gateway: configured, registered with central by signed requests.
    await camdx('central', 'anchor', '--out', 'anchor.json');
    const init = await camdx('gateway', 'init', '--dir', 'acme-gw', '--owner', 'CAMDX/COM/ACME', '--sign-key', 'sign.key', '--sign-cert', 'sign.pem', '--auth-key', 'auth.key', '--auth-cert', 'auth.pem', '--anchor', 'anchor.json',
      '--consumer-port', String(consumer), '--peer-port', String(peer), '--admin-port', String(admin), '--service', `CAMDX/COM/ACME/SHOP/orders=http://127.0.0.1:${api}`, '--http-client', 'CAMDX/COM/ACME/SHOP');
    expect(init).toMatch(/gateway configuration written to .*acme-gw\/gateway\.yaml/);
    // Its admin token: random, owner-only; the admin port's records need it.
    expect(statSync(join(dir.path, 'acme-gw/admin-token')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir.path, 'acme-gw/admin-token'), 'utf8').trim()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(readFileSync(join(dir.path, 'acme-gw/gateway.yaml'), 'utf8')).toMatch(/clients:\n\s+CAMDX\/COM\/ACME\/SHOP:\n\s+connection: HTTP/);
    const registered = await camdx('gateway', 'register', '--config', 'acme-gw/gateway.yaml', '--client', 'CAMDX/COM/ACME/SHOP');
    expect(registered).toMatch(/authentication certificate of CAMDX\/COM\/ACME\/SS1: approved\nclient CAMDX\/COM\/ACME\/SHOP: approved/);
    expect(await camdx('gateway', 'register', '--config', 'acme-gw/gateway.yaml', '--client', 'CAMDX/COM/ACME/SHOP')).toMatch(/already registered/);
    // 4. Before it starts (gateways read the global configuration every minute): its service and the rights: MOC may read orders; Acme may check people with MOI.
    await camdx('central', 'service', 'add', 'CAMDX/COM/ACME/SHOP/orders', '--endpoint', 'GET /orders/**');
    await camdx('central', 'right', 'add', 'CAMDX/GOV/MOC/BIZREG', 'CAMDX/COM/ACME/SHOP/orders');
    await camdx('central', 'right', 'add', 'CAMDX/COM/ACME/SHOP', 'CAMDX/GOV/MOI/KYC/kyc', '--method', 'POST', '--path', '/api/2.0/kyc/info');

    // 5. Its API (an echo service stands in) and its gateway run.
    services.push(await spawnCamdx(['echo', '--port', String(api)], /echo service listening/));
    services.push(await spawnCamdx(['gateway', 'run', '--config', join(dir.path, 'acme-gw/gateway.yaml')], /gateway \S+ ready/));

    // 6. MOC calls Acme through both gateways; Acme calls MOI.
    const order = await callUntilKnown(`${sim.url('MOC gateway')}/r1/CAMDX/COM/ACME/SHOP/orders/orders/42`, 'CAMDX/GOV/MOC/BIZREG', { method: 'GET' });
    expect(order.json).toEqual({});
    expect(order.status).toBe(200);
    // The echo service saw MOC's call, as Acme's own API would.
    expect([order.headers.get('x-echo-method'), order.headers.get('x-echo-url'), order.headers.get('x-echo-client')]).toEqual(['GET', '/orders/42', 'CAMDX/GOV/MOC/BIZREG']);
    const acmeGateway = `http://127.0.0.1:${consumer}`;
    const kyc = await callUntilKnown(`${acmeGateway}/r1/CAMDX/GOV/MOI/KYC/kyc/api/2.0/kyc/info`, 'CAMDX/COM/ACME/SHOP', { method: 'POST', body: JSON.stringify({ idNumber: '010000019', lastNameEn: 'HENG' }) });
    expect(kyc.json).toMatchObject({ error: 0, data: { idNumber: '010000019' } });
    const denied = await callUntilKnown(`${acmeGateway}/r1/CAMDX/GOV/MOI/KYC/kyc/api/2.0/kyc/ocr-idcard`, 'CAMDX/COM/ACME/SHOP', { method: 'POST', body: '{}' }, false);
    expect(denied.json.type).toBe('Server.ServerProxy.AccessDenied');
    // Its operational records: with the admin token only.
    expect((await fetch(`http://127.0.0.1:${admin}/records`)).status).toBe(401);
    const token = readFileSync(join(dir.path, 'acme-gw/admin-token'), 'utf8').trim();
    expect((await fetch(`http://127.0.0.1:${admin}/records`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  }, 180_000);

  it('refuses a gateway set-up whose certificate is not for its key, writing nothing', async () => {
    const res = await run(process.execPath, [BIN, 'gateway', 'init', '--dir', 'bad-gw', '--owner', 'CAMDX/COM/ACME', '--sign-key', 'auth.key', '--sign-cert', 'sign.pem', '--auth-key', 'auth.key', '--auth-cert', 'auth.pem', '--anchor', 'anchor.json', '--consumer-port', '1', '--peer-port', '2', '--admin-port', '3'], { cwd: dir.path });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('signing: the certificate in sign.pem is not for the key in auth.key');
    const swapped = await run(process.execPath, [BIN, 'gateway', 'init', '--dir', 'bad-gw', '--owner', 'CAMDX/COM/ACME', '--sign-key', 'auth.key', '--sign-cert', 'auth.pem', '--auth-key', 'sign.key', '--auth-cert', 'sign.pem', '--anchor', 'anchor.json', '--consumer-port', '1', '--peer-port', '2', '--admin-port', '3'], { cwd: dir.path });
    expect(swapped.stderr).toMatch(/not an authentication certificate/);
    expect((await run('ls', [dir.path])).stdout).not.toContain('bad-gw');
  });
});
