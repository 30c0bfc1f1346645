import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../support/run.js';
import { freePortOffset, startSim, type RunningSim } from '../support/sim.js';
import { tempDir } from '../support/tmp.js';

const BIN = join(import.meta.dirname, '../../bin/camdx.js');
let dir: { path: string; cleanup(): void };
let sim: RunningSim | undefined;
let offset: number;

beforeAll(async () => {
  dir = tempDir();
  offset = await freePortOffset();
});
afterAll(async () => {
  await stopIfRunning();
  dir.cleanup();
});
/** A failed test must not leave its network holding the ports the next one needs. */
const stopIfRunning = async () => {
  if (sim && sim.child.exitCode === null && sim.child.signalCode === null) await sim.stop();
};

/** The pids of the processes the simulation started (their command lines name its state directory). */
const childPids = () =>
  execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(`--state-dir ${dir.path}`))
    .map((l) => Number(l.trim().split(/\s+/)[0]));

/** The example commands the banner prints after "Try it:", without comments. */
const examples = (out: string) =>
  out
    .slice(out.indexOf('Try it:'))
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('curl '));

/** Follows a chain of redirects by hand, carrying cookies, the way a browser would. */
async function browse(url: string, init: RequestInit = {}, cookies: string[] = []): Promise<{ url: string; body: string }> {
  let res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), cookie: cookies.join('; ') } });
  for (let hops = 0; res.status >= 300 && res.status < 400 && hops < 10; hops++) {
    const setCookie = res.headers.get('set-cookie');
    if (setCookie) cookies.push(setCookie.split(';')[0]!);
    url = new URL(res.headers.get('location')!, url).toString();
    res = await fetch(url, { redirect: 'manual', headers: { cookie: cookies.join('; ') } });
  }
  return { url, body: await res.text() };
}

describe('npm start: the default network on loopback', () => {
  it('provisions and starts every member, prints working examples, and stops without leaving processes', async () => {
    sim = await startSim(dir.path, offset);
    const banner = sim.out();
    for (const name of ['Central server', 'DEMOBANK gateway', 'MOC gateway', 'MOI gateway', 'TSC gateway', 'CamDigiKey (mTLS API)', 'MOI Open KYC', 'Demo Bank']) expect(banner).toContain(name);
    expect(sim.url('DEMOBANK gateway')).toBe(`http://127.0.0.1:${8080 + offset}`);

    const [allowed, denied] = examples(banner);
    const ok = JSON.parse((await run('bash', ['-c', allowed!])).stdout) as { error: number; data: { score: number } };
    expect(ok).toMatchObject({ error: 0, data: { score: 1 } });
    const refused = JSON.parse((await run('bash', ['-c', denied!])).stdout) as { type: string };
    expect(refused.type).toBe('Server.ServerProxy.AccessDenied');

    // MOC may call all of kyc; Demo Bank may not.
    const ocr = await fetch(`${sim.url('MOC gateway')}/r1/CAMDX/GOV/MOI/KYC/kyc/api/2.0/kyc/ocr-idcard`, { method: 'POST', headers: { 'x-road-client': 'CAMDX/GOV/MOC/BIZREG', 'content-type': 'application/json' }, body: '{}' });
    expect(((await ocr.json()) as { message: string }).message).toMatch(/idImage/);

    // Central's dashboard sees every gateway up, and the calls just made.
    type Dashboard = { servers: Array<{ id: string; health: { state: string } }>; history: { traffic: Array<{ client: string; service: string; values: number[] }>; errors: Array<{ fault: string; values: number[] }> } };
    let board: Dashboard | undefined;
    for (let i = 0; i < 120; i++) {
      board = (await (await fetch(`${sim.url('Dashboard')}/data`)).json()) as Dashboard;
      const seen = board.history.traffic.some((t) => t.client === 'CAMDX/COM/DEMOBANK/ONBOARDING' && t.values.some((v) => v > 0));
      if (seen && board.history.errors.some((e) => /AccessDenied/.test(e.fault) && e.values.some((v) => v > 0))) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(board!.servers.map((s) => [s.id, s.health.state])).toEqual(expect.arrayContaining(['DEMOBANK', 'MOC', 'MOI', 'TSC'].map((m) => [expect.stringContaining(m), 'up'])));
    expect(board!.history.traffic.find((t) => t.client === 'CAMDX/COM/DEMOBANK/ONBOARDING' && t.service === 'CAMDX/GOV/MOI/KYC/kyc')!.values.some((v) => v > 0)).toBe(true);
    expect(board!.history.errors.find((e) => /AccessDenied/.test(e.fault))!.values.some((v) => v > 0)).toBe(true);

    // The demo service account's environment is where the banner says.
    const envFile = /demo CamDigiKey service account \(CAMDIGIKEY_\* env\): (\S+)/.exec(banner)![1]!;
    expect(readFileSync(envFile, 'utf8')).toMatch(/^CAMDIGIKEY_CLIENT_ID=demo-bank-web$/m);

    const pids = childPids();
    expect(pids.length).toBe(6);
    expect(await sim.stop()).toBe(0);
    expect(sim.out()).toContain('camdx-sim stopped.');
    expect(childPids()).toEqual([]);
  }, 180_000);

  it('starts again from the same state, and runs the QR-login demo through Demo Bank', async () => {
    await stopIfRunning();
    sim = await startSim(dir.path, offset);
    expect(sim.out()).toMatch(/camdx-sim is up in \d+\.\d s/);
    const cookies: string[] = [];
    // Demo Bank asks CamDigiKey (through its gateway) for a login, and sends the browser to the login page.
    const login = await browse(`${sim.url('Demo Bank')}/login`, { method: 'POST' }, cookies);
    expect(login.body).toContain('Scan this code with the CamDigiKey app');
    const loginToken = new URL(login.url).searchParams.get('loginToken')!;
    const cdk = new URL(login.url).origin;
    const app = await (await fetch(`${cdk}/app?loginToken=${encodeURIComponent(loginToken)}`)).text();
    const personalCode = /id="personalCode" value="(\d{9})"/.exec(app)![1]!;
    const approved = (await (await fetch(`${cdk}/app/approve`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ loginToken, personalCode }) })).json()) as { redirect: string };
    // The page's poll would now send the browser back to Demo Bank with the auth token.
    const account = await browse(approved.redirect, {}, cookies);
    expect(account.url).toBe(`${sim.url('Demo Bank')}/account`);
    expect(account.body).toMatch(/<h1 id="welcome">Welcome, \S+/);
    expect(account.body).toContain(personalCode);
    expect(account.body).toMatch(/MOI KYC check through CamDX: identity confirmed \(X-Road-Id [0-9a-f-]{36}\)/);

    // The shipped access-control matrix holds for the running network.
    const junit = `${dir.path}/acl.xml`;
    const acl = await run(process.execPath, [BIN, 'acl-test', 'acl/default-matrix.yaml', '--port-offset', String(offset), '--junit', junit]);
    expect(acl.code, acl.stdout + acl.stderr).toBe(0);
    expect(acl.stdout).toMatch(/(\d+) cases: \1 passed, 0 failed/);
    expect(readFileSync(junit, 'utf8')).toMatch(/<testsuite [^>]*failures="0"/);

    // The README's MOC → MOI demo: a sample ID card read by MOI's OCR through both gateways.
    const camdx = (...args: string[]) => run(process.execPath, [BIN, ...args], { env: { ...process.env, CAMDX_STATE_DIR: dir.path } });
    const card = `${dir.path}/card.jpg`;
    expect((await camdx('moi', 'sample-card', '010000019', '--format', 'jpeg', '--out', card)).code).toBe(0);
    const ocr = await fetch(`${sim.url('MOC gateway')}/r1/CAMDX/GOV/MOI/KYC/kyc/api/2.0/kyc/ocr-idcard`, { method: 'POST', headers: { 'x-road-client': 'CAMDX/GOV/MOC/BIZREG', 'content-type': 'application/json' }, body: JSON.stringify({ idImage: readFileSync(card).toString('base64') }) });
    expect(await ocr.json()).toMatchObject({ error: 0, data: { idNumber: '010000019', lastNameEn: 'HENG' } });

    // The tour's step 4: grant Demo Bank the OCR, and the denied call passes access control.
    const [, denied] = examples(sim.out());
    const granted = await camdx('central', 'right', 'add', 'CAMDX/COM/DEMOBANK/ONBOARDING', 'CAMDX/GOV/MOI/KYC/kyc', '--method', 'POST', '--path', '/api/2.0/kyc/ocr-idcard');
    expect(granted.code, granted.stderr).toBe(0);
    let answer: { type?: string; message?: string } = {};
    for (let i = 0; i < 60; i++) {
      answer = JSON.parse((await run('bash', ['-c', denied!])).stdout) as typeof answer;
      if (answer.type !== 'Server.ServerProxy.AccessDenied') break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(answer.message).toBe('a required field is missing: idImage');
    // …and the shipped matrix now names the case that no longer holds.
    const changed = await run(process.execPath, [BIN, 'acl-test', 'acl/default-matrix.yaml', '--port-offset', String(offset)]);
    expect(changed.code).toBe(1);
    expect(changed.stdout).toContain('ocr-idcard');
    expect(changed.stdout).toContain('expected deny, got allow');

    // SIGKILL of the simulation itself: its processes notice and leave too.
    expect(childPids().length).toBe(6);
    await sim.stop('SIGKILL');
    for (let i = 0; i < 50 && childPids().length > 0; i++) await new Promise((r) => setTimeout(r, 200));
    expect(childPids()).toEqual([]);
  }, 180_000);
});
