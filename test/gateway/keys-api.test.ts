import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idPath } from '../../central/admin-client.js';
import { generateKeyPair, privateKeyFromPem } from '../../certs/keys.js';
import { buildCsr, submitCsr } from '../../certs/ra-client.js';
import type { Identity } from '../../certs/profiles.js';
import { call, outcomeOf, untilOutcome } from '../support/http.js';
import { CLIENT, startTestNetwork, type TestNetwork } from '../support/network.js';
import { openssl, run } from '../support/run.js';
import { tempDir } from '../support/tmp.js';

/**
 * A gateway's keys and certificates through its console API (`/api/v1/keys`,
 * `/token-certificates`) and `camdx gateway key|csr|cert`: a new key, its CSR naming only this
 * owner and server, the RA's certificate for an enrolment token, its import with gateway init's
 * checks (the running gateway switches), registerAuthCert; and the refusals, which change nothing.
 */
let n: TestNetwork;
const dir = tempDir('keys-api-');
const OWNER = 'CAMDX/COM/DEMOBANK';
const SERVER = `${OWNER}/SS1`;
const BIN = join(import.meta.dirname, '../../bin/camdx.js');

beforeAll(async () => {
  n = await startTestNetwork();
}, 90_000);
afterAll(async () => {
  await n?.close();
  dir.cleanup();
});

async function api(method: string, path: string, body?: unknown) {
  const res = await n.consumer.admin(path, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
const camdx = (...args: string[]) => run(process.execPath, [BIN, ...args]);
const exchange = () => call(`${n.serviceUrl}/echo/keys`, { method: 'POST', headers: [['X-Road-Client', CLIENT], ['Content-Type', 'text/plain']], body: 'hello' });
const keystores = () => Object.fromEntries(readdirSync(n.consumer.dir).filter((f) => /\.p12/.test(f)).map((f) => [f, readFileSync(join(n.consumer.dir, f)).toString('base64')]));
const audited = (action: string) =>
  readFileSync(join(n.consumer.dir, 'console-audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string; target: string; detail?: Record<string, unknown> }).filter((l) => l.action === action);

async function signingToken(member: string): Promise<string> {
  return (await n.central.admin.call<{ signing: { token: string } }>('POST', `/members/${idPath(member)}/enrolments`)).signing.token;
}
async function authToken(server: string): Promise<string> {
  return (await n.central.admin.call<{ auth: { token: string } }>('POST', `/servers/${idPath(server)}/enrolments`)).auth.token;
}
/** The RA's certificate for `key` under a profile and identity the test picks, as another party could get one. */
async function issuedFor(key: ReturnType<typeof privateKeyFromPem>, profile: 'member-signing' | 'server-auth', identity: Identity, token: string): Promise<string> {
  return (await submitCsr(n.central.pki.url, buildCsr(profile, identity, key), token)).join('');
}
const pendingKey = (role: string) => privateKeyFromPem(readFileSync(join(n.consumer.dir, `pending-${role}.key`)));
const DEMOBANK = { instance: 'CAMDX', memberClass: 'COM', memberCode: 'DEMOBANK', memberName: 'Demo Bank Plc' };
const MOI = { instance: 'CAMDX', memberClass: 'GOV', memberCode: 'MOI', memberName: 'Ministry of Interior' };

describe("a gateway's keys and certificates", () => {
  it('makes a signing key, its CSR for this owner only, the certificate from the RA, and imports it: the gateway signs with it', async () => {
    const key = await api('POST', '/keys', { role: 'signing' });
    expect(key).toMatchObject({ status: 201, body: { role: 'signing', keyType: 'P-256' } });
    const id = String(key.body.id);
    expect(statSync(join(n.consumer.dir, 'pending-signing.key')).mode & 0o777).toBe(0o600);
    expect((await api('GET', '/keys')).body).toEqual(expect.arrayContaining([expect.objectContaining({ id, role: 'signing', state: 'pending' })]));

    const csr = await api('POST', `/keys/${id}/csrs`, {});
    expect(csr.status).toBe(201);
    const checked = await openssl(['req', '-verify', '-noout', '-subject'], { input: String(csr.body.csr) });
    expect(checked.code, checked.stderr).toBe(0);
    expect(checked.stdout.trim()).toBe(`subject=C = KH, O = Demo Bank Plc, serialNumber = ${OWNER}, CN = DEMOBANK`);

    const issued = await api('POST', `/keys/${id}/certificate-requests`, { enrolmentToken: await signingToken(OWNER), raUrl: n.central.pki.url });
    expect(issued.status, JSON.stringify(issued.body)).toBe(201);
    writeFileSync(join(dir.path, 'sign.pem'), String(issued.body.certificate));
    const verified = await openssl(['verify', '-CAfile', n.central.pki.caFile, join(dir.path, 'sign.pem')]);
    expect(verified.code, verified.stderr).toBe(0);

    const imported = await api('POST', '/token-certificates', { certificate: issued.body.certificate });
    expect(imported, JSON.stringify(imported.body)).toMatchObject({ status: 201, body: { role: 'signing', keyId: id, serial: issued.body.serial, ocsp: { status: 'good' } } });
    expect((await api('GET', '/token-certificates')).body).toMatchObject({ signing: { serial: issued.body.serial, ocsp: { good: true } } });
    expect(readdirSync(n.consumer.dir).filter((f) => f.startsWith('pending-') || f.endsWith('.old'))).toEqual([]);
    expect(await untilOutcome(exchange, 'ok', 10_000)).toBe('ok');
    expect(audited('POST /api/v1/token-certificates').at(-1)).toMatchObject({ detail: { status: 201, outcome: 'imported', role: 'signing' } });
  }, 30_000);

  it('refuses a CSR naming another member or server, and certificates for no key, of another role, or naming another member; the keystores stay byte for byte', async () => {
    const id = String((await api('POST', '/keys', { role: 'signing' })).body.id);
    const before = keystores();
    expect(await api('POST', `/keys/${id}/csrs`, { memberId: 'CAMDX/GOV/MOI' })).toMatchObject({ status: 400, body: { error: 'other-member', field: 'memberId', message: expect.stringContaining(`only for its owner ${OWNER}, not CAMDX/GOV/MOI`) } });
    expect(await api('POST', `/keys/${id}/csrs`, { serverId: 'CAMDX/GOV/MOI/SS1' })).toMatchObject({ status: 400, body: { error: 'other-server', field: 'serverId' } });
    expect(audited('POST /api/v1/keys/{id}/csrs').filter((l) => l.detail?.outcome === 'refused').map((l) => l.detail?.code)).toEqual(['other-member', 'other-server']);

    const noKey = await issuedFor(generateKeyPair('P-256').privateKey, 'member-signing', DEMOBANK, await signingToken(OWNER));
    const otherMember = await issuedFor(pendingKey('signing'), 'member-signing', MOI, await signingToken('CAMDX/GOV/MOI'));
    const otherRole = await issuedFor(pendingKey('signing'), 'server-auth', { ...DEMOBANK, serverCode: 'SS1' }, await authToken(SERVER));
    const refusals = [
      [noKey, 'no-matching-key', 'the certificate matches no key of this gateway'],
      [otherMember, 'wrong-member', `the certificate names another member: it is issued to CAMDX/GOV/MOI, and this gateway's owner is ${OWNER}`],
      [otherRole, 'wrong-role', 'the certificate fits another role: it is an authentication (TLS) certificate, and its key is the pending signing key'],
    ] as const;
    for (const [certificate, error, message] of refusals) {
      const res = await api('POST', '/token-certificates', { certificate });
      expect(res, error).toMatchObject({ status: 400, body: { error, field: 'certificate', message: expect.stringContaining(message) } });
      expect(keystores(), error).toEqual(before);
    }
    expect(audited('POST /api/v1/token-certificates').filter((l) => l.detail?.outcome === 'refused').map((l) => l.detail?.code)).toEqual(refusals.map((r) => r[1]));
    expect(await api('POST', '/token-certificates', { certificate: 'no PEM' })).toMatchObject({ status: 400, body: { error: 'malformed', field: 'certificate' } });
    expect(await api('POST', '/keys', { role: 'tls' })).toMatchObject({ status: 400, body: { error: 'invalid', field: 'role' } });
    expect(readFileSync(join(n.consumer.dir, 'console-audit.log'), 'utf8')).not.toContain('BEGIN');
    expect(keystores()).toEqual(before);
  }, 30_000);

  it('does the auth steps with camdx gateway key|csr|cert: import (saved), registerAuthCert, the switch within a poll, and no call fails on the way', async () => {
    const cfg = n.consumer.config;
    const made = await camdx('gateway', 'key', 'new', '--config', cfg, '--role', 'auth');
    expect(made.code, made.stderr).toBe(0);
    const id = /^key ([0-9A-F]{40}): a new P-256 auth key/.exec(made.stdout)?.[1];
    expect(id, made.stdout).toBeDefined();
    const csr = await camdx('gateway', 'csr', id!, '--config', cfg);
    expect(csr.code, csr.stderr).toBe(0);
    expect((await openssl(['req', '-verify', '-noout', '-subject'], { input: csr.stdout })).stdout).toContain(`serialNumber = ${SERVER}`);

    writeFileSync(join(dir.path, 'token'), await authToken(SERVER));
    const requested = await camdx('gateway', 'cert', 'request', id!, '--config', cfg, '--token-file', join(dir.path, 'token'), '--ra', n.central.pki.url, '--out', join(dir.path, 'auth.pem'));
    expect(requested.code, requested.stderr).toBe(0);
    const imported = await camdx('gateway', 'cert', 'import', join(dir.path, 'auth.pem'), '--config', cfg);
    expect(imported.code, imported.stderr).toBe(0);
    const hash = /hash ([0-9a-f]{64})/.exec(imported.stdout)?.[1];
    expect(imported.stdout).toMatch(/^saved: the auth certificate/);
    expect(imported.stdout).toContain(`next: camdx gateway cert register ${hash} --config ${cfg}`);
    // Saved, not switched to: peers pin the hashes central publishes, so calls go on with the certificate in use.
    for (let i = 0; i < 3; i++) expect(outcomeOf(await exchange())).toBe('ok');
    expect((await camdx('gateway', 'key', 'list', '--config', cfg)).stdout).toMatch(new RegExp(`^${id} auth +saved`, 'm'));

    const registered = await camdx('gateway', 'cert', 'register', hash!, '--config', cfg);
    expect(registered.code, registered.stderr).toBe(0);
    expect(registered.stdout).toMatch(new RegExp(`^registerAuthCert for ${SERVER} at \\S+: approved`));
    // Within a poll of the configuration that lists it, the gateway switches; no call in between fails.
    const until = Date.now() + 10_000;
    let list = '';
    while (Date.now() < until && !new RegExp(`^${id} auth +in-use`, 'm').test(list)) {
      expect(outcomeOf(await exchange())).toBe('ok');
      list = (await camdx('gateway', 'key', 'list', '--config', cfg)).stdout;
    }
    expect(list).toMatch(new RegExp(`^${id} auth +in-use +serial [0-9a-f]+, until \\S+, OCSP good, registered$`, 'm'));
    expect(readdirSync(n.consumer.dir).filter((f) => f.startsWith('saved-auth'))).toEqual([]);
    expect(await untilOutcome(exchange, 'ok', 5_000)).toBe('ok');

    const twice = await camdx('gateway', 'cert', 'import', join(dir.path, 'auth.pem'), '--config', cfg);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain('the gateway refused (key-in-use, certificate): the certificate is for the auth key in use');
  }, 45_000);
});
