import { execFileSync } from 'node:child_process';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pkiLayout } from '../../certs/layout.js';
import { claimPort } from '../../common/ports.js';
import type { NetworkFile } from '../../sim/network-file.js';
import { portPlan } from '../../sim/port-plan.js';
import { MEMBERS, simPorts } from '../../sim/topology.js';
import { promtool } from '../support/prometheus.js';
import { readmeCommand } from '../support/readme.js';
import { run } from '../support/run.js';
import { freePortOffset, startSim, type RunningSim } from '../support/sim.js';
import { tempDir } from '../support/tmp.js';
import { requireTool } from '../support/tools.js';

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

/** The URLs of the banner's endpoint lines (from the line after "is up" to the next blank one). */
function bannerUrls(out: string): string[] {
  const lines = out.slice(out.indexOf('camdx-sim is up')).split('\n').slice(2);
  return lines.slice(0, lines.indexOf('')).flatMap((l) => l.match(/https?:\/\/\S+/g) ?? []);
}

/** A plain GET, trusting the network's root CA for https (CamDigiKey's mTLS port asks for, but does not need, a client certificate). */
function fetchPage(url: string, ca: Buffer): Promise<{ status: number; type: string; csp: string; body: string }> {
  return new Promise((resolve, reject) => {
    const onResponse = (res: IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), csp: String(res.headers['content-security-policy'] ?? ''), body }));
    };
    (url.startsWith('https:') ? httpsGet(url, { ca }, onResponse) : httpGet(url, onResponse)).on('error', reject);
  });
}

/** A `npx camdx …` line of the README as arguments for this checkout's bin/camdx.js. */
const readmeCamdx = (pattern: RegExp) => [BIN, ...readmeCommand(pattern).replace(/^npx camdx /, '').split(/\s+/)];

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

describe('npm start and acl-test refuse before doing anything', () => {
  it('a planned port already bound: exit 1 naming the port and its part, no process started, nothing written', async () => {
    const state = tempDir();
    const at = await freePortOffset();
    const held = simPorts(at).members.demobank.admin;
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(held, '127.0.0.1', resolve));
    try {
      const started = Date.now();
      const res = await run(process.execPath, [BIN, 'start', '--port-offset', String(at)], { env: { ...process.env, CAMDX_STATE_DIR: state.path } });
      expect(res.code).toBe(1);
      expect(res.stderr).toContain(`camdx: ${held} (DEMOBANK gateway admin) is in use on 127.0.0.1; nothing was started`);
      expect(res.stderr).not.toMatch(/EADDRINUSE|\n\s+at /);
      expect(Date.now() - started).toBeLessThan(10_000);
      // No PKI, central or gateway state, no network.json, and no log of any child process.
      expect(readdirSync(state.path)).toEqual(['logs']);
      expect(readdirSync(join(state.path, 'logs')).filter((f) => f !== 'sim.log')).toEqual([]);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
      state.cleanup();
    }
  });

  it('acl-test acl/default-matrix.yaml in an empty directory: refused, naming the state directory it looked in', async () => {
    const empty = tempDir();
    try {
      // The README's command, run where no network was ever started (the matrix copied along).
      mkdirSync(join(empty.path, 'acl'));
      cpSync(join(import.meta.dirname, '../../acl/default-matrix.yaml'), join(empty.path, 'acl/default-matrix.yaml'));
      const env = { ...process.env };
      delete env.CAMDX_STATE_DIR;
      const res = await run(process.execPath, readmeCamdx(/^npx camdx acl-test acl\/default-matrix\.yaml$/), { cwd: empty.path, env });
      expect(res.code).toBe(1);
      const stateDir = join(empty.path, 'var');
      expect(res.stderr).toContain(`camdx: no running network in the state directory ${stateDir} (no ${join(stateDir, 'network.json')})`);
      expect(res.stdout + res.stderr).not.toContain('ECONNREFUSED');
      expect(existsSync(stateDir)).toBe(false);
    } finally {
      empty.cleanup();
    }
  });
});

describe('npm start: the default network on loopback', () => {
  it('provisions and starts every member and prints working examples', async () => {
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

    // The console's first administrator: its password (owner-only) where the banner says, and it signs in.
    const passwordFile = /console sign-in: user admin, password in (\S+)/.exec(banner)![1]!;
    expect(statSync(passwordFile).mode & 0o777).toBe(0o600);
    const signIn = await fetch(`${new URL(sim.url('Central console')).origin}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'admin', password: readFileSync(passwordFile, 'utf8').trim() }) });
    expect(signIn.status).toBe(201);

  }, 180_000);

  it('answers / with an HTML page at every URL the banner prints', async () => {
    const urls = bannerUrls(sim!.out());
    // 17 endpoint lines, the metrics and console lines holding one URL per gateway.
    expect(urls.length).toBe(23);
    const origins = [...new Set(urls.map((u) => new URL(u).origin))];
    expect(origins.length).toBe(19);
    const ca = readFileSync(pkiLayout(dir.path).caCert('root-ca'));
    for (const origin of origins) {
      const page = await fetchPage(`${origin}/`, ca);
      expect({ origin, status: page.status, type: page.type }).toEqual({ origin, status: 200, type: expect.stringMatching(/^text\/html/) });
      expect(page.body, origin).toMatch(/<title>[^<]+<\/title>/);
      // Each page camdx-sim added says no scripts, no framing; Demo Bank's own pages have inline style.
      if (origin !== new URL(sim!.url('Demo Bank')).origin) expect(page.csp, origin).toMatch(/default-src 'none'/);
    }
  });

  it('writes network.json for the commands that read it, and a Prometheus file promtool accepts', requireTool('promtool'), () => {
    const file = JSON.parse(readFileSync(join(dir.path, 'network.json'), 'utf8')) as NetworkFile;
    expect(file).toMatchObject({ version: 1, pid: sim!.child.pid, host: '127.0.0.1', portOffset: offset, urls: { central: sim!.url('Central server'), pki: sim!.url('PKI') } });
    expect(file.gateways.demobank).toMatchObject({ member: 'CAMDX/COM/DEMOBANK', consumerUrl: sim!.url('DEMOBANK gateway') });
    expect(sim!.out()).toContain(join(dir.path, 'network.json'));

    // The README's Prometheus command, its var/ being this network's state directory.
    const command = readmeCommand(/^prometheus --config\.file=/);
    expect(command).toContain('--web.listen-address=127.0.0.1:9090');
    const configFile = join(dir.path, relative('var', /--config\.file=(\S+)/.exec(command)![1]!));
    expect(sim!.out()).toContain(`Prometheus configuration for these ports: ${configFile}`);
    const check = promtool('check', 'config', configFile);
    expect(check.code, check.output).toBe(0);
    expect(check.output).toMatch(/SUCCESS: 1 rule files found/);
    type Job = { job_name: string; static_configs: Array<{ targets: string[]; labels?: { member: string } }> };
    const jobs = (parseYaml(readFileSync(configFile, 'utf8')) as { scrape_configs: Job[] }).scrape_configs;
    const targets = (name: string) => jobs.find((j) => j.job_name === name)!.static_configs.flatMap((c) => c.targets);
    expect(targets('camdx-central')).toEqual([new URL(sim!.url('Central console')).host]);
    expect(targets('camdx-gateway')).toEqual(bannerUrls(sim!.out()).filter((u) => u.endsWith('/metrics')).map((u) => new URL(u).host));
  });

  it('refuses a second network on the same state directory, or on ports the running one holds', async () => {
    const second = tempDir();
    try {
      const same = await run(process.execPath, [BIN, 'start', '--port-offset', String(offset + 500)], { env: { ...process.env, CAMDX_STATE_DIR: dir.path } });
      expect(same.code).toBe(1);
      expect(same.stderr).toContain(`camdx: a network is already running from the state directory ${dir.path} (pid ${sim!.child.pid}`);
      // --port-offset 1000 beside this network: its consumer ports are this one's admin ports.
      const moved = offset + 1000;
      // Claimed, as every port a test binds: the check binds each port of the plan for a moment.
      portPlan(simPorts(moved)).forEach((p) => claimPort(p.port));
      const beside = await run(process.execPath, [BIN, 'start', '--port-offset', String(moved)], { env: { ...process.env, CAMDX_STATE_DIR: second.path } });
      expect(beside.code).toBe(1);
      for (const m of MEMBERS) expect(beside.stderr).toContain(`${m.ports.admin + offset} (${m.key.toUpperCase()} gateway consumer) is in use`);
      expect(readdirSync(second.path)).not.toContain('pki');
      expect(childPids().length).toBe(6);
    } finally {
      second.cleanup();
    }
  }, 60_000);

  it('stops without leaving processes, and removes network.json', async () => {
    expect(childPids().length).toBe(6);
    expect(await sim!.stop()).toBe(0);
    expect(sim!.out()).toContain('camdx-sim stopped.');
    expect(childPids()).toEqual([]);
    expect(existsSync(join(dir.path, 'network.json'))).toBe(false);
  });

  it('starts again from the same state, and runs the QR-login demo through Demo Bank', { ...requireTool('khmer-font'), timeout: 180_000 }, async () => {
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
    // As the README says it, no --port-offset: the gateways come from the state directory's network.json.
    const acl = await run(process.execPath, [...readmeCamdx(/^npx camdx acl-test acl\/default-matrix\.yaml$/), '--junit', junit], { env: { ...process.env, CAMDX_STATE_DIR: dir.path } });
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
    const changed = await run(process.execPath, readmeCamdx(/^npx camdx acl-test acl\/default-matrix\.yaml$/), { env: { ...process.env, CAMDX_STATE_DIR: dir.path } });
    expect(changed.stdout).not.toContain('ECONNREFUSED');
    expect(changed.code).toBe(1);
    expect(changed.stdout).toContain('ocr-idcard');
    expect(changed.stdout).toContain('expected deny, got allow');

    // SIGKILL of the simulation itself: its processes notice and leave too.
    expect(childPids().length).toBe(6);
    await sim.stop('SIGKILL');
    for (let i = 0; i < 50 && childPids().length > 0; i++) await new Promise((r) => setTimeout(r, 200));
    expect(childPids()).toEqual([]);
  });
});
