import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCamdx, type ChildService } from '../../common/child.js';
import { freePort } from '../../common/ports.js';
import { readmeCommand, readmeSteps } from '../support/readme.js';
import { run } from '../support/run.js';
import { freePortOffset, startSim, type RunningSim } from '../support/sim.js';
import { tempDir } from '../support/tmp.js';
import { requireTool } from '../support/tools.js';

const BIN = join(import.meta.dirname, '../../bin/camdx.js');
let dir: { path: string; cleanup(): void };
let sim: RunningSim;
const services: ChildService[] = [];
/** The README's fixed ports (Acme's consumer, peer, admin, console and API ports; MOC's gateway), and the free ones this test uses instead. */
let ports: Map<string, string>;

beforeAll(async () => {
  dir = tempDir();
  // The project directory of the walk-through: the network's state is ./var, as under npm start.
  sim = await startSim(join(dir.path, 'var'), await freePortOffset());
  const [consumer, peer, admin, console, api] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  ports = new Map([['8090', consumer], ['5510', peer], ['9190', admin], ['9290', console], ['7000', api], ['8081', Number(new URL(sim.url('MOC gateway')).port)]].map(([k, v]) => [String(k), String(v)]));
}, 120_000);
afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()));
  await sim?.stop();
  dir?.cleanup();
});

/** A README command line as this test runs it: our `camdx` for `npx camdx`, free ports for the README's. */
const localised = (line: string) => line.replace(/\bnpx camdx\b/g, `${process.execPath} ${BIN}`).replace(/\b(8090|5510|9190|9290|7000|8081)\b/g, (p) => ports.get(p)!);
const acme = () => join(dir.path, 'acme');
const env = () => ({ ...process.env, CAMDX_STATE_DIR: join(dir.path, 'var') });

/**
 * Runs README lines in one shell, stopping at the first that fails: from the project directory
 * with no CAMDX_STATE_DIR (the walk-through exports it), or in Acme's directory after it.
 */
async function shell(lines: readonly string[], cwd = dir.path): Promise<string> {
  const { CAMDX_STATE_DIR: _unset, ...outside } = process.env;
  const res = await run('bash', ['-c', `set -euo pipefail\n${lines.map(localised).join('\n')}`], { cwd, env: cwd === dir.path ? outside : env() });
  if (res.code !== 0) throw new Error(`README lines failed (${res.code}):\n${lines.join('\n')}\n${res.stderr}${res.stdout}`);
  return `${res.stdout}\n${res.stderr}`;
}

/** Runs a long-lived README command (`camdx echo`, `camdx gateway run`) in Acme's directory until it is ready. */
async function serve(line: string, ready: RegExp): Promise<void> {
  const args = localised(line.replace(/\s*&$/, '')).split(/\s+/).slice(2);
  services.push(await spawnCamdx(args, ready, { cwd: acme(), env: env() }));
}

/**
 * Calls through a gateway, retrying while the new global configuration is still spreading
 * (gateways poll it every few seconds): unknown parties, and rights not yet seen when `allowed`.
 */
async function curlUntilKnown(line: string, allowed = true): Promise<Record<string, unknown>> {
  for (let i = 0; ; i++) {
    const out = (await run('bash', ['-c', `${localised(line)} -s`])).stdout;
    const json = (out ? JSON.parse(out) : {}) as Record<string, unknown>;
    const spreading = typeof json.type === 'string' && (/Unknown|ClientNotRegistered|SslAuthenticationFailed|CertValidation/.test(json.type) || (allowed && /AccessDenied/.test(json.type)));
    if (!spreading || i >= 40) return json;
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe('bring your own member (the README walk-through, as written)', () => {
  it('adds Acme with its own keys and gateway, serves MOC, and calls MOI', async () => {
    // Steps 1-4, from `export CAMDX_STATE_DIR=…` to the last right, in one shell as a reader pastes them.
    const setup = readmeSteps(/^export CAMDX_STATE_DIR=/, /^npx camdx central right add CAMDX\/COM\/ACME\/SHOP /);
    expect(setup[1]).toBe('mkdir acme && cd acme');
    const out = await shell(setup);
    // Tokens alone on stdout, so `> sign.token` captured just them; every file written is named.
    for (const token of ['sign.token', 'auth.token']) expect(readFileSync(join(acme(), token), 'utf8')).toMatch(/^[A-Za-z0-9_-]{40,}\n$/);
    expect(out).toMatch(/signing certificate enrolment token \(until \S+\) follows on stdout/);
    expect(out).toMatch(/member-signing certificate request for the key in sign\.key written to sign\.csr/);
    expect(out).toMatch(/certificate written to sign\.pem with its chain: .*CN=ACME.*; serial [0-9A-F]+; valid until/);
    expect(out).toMatch(/configuration anchor written to anchor\.json: instance CAMDX, central http:\/\/127\.0\.0\.1:\d+/);
    expect(out).toMatch(/gateway configuration written to .*acme-gw\/gateway\.yaml/);
    expect(out).toMatch(/authentication certificate of CAMDX\/COM\/ACME\/SS1: approved\nclient CAMDX\/COM\/ACME\/SHOP: approved/);
    // Its admin token: random, owner-only; the admin port's records need it.
    expect(statSync(join(acme(), 'acme-gw/admin-token')).mode & 0o777).toBe(0o600);
    // Git keeps none of what the walk-through wrote.
    const ignored = await run('git', ['check-ignore', 'acme/sign.key', 'acme/sign.token', 'acme/auth.pem', 'acme/acme-gw/auth.p12.password'], { cwd: join(import.meta.dirname, '../..') });
    expect(ignored.stdout.trim().split('\n')).toHaveLength(4);

    // Step 5: its API (camdx echo) and its gateway run.
    await serve(readmeCommand(/^npx camdx echo --port 7000/), /echo service listening/);
    await serve(readmeCommand(/^npx camdx gateway run --config acme-gw/), /gateway \S+ ready/);

    // Step 6: MOC calls Acme through both gateways; the echo shows what Acme's API got.
    const order = await curlUntilKnown(readmeCommand(/^curl http:\/\/127\.0\.0\.1:8081\/r1\/CAMDX\/COM\/ACME/));
    expect(order).toMatchObject({ method: 'GET', path: '/orders/42', headers: { 'x-road-client': 'CAMDX/GOV/MOC/BIZREG' }, bodyBytes: 0 });
    const kyc = await curlUntilKnown(readmeCommand(/^curl -X POST http:\/\/127\.0\.0\.1:8090\/r1\/CAMDX\/GOV\/MOI/));
    expect(kyc).toMatchObject({ error: 0, data: { idNumber: '010000019' } });
    const denied = await curlUntilKnown(`curl -X POST http://127.0.0.1:8090/r1/CAMDX/GOV/MOI/KYC/kyc/api/2.0/kyc/ocr-idcard -H 'X-Road-Client: CAMDX/COM/ACME/SHOP' -d '{}'`, false);
    expect(denied.type).toBe('Server.ServerProxy.AccessDenied');
    // Its operational records, on its console API: with the admin token only.
    const records = `http://127.0.0.1:${ports.get('9290')}/api/v1/records`;
    expect((await fetch(records)).status).toBe(401);
    const token = readFileSync(join(acme(), 'acme-gw/admin-token'), 'utf8').trim();
    expect((await fetch(records, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  }, 180_000);

  it('after its certificate is revoked, renews it with one command, and the next call passes', async () => {
    const moc = readmeCommand(/^curl http:\/\/127\.0\.0\.1:8081\/r1\/CAMDX\/COM\/ACME/);
    const revoked = await shell([readmeCommand(/^npx camdx fault revoke acme-gw\/gateway\.yaml --certificate auth/)], acme());
    expect(revoked).toMatch(/revoked the auth certificate of CAMDX\/COM\/ACME\/SS1/);
    expect(revoked).toMatch(/to recover: camdx gateway renew --config \S+ --certificate auth/);
    const refused = JSON.parse((await run('bash', ['-c', `${localised(moc)} -s`])).stdout) as { type: string; message: string };
    expect(refused.type).toBe('Server.ClientProxy.SslAuthenticationFailed');
    const renewed = await shell([readmeCommand(/^npx camdx gateway renew --config acme-gw\/gateway\.yaml --certificate auth/)], acme());
    expect(renewed).toMatch(/registration: central approved the new authentication certificate of CAMDX\/COM\/ACME\/SS1/);
    expect(renewed).toMatch(/renewed: the auth certificate of CAMDX\/COM\/ACME\/SS1 is serial [0-9A-F]+ \(was [0-9A-F]+\)/);
    // Once MOC's gateway has polled the configuration that lists the new certificate.
    expect(await curlUntilKnown(moc)).toMatchObject({ method: 'GET', path: '/orders/42' });
  }, 60_000);

  it('refuses a gateway set-up whose certificate is not for its key, writing nothing', async () => {
    const res = await run(process.execPath, [BIN, 'gateway', 'init', '--dir', 'bad-gw', '--owner', 'CAMDX/COM/ACME', '--sign-key', 'auth.key', '--sign-cert', 'sign.pem', '--auth-key', 'auth.key', '--auth-cert', 'auth.pem', '--anchor', 'anchor.json', '--consumer-port', '1', '--peer-port', '2', '--admin-port', '3', '--console-port', '4'], { cwd: acme() });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('signing: the certificate in sign.pem is not for the key in auth.key');
    const swapped = await run(process.execPath, [BIN, 'gateway', 'init', '--dir', 'bad-gw', '--owner', 'CAMDX/COM/ACME', '--sign-key', 'auth.key', '--sign-cert', 'auth.pem', '--auth-key', 'sign.key', '--auth-cert', 'sign.pem', '--anchor', 'anchor.json', '--consumer-port', '1', '--peer-port', '2', '--admin-port', '3', '--console-port', '4'], { cwd: acme() });
    expect(swapped.stderr).toMatch(/not an authentication certificate/);
    expect((await run('ls', [acme()])).stdout).not.toContain('bad-gw');
  });

  it('reads a sample ID card through MOC and MOI, with the body in a file as the README sends it', requireTool('khmer-font'), async () => {
    const lines = readmeSteps(/^npx camdx moi sample-card 010000019 --format jpeg --out card\.jpg$/, /-d @ocr\.json$/);
    const demo = join(dir.path, 'ocr-demo');
    mkdirSync(demo);
    const out = await shell(lines, demo);
    const line = out.split('\n').find((l) => l.startsWith('{"error"'));
    expect(line, out).toBeDefined();
    const answer = JSON.parse(line!) as Record<string, unknown>;
    expect(answer).toMatchObject({ error: 0, data: { idNumber: '010000019', lastNameEn: 'HENG' } });
  });

  it('refuses commands that need a network where there is none, naming the state directory', async () => {
    const empty = join(dir.path, 'elsewhere');
    const env = { ...process.env, CAMDX_STATE_DIR: empty };
    const member = await run(process.execPath, [BIN, 'central', 'member', 'add', 'CAMDX/COM/X', '--name', 'X'], { env });
    expect(member.code).toBe(1);
    expect(member.stderr).toContain(`no central server in the state directory ${empty}`);
    const issue = await run(process.execPath, [BIN, 'pki', 'issue', '--csr', join(acme(), 'sign.csr'), '--token-file', join(acme(), 'sign.token')], { env });
    expect(issue.stderr).toContain(`no running network and no PKI in the state directory ${empty}`);
    const fault = await run(process.execPath, [BIN, 'fault', 'status'], { env });
    expect(fault.stderr).toContain(`no simulated network in ${empty}`);
    // None of them made the state directory they did not find.
    expect((await run('ls', [dir.path])).stdout).not.toContain('elsewhere');
    const unreachable = await run(process.execPath, [BIN, 'pki', 'issue', '--csr', join(acme(), 'sign.csr'), '--token-file', join(acme(), 'sign.token'), '--url', 'http://127.0.0.1:1']);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toBe('camdx: cannot reach the PKI at http://127.0.0.1:1 (ECONNREFUSED 127.0.0.1:1); is the network running? (npm start)\n');
  });

  it('accepts an enrolment token piped from central into pki issue', async () => {
    const csr = await run(process.execPath, [BIN, 'pki', 'csr', '--key', 'sign.key', '--profile', 'member-signing', '--member', 'CAMDX/COM/PIPE', '--member-name', 'Pipe Co', '--out', 'pipe.csr'], { cwd: acme() });
    expect(csr.code, csr.stderr).toBe(0);
    const piped = await shell([`npx camdx central member add CAMDX/COM/PIPE --name "Pipe Co" | npx camdx pki issue --csr pipe.csr --token-file - --out pipe.pem`], acme());
    expect(piped).toMatch(/added member CAMDX\/COM\/PIPE\nsigning certificate enrolment token \(until \S+\) follows on stdout/);
    expect(piped).toMatch(/certificate written to pipe\.pem with its chain: .*CN=PIPE/);
  });
});
