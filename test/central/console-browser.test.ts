import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOcspRequest } from '../../certs/ocsp/client.js';
import { startCentral } from '../../central/central.js';
import { centralLayout, readCentralSettings, writeCentralSettings } from '../../central/settings.js';
import type { GlobalConf } from '../../protocol/globalconf.js';
import { signManagementRequest } from '../../protocol/management.js';
import { launchChromium } from '../support/browser.js';
import { startTestNetwork, SERVICE, type TestGateway, type TestNetwork } from '../support/network.js';
import { capturingLogger } from '../support/pki.js';
import { requireTool } from '../support/tools.js';

/**
 * Central's console in headless Chromium, against a running network whose gateways poll the
 * global configuration every second. One browser, one network, the pages in sequence: an
 * administrator's changes must reach the consumer gateway and the audit page; an observer sees
 * the pages and the API's refusals; an idle session falls back to the sign-in page.
 */
const HOSTILE = "<img src=x onerror=document.title='pwned'>";
const TITLE = 'CamDX central console';
const ADMIN = { name: 'alice', password: 'correct horse battery staple' };
const OBSERVER = { name: 'olga', password: 'observer password' };
const ACME = { instance: 'CAMDX', memberClass: 'COM', memberCode: 'ACME', memberName: 'Acme' };
const OTHER = 'CAMDX/COM/DEMOBANK/OTHER';
const shots = process.env.CAMDX_SCREENSHOTS === '1';

let n: TestNetwork;
let consoleUrl: string;
/** Added to the console's clock (sessions, sign-in limits) only: the idle test moves it. */
let skew = 0;
let browser: Browser;
let admin: BrowserContext;
let page: Page;
const problems: string[] = [];

/** Every page error and every CSP refusal, from any page of the context. */
function watch(p: Page): Page {
  p.setDefaultTimeout(5000);
  p.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  p.on('console', (msg) => {
    // The first GET /api/session before sign-in answers 401, which Chromium logs as a failed load: expected.
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) problems.push(`console: ${msg.text()}`);
  });
  return p;
}

/** The configuration the gateway downloaded last (its cache file, a compact JWS). */
function gatewayConf(g: TestGateway): GlobalConf {
  const find = (dir: string): string | undefined => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      const hit = e.isDirectory() ? find(path) : e.name === 'globalconf.jws' ? path : undefined;
      if (hit) return hit;
    }
    return undefined;
  };
  const file = find(g.dir);
  if (!file) throw new Error(`no globalconf.jws under ${g.dir}`);
  return JSON.parse(Buffer.from(readFileSync(file, 'utf8').split('.')[1]!, 'base64url').toString()) as GlobalConf;
}

/**
 * The consumer gateway's configuration once it holds central's current version. It polls every
 * second, so one poll brings it; the 5 s bound only keeps a loaded machine from failing it.
 */
async function reachedGateway(): Promise<GlobalConf> {
  const { version } = await n.central.admin.call<{ version: number }>('GET', '/globalconf/status');
  const deadline = Date.now() + 5000;
  for (;;) {
    const conf = gatewayConf(n.consumer);
    if (conf.version >= version) return conf;
    if (Date.now() > deadline) throw new Error(`the consumer gateway still holds version ${conf.version}, central published ${version}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Checks the page shows the fixture's rows, then (with CAMDX_SCREENSHOTS=1) saves it. */
async function screenshot(name: string, rows: Locator, atLeast = 1): Promise<void> {
  await expect.poll(() => rows.count(), { message: `rows on the ${name} page` }).toBeGreaterThanOrEqual(atLeast);
  if (shots) await page.screenshot({ path: `docs/console/central-${name}.png`, fullPage: true });
}

async function open(p: Page, name: string): Promise<void> {
  await p.locator(`nav a[data-page="${name}"]`).click();
  await p.locator(`section[data-page="${name}"]`).waitFor();
}

async function signIn(p: Page, who: { name: string; password: string }): Promise<void> {
  const f = p.locator('form[data-form="Sign in"]');
  await f.locator('input[name="name"]').fill(who.name);
  await f.locator('input[name="password"]').fill(who.password);
  await f.locator('button[type="submit"]').click();
  await p.locator('#user').waitFor();
}

/** A registerAuthCert request for a new ACME server, signed by ACME's signing key and the new auth key. */
function authCertRequest(serverCode: string) {
  const pki = n.central.pki;
  const ca = pki.pki.cas.get('camdx-ca')!.cert;
  const issue = (profile: 'member-signing' | 'server-auth', identity: Parameters<typeof pki.issue>[1]) => {
    const issued = pki.issue(profile, identity);
    return { key: issued.key.privateKey, certificatePem: issued.cert.toString(), ocsp: pki.services.ocsp.respond(buildOcspRequest(issued.cert, ca)) };
  };
  const owner = issue('member-signing', ACME);
  const auth = issue('server-auth', { ...ACME, serverCode, dns: [], ip: ['127.0.0.1'] });
  const server = `CAMDX/COM/ACME/${serverCode}`;
  return signManagementRequest({ type: 'registerAuthCert', instance: 'CAMDX', server, address: '127.0.0.1:5502', authCertificate: auth.certificatePem }, [
    { role: 'owner', ...owner },
    { role: 'auth', key: auth.key, ocsp: auth.ocsp },
  ]);
}

async function submitRequest(serverCode: string): Promise<number> {
  const res = await fetch(`${n.central.running.url}/management/requests`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(authCertRequest(serverCode)) });
  const body = (await res.json()) as { id: number; status: string };
  expect(res.status, JSON.stringify(body)).toBe(202);
  expect(body.status).toBe('pending');
  return body.id;
}

describe('central /console in a browser', requireTool('chromium'), () => {
  beforeAll(async () => {
    n = await startTestNetwork();
    // Central again, on the same ports: requests wait for a person, and the console's clock can be moved.
    const c = n.central;
    const { port, consolePort } = c.running;
    await c.running.stop();
    const settingsFile = centralLayout(c.stateDir).settings;
    writeCentralSettings(settingsFile, { ...readCentralSettings(settingsFile), autoApprove: false });
    c.running = await startCentral({ stateDir: c.stateDir, host: '127.0.0.1', port, console: { port: consolePort, clock: () => Date.now() + skew }, log: capturingLogger().log });
    consoleUrl = c.running.consoleUrl;
    const res = await fetch(`${consoleUrl}/api/users`, { method: 'POST', headers: { authorization: `Bearer ${c.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ ...ADMIN, role: 'administrator' }) });
    expect(res.status, await res.clone().text()).toBe(201);
    browser = await launchChromium();
    admin = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = watch(await admin.newPage());
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await n?.close();
  });

  it('shows the sign-in page, refuses a wrong password in the form, and signs an administrator in', async () => {
    await page.goto(`${consoleUrl}/console`);
    const form = page.locator('form[data-form="Sign in"]');
    await screenshot('sign-in', form.locator('input[name="password"]'));
    expect(await page.locator('#nav').isHidden()).toBe(true);
    await form.locator('input[name="name"]').fill(ADMIN.name);
    await form.locator('input[name="password"]').fill('wrong');
    await form.locator('button[type="submit"]').click();
    await expect.poll(() => form.locator('p.error').innerText()).toBe('wrong user name or password');
    await signIn(page, ADMIN);
    expect(await page.locator('#user').innerText()).toBe('alice (administrator)');
    expect(problems).toEqual([]);
  });

  it('adds a member and a subsystem: the token is shown once, the hostile name as text, and the gateway sees both', async () => {
    const add = page.locator('form[data-form="Add member"]');
    await add.locator('input[name="id"]').fill('CAMDX/COM/ACME');
    await add.locator('input[name="name"]').fill(HOSTILE);
    await add.locator('button[type="submit"]').click();
    await expect.poll(() => page.locator('.token code').innerText()).toMatch(/\S{16,}/);
    expect(await page.locator('td', { hasText: HOSTILE }).count()).toBe(1);
    expect(await page.locator('td img').count()).toBe(0);
    expect(await page.title()).toBe(TITLE);
    expect((await reachedGateway()).members).toContainEqual({ id: 'CAMDX/COM/ACME', name: HOSTILE, subsystems: [] });
    await screenshot('members', page.locator('tbody tr'), 3);

    const sub = page.locator('form[data-form="Add subsystem"]');
    await sub.locator('input[name="id"]').fill('CAMDX/COM/ACME/APP');
    await sub.locator('button[type="submit"]').click();
    await expect.poll(() => page.locator('tr', { hasText: 'CAMDX/COM/ACME' }).locator('td').nth(2).innerText()).toBe('APP');
    expect(await page.locator('.token').count(), 'the token went with the next rendering').toBe(0);
    expect((await reachedGateway()).members).toContainEqual({ id: 'CAMDX/COM/ACME', name: HOSTILE, subsystems: ['APP'] });

    // A refusal names its field (and rule), and is shown next to that field.
    await add.locator('input[name="id"]').fill('CAMDX/COM/ACME');
    await add.locator('input[name="name"]').fill('Acme again');
    await add.locator('button[type="submit"]').click();
    await expect.poll(() => add.locator('.field-error[data-field="id"]').innerText()).toContain('already registered');
    await add.locator('input[name="id"]').fill('CAMDX/COM/AC ME');
    await add.locator('button[type="submit"]').click();
    await expect.poll(() => add.locator('.field-error[data-field="id"]').innerText()).toMatch(/\(rule: .+\)/);
    expect(await page.title()).toBe(TITLE);
    expect(problems).toEqual([]);
  });

  it('adds a security server with its token shown once, and the gateway sees it', async () => {
    await open(page, 'servers');
    const add = page.locator('form[data-form="Add security server"]');
    await add.locator('input[name="id"]').fill('CAMDX/COM/ACME/SS1');
    await add.locator('input[name="address"]').fill('127.0.0.1:5599');
    await add.locator('button[type="submit"]').click();
    await expect.poll(() => page.locator('.token').innerText()).toContain('Server CAMDX/COM/ACME/SS1');
    expect(await page.locator('.token code').innerText()).toMatch(/\S{16,}/);
    expect((await reachedGateway()).securityServers).toContainEqual(expect.objectContaining({ id: 'CAMDX/COM/ACME/SS1', address: '127.0.0.1:5599' }));
    await screenshot('servers', page.locator('tbody tr'), 3);
    await open(page, 'members');
    await open(page, 'servers');
    expect(await page.locator('.token').count()).toBe(0);
    expect(problems).toEqual([]);
  });

  it('lists services with their endpoints and OpenAPI document', async () => {
    await open(page, 'services');
    const row = page.locator('tr', { hasText: SERVICE });
    expect(await row.locator('code', { hasText: 'POST /echo/**' }).count()).toBe(1);
    expect(await row.locator('a', { hasText: 'openapi.yaml' }).getAttribute('href')).toBe(`/catalogue/services/${SERVICE}/openapi.yaml`);
    await screenshot('services', page.locator('tbody tr'));
  });

  it('grants a matrix cell narrowed to a method and path, then revokes it; the gateway sees each', async () => {
    await open(page, 'rights');
    await page.locator('select[name="method"]').selectOption('GET');
    await page.locator('input[name="path"]').fill('/echo/narrow/*');
    await page.locator(`button.grant[data-subject="${OTHER}"][data-service="${SERVICE}"]`).click();
    const revoke = page.locator(`button.revoke[data-subject="${OTHER}"][data-service="${SERVICE}"]`);
    await expect.poll(() => revoke.innerText()).toBe('✕ GET /echo/narrow/*');
    expect(await page.locator('select[name="method"]').inputValue(), 'inputs reset after a grant').toBe('*');
    expect(await page.locator('input[name="path"]').inputValue()).toBe('/**');
    const granted = { subject: OTHER, subjectType: 'SUBSYSTEM', service: SERVICE, method: 'GET', path: '/echo/narrow/*' };
    // Granted in the console: its origin is central and the signed-in user.
    expect((await reachedGateway()).accessRights).toContainEqual({ ...granted, origin: expect.stringMatching(/^central:\S+$/) });
    await screenshot('rights', page.locator('button.revoke'), 3);

    await revoke.click();
    await expect.poll(() => revoke.count()).toBe(0);
    expect((await reachedGateway()).accessRights).not.toContainEqual(expect.objectContaining(granted));

    // A path that is no endpoint pattern is refused next to the path input.
    await page.locator('input[name="path"]').fill('no-slash');
    await page.locator(`button.grant[data-subject="${OTHER}"][data-service="${SERVICE}"]`).click();
    await expect.poll(() => page.locator('.narrow .field-error[data-field="path"]').innerText()).not.toBe('');
    expect(problems).toEqual([]);
  });

  it('adds a global group with a member; the gateway sees it', async () => {
    await open(page, 'groups');
    const add = page.locator('form[data-form="Add global group"]');
    await add.locator('input[name="code"]').fill('TESTERS');
    await add.locator('input[name="description"]').fill('Subsystems under test');
    await add.locator('button[type="submit"]').click();
    await page.locator('td', { hasText: 'CAMDX/TESTERS' }).waitFor();
    const member = page.locator('form[data-form="Add group member"]');
    await member.locator('select[name="group"]').selectOption('TESTERS');
    await member.locator('input[name="member"]').fill('CAMDX/COM/ACME/APP');
    await member.locator('button[type="submit"]').click();
    await page.locator('li', { hasText: 'CAMDX/COM/ACME/APP' }).waitFor();
    expect((await reachedGateway()).globalGroups).toContainEqual({ id: 'CAMDX/TESTERS', description: 'Subsystems under test', members: ['CAMDX/COM/ACME/APP'] });
    await screenshot('groups', page.locator('tbody tr'));
  });

  it('declines a management request with a reason, showing its signatures; the gateway never sees the server', async () => {
    const declined = await submitRequest('SS2');
    const pending = await submitRequest('SS3');
    await open(page, 'requests');
    const decline = page.locator(`form[data-form="Decline request ${declined}"]`);
    await decline.locator('input[name="reason"]').fill('no contract with Acme yet');
    await decline.locator('button[type="submit"]').click();
    const row = page.locator(`tr.request[data-request="${declined}"]`);
    await expect.poll(() => row.locator('.reason').innerText()).toBe('reason: no contract with Acme yet');
    expect(await row.innerText()).toContain('declined by alice');
    const records = await n.central.admin.call<Array<{ id: number; status: string; signatures?: unknown[] }>>('GET', '/management-requests');
    expect(records.find((r) => r.id === declined)?.status).toBe('declined');
    // Each signature's certificate, as far as this central reports it (GET /api/management-requests `signatures`).
    const reported = records.find((r) => r.id === pending)?.signatures?.length ?? 0;
    expect(reported, 'GET /api/management-requests reports the owner and auth signatures').toBe(2);
    const certs = page.locator(`tr.signatures[data-request="${pending}"] .cert`);
    expect(await certs.count()).toBe(reported);
    expect(await certs.first().innerText()).toMatch(/subject\s+C=KH, O=Acme.*\n.*issuer\s+.*CamDX CA[\s\S]*serial\s+[0-9a-f]+[\s\S]*valid\s+\S+ – \S+[\s\S]*key usage\s+nonRepudiation/);
    expect((await reachedGateway()).securityServers.map((s) => s.id)).not.toContain('CAMDX/COM/ACME/SS2');
    await screenshot('requests', page.locator('tbody tr'), 2);
    expect(problems).toEqual([]);
  });

  it('lists the approved CA and TSA', async () => {
    await open(page, 'trust');
    await screenshot('trust', page.locator('tbody tr'), 2);
    expect(await page.locator('summary', { hasText: 'CA certificate (PEM)' }).count()).toBeGreaterThan(0);
  });

  it('shows each change on the audit page, filtered by actor and action', async () => {
    await open(page, 'audit');
    const filter = page.locator('form[data-form="Filter"]');
    await filter.locator('input[name="actor"]').fill('alice');
    await filter.locator('button[type="submit"]').click();
    await expect.poll(() => page.locator('.page-of').innerText()).toMatch(/page 1 of 1/);
    const actions = await page.locator('tbody tr td:nth-child(3)').allInnerTexts();
    for (const a of ['member.add', 'subsystem.add', 'server.add', 'right.add', 'right.remove', 'group.add', 'request.decline']) expect(actions).toContain(a);
    expect(new Set(await page.locator('tbody tr td:nth-child(2)').allInnerTexts())).toEqual(new Set(['alice']));
    await screenshot('audit', page.locator('tbody tr'), 7);
    await filter.locator('input[name="action"]').fill('right.remove');
    await filter.locator('button[type="submit"]').click();
    await expect.poll(() => page.locator('tbody tr td:nth-child(3)').allInnerTexts()).toEqual(['right.remove']);
    expect(await page.locator('tbody tr td:nth-child(5)').innerText()).toBe(`subject=${OTHER} method=GET path=/echo/narrow/*`);

    // Paged: 10 a page, everyone's records (sign-ins, refusals and changes by central, the token and alice).
    await filter.locator('input[name="actor"]').fill('');
    await filter.locator('input[name="action"]').fill('');
    await filter.locator('select[name="pageSize"]').selectOption('10');
    await filter.locator('button[type="submit"]').click();
    await expect.poll(() => page.locator('.page-of').innerText()).toMatch(/page 1 of [2-9]/);
    const first = await page.locator('tbody tr td:nth-child(1)').allInnerTexts();
    expect(first).toHaveLength(10);
    await page.locator('button.older').click();
    await expect.poll(() => page.locator('.page-of').innerText()).toMatch(/page 2 of/);
    const second = await page.locator('tbody tr td:nth-child(1)').allInnerTexts();
    expect(second.length).toBeGreaterThan(0);
    expect(second.every((at) => at <= first.at(-1)!), 'page 2 holds older records').toBe(true);
  });

  it('lets an administrator add an observer, and shows why the last administrator cannot be removed', async () => {
    await open(page, 'users');
    const add = page.locator('form[data-form="Add user"]');
    await add.locator('input[name="name"]').fill(OBSERVER.name);
    await add.locator('select[name="role"]').selectOption('observer');
    await add.locator('input[name="password"]').fill(OBSERVER.password);
    await add.locator('button[type="submit"]').click();
    await page.locator('td', { hasText: OBSERVER.name }).waitFor();
    await add.locator('input[name="name"]').fill('bad name!');
    await add.locator('input[name="password"]').fill('x');
    await add.locator('button[type="submit"]').click();
    await expect.poll(() => add.locator('.field-error[data-field="name"]').innerText()).not.toBe('');
    const removeSelf = page.locator('[data-user="alice"]');
    await removeSelf.click();
    await expect.poll(() => page.locator('.action-button', { has: removeSelf }).locator('.error').innerText()).toMatch(/last administrator/);
    await screenshot('users', page.locator('tbody tr'), 2);
    expect(problems).toEqual([]);
  });

  it("shows an observer the pages, and the API's refusal of its change", async () => {
    const context = await browser.newContext();
    try {
      const p = watch(await context.newPage());
      await p.goto(`${consoleUrl}/console`);
      await signIn(p, OBSERVER);
      expect(await p.locator('nav a[data-page="users"]').count(), 'no Users page for observers').toBe(0);
      await p.locator('td', { hasText: 'CAMDX/COM/ACME' }).first().waitFor();
      const add = p.locator('form[data-form="Add member"]');
      await add.locator('input[name="id"]').fill('CAMDX/COM/OBSERVED');
      await add.locator('input[name="name"]').fill('Observed');
      await add.locator('button[type="submit"]').click();
      await expect.poll(() => add.locator('p.error').innerText()).toBe('observers may read, not change: ask an administrator');
      await open(p, 'requests');
      await p.locator('button.approve').first().click();
      await expect.poll(() => p.locator('.action-button .error').first().innerText()).toMatch(/observers may read/);
      expect((await n.central.admin.call<Array<{ id: string }>>('GET', '/members')).map((m) => m.id)).not.toContain('CAMDX/COM/OBSERVED');
    } finally {
      await context.close();
    }
    expect(problems).toEqual([]);
  });

  it('takes an idle session back to the sign-in page with the reason', async () => {
    skew = 31 * 60_000;
    await page.locator('nav a[data-page="members"]').click();
    await page.locator('form[data-form="Sign in"]').waitFor();
    expect(await page.locator('#sign-in-message').innerText()).toBe('your session ended after 30 minutes idle; sign in again');
    expect(await page.locator('#nav').isHidden()).toBe(true);
    await page.reload();
    await page.locator('form[data-form="Sign in"]').waitFor();
    expect(problems).toEqual([]);
    expect(await page.title()).toBe(TITLE);
  });
});
