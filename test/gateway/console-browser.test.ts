import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAdminToken } from '../../gateway/admin/token.js';
import { launchChromium } from '../support/browser.js';
import { call } from '../support/http.js';
import { CLIENT, SERVICE, startTestNetwork, type TestGateway, type TestNetwork } from '../support/network.js';
import { requireTool } from '../support/tools.js';

/**
 * A gateway's console pages (X-Road's security server UI) in headless Chromium, against a
 * running network: the consumer's console for clients, keys, diagnostics and records, the
 * provider's for its services. Each page must show the fixture's rows, and each change made in a
 * page must reach gateway.yaml — or, refused, leave it byte for byte as it was.
 */
const shots = process.env.CAMDX_SCREENSHOTS === '1';
const OTHER = 'CAMDX/COM/DEMOBANK/OTHER';
/** The echo service's document after a refresh: two endpoints with a whole-segment parameter. */
const ECHO_DOCUMENT = {
  openapi: '3.1.0',
  info: { title: 'echo', version: '2' },
  paths: { '/echo/{item}': { parameters: [{ name: 'item', in: 'path', required: true, schema: { type: 'string' } }], get: { responses: { '200': { description: 'the item' } } }, post: { responses: { '200': { description: 'echoed' } } } } },
};

let n: TestNetwork;
let browser: Browser;
const contexts: BrowserContext[] = [];
const problems: string[] = [];

/** A page of its own context (each console sets a cookie on 127.0.0.1: one context per gateway) that records every page error and CSP refusal. */
async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  contexts.push(context);
  await context.addInitScript(() => document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`)));
  const p = await context.newPage();
  p.setDefaultTimeout(5000);
  p.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  p.on('console', (msg) => {
    // The first GET /session (401), the wrong token (401), a refused edit (400) and a probe of an API this gateway may not serve (404) are logged as failed loads: expected.
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) problems.push(`console: ${msg.text()}`);
  });
  return p;
}

/** Checks the page shows the fixture's rows, then (with CAMDX_SCREENSHOTS=1) saves it. */
async function screenshot(p: Page, name: string, rows: Locator, atLeast = 1): Promise<void> {
  await expect.poll(() => rows.count(), { message: `rows on the ${name} page` }).toBeGreaterThanOrEqual(atLeast);
  if (shots) await p.screenshot({ path: `docs/console/gateway-${name}.png`, fullPage: true });
}

async function open(p: Page, name: string): Promise<void> {
  await p.locator(`nav a[data-page="${name}"]`).click();
  await p.locator(`section[data-page="${name}"]`).waitFor();
}

async function signIn(p: Page, g: TestGateway): Promise<void> {
  await p.goto(`${g.consoleUrl}/console`);
  const f = p.locator('form[data-form="Sign in"]');
  await f.locator('input[name="token"]').fill(readAdminToken(g.dir));
  await f.locator('button[type="submit"]').click();
  await p.locator('#user').waitFor();
}

/** Whether this gateway's API serves a route yet (the keys and service-description APIs come with other changes). */
async function served(g: TestGateway, path: string): Promise<boolean> {
  return (await g.admin(path)).status !== 404;
}

describe("a gateway's console pages in a browser", requireTool('chromium'), () => {
  let consumer: Page;
  let provider: Page;
  beforeAll(async () => {
    n = await startTestNetwork();
    browser = await launchChromium();
    [consumer, provider] = await Promise.all([newPage(), newPage()]);
  }, 60_000);
  afterAll(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await n?.close();
  });

  it("explains where the token is, shows the API's refusal of a wrong one in the form, and signs in with the right one", async () => {
    await consumer.goto(`${n.consumer.consoleUrl}/console`);
    const form = consumer.locator('form[data-form="Sign in"]');
    await form.locator('input[name="token"]').fill('not-the-token');
    await form.locator('button[type="submit"]').click();
    await expect.poll(() => form.locator('p.error').innerText()).toBe("wrong token: it is the gateway state directory's admin-token file");
    expect(await consumer.locator('p.where').innerText()).toContain('admin-token');
    expect(await consumer.locator('#nav').isHidden()).toBe(true);
    await screenshot(consumer, 'sign-in', form.locator('input[name="token"]'));
    await form.locator('input[name="token"]').fill(readAdminToken(n.consumer.dir));
    await form.locator('button[type="submit"]').click();
    await consumer.locator('#user').waitFor();
    await expect.poll(() => consumer.locator('#server').innerText()).toBe('CAMDX/COM/DEMOBANK/SS1');
    expect(problems).toEqual([]);
  });

  it("lists the owner's clients with their connection types; a connection gateway.yaml cannot take is refused next to its field", async () => {
    await open(consumer, 'clients');
    const row = (id: string) => consumer.locator('tbody tr', { has: consumer.locator('code', { hasText: new RegExp(`^${id}$`) }) });
    expect(await row(CLIENT).locator('select[name="connection"]').inputValue()).toBe('HTTP');
    expect(await row(CLIENT).locator('td').nth(1).innerText()).toBe('yes');
    expect(await row(CLIENT).locator('td').nth(3).innerText()).toBe('0');
    // The consumer gateway has no TLS listener for its clients, so HTTPS_NO_AUTH cannot apply.
    const before = readFileSync(n.consumer.config);
    await row(OTHER).locator('select[name="connection"]').selectOption('HTTPS_NO_AUTH');
    await row(OTHER).locator('button[type="submit"]').click();
    await expect.poll(() => row(OTHER).locator('.field-error[data-field="connection"]').innerText()).toMatch(/HTTPS_NO_AUTH needs listen\.consumerTls/);
    expect(await row(OTHER).locator('p.error').innerText()).toBe('');
    expect(readFileSync(n.consumer.config).equals(before), 'gateway.yaml byte for byte').toBe(true);
    await screenshot(consumer, 'clients', consumer.locator('tbody tr', { hasText: 'CAMDX/COM/DEMOBANK/' }), 2);
    expect(problems).toEqual([]);
  });

  it('shows the token certificates with OCSP good; with the keys API, makes a key and its CSR in the page', async (ctx) => {
    await open(consumer, 'keys');
    const certs = consumer.locator('.token-certificates tbody tr', { hasText: 'serialNumber=CAMDX/COM/DEMOBANK' });
    await expect.poll(() => certs.count()).toBe(2);
    expect(await certs.locator('td:nth-child(1)').allInnerTexts()).toEqual(['auth', 'signing']);
    expect(await certs.locator('td:nth-child(6)').allInnerTexts()).toEqual([expect.stringMatching(/^good/), expect.stringMatching(/^good/)]);
    if (!(await served(n.consumer, '/keys'))) {
      expect(await consumer.locator('#keys-not-served').count()).toBe(1);
      await screenshot(consumer, 'keys', certs, 2);
      ctx.skip('GET /api/v1/keys answers 404 (gateway/console/keys-api.ts not mounted): the key and CSR actions are untested');
    }
    expect(await certs.first().locator('td:nth-child(7)').innerText()).toBe('registered');
    const generate = consumer.locator('form[data-form="Generate a key"]');
    await generate.locator('select[name="role"]').selectOption('signing');
    await generate.locator('button[type="submit"]').click();
    const pending = consumer.locator('.keys tbody tr', { hasText: 'pending' });
    await pending.waitFor();
    expect(await pending.locator('td:nth-child(2)').innerText()).toBe('signing');
    await pending.locator('button.csr').click();
    await expect.poll(() => consumer.locator('.csr-box pre').innerText()).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----/);
    expect(await consumer.locator('.csr-box strong').innerText()).toContain('serialNumber=CAMDX/COM/DEMOBANK');
    await screenshot(consumer, 'keys', consumer.locator('.keys tbody tr'), 3);
    expect(problems).toEqual([]);
  });

  it('runs the connection tests, all ok, and runs them again on request', async () => {
    await open(consumer, 'diagnostics');
    const rows = consumer.locator('tbody tr');
    await screenshot(consumer, 'diagnostics', rows, 5);
    const results = await consumer.locator('tbody tr td:nth-child(2)').allInnerTexts();
    expect(new Set(results)).toEqual(new Set(['ok']));
    expect(await consumer.locator('tbody tr td:nth-child(1)').allInnerTexts()).toEqual(expect.arrayContaining(['central', 'globalconf', 'registration', 'ocsp', 'tsa', 'peer']));
    const before = await consumer.locator('section[data-page="diagnostics"]').elementHandle();
    await consumer.locator('button.run-again').click();
    await expect.poll(async () => (await consumer.locator('section[data-page="diagnostics"]').elementHandle())?.evaluate((s, old) => s !== old, before)).toBe(true);
    expect(await consumer.locator('tbody tr').count()).toBe(results.length);
    expect(problems).toEqual([]);
  });

  it('lists the last operational records, newest first, with the endpoint each matched', async () => {
    const res = await call(`${n.serviceUrl}/echo/console`, { method: 'POST', headers: [['X-Road-Client', CLIENT]], body: 'hello' });
    expect(res.status).toBe(200);
    await open(consumer, 'records');
    const row = consumer.locator('tbody tr', { hasText: SERVICE }).first();
    await row.waitFor();
    expect(await row.locator('td').nth(2).innerText()).toBe(CLIENT);
    expect(await row.locator('td').nth(4).innerText()).toBe('POST /echo/**');
    expect(await row.locator('td').nth(5).innerText()).toBe('200');
    await screenshot(consumer, 'records', consumer.locator('tbody tr', { hasText: SERVICE }));
    expect(problems).toEqual([]);
  });

  it("edits a service's timeout into gateway.yaml; an invalid URL is refused next to its field and gateway.yaml stays as it was", async () => {
    await signIn(provider, n.provider);
    await expect.poll(() => provider.locator('#server').innerText()).toBe('CAMDX/GOV/MOI/SS1');
    await open(provider, 'services');
    const row = provider.locator('tbody tr', { hasText: SERVICE });
    expect(await row.locator('td').nth(1).innerText()).toBe(n.echo.url);
    expect(await row.locator('td').nth(4).innerText()).toContain('POST /echo/**');
    const settings = provider.locator(`form[data-form="Settings of ${SERVICE}"]`);
    await settings.locator('input[name="timeoutMs"]').fill('4500');
    await settings.locator('button[type="submit"]').click();
    await expect.poll(() => row.locator('td').nth(2).innerText()).toBe('4500 ms');
    expect(readFileSync(n.provider.config, 'utf8')).toMatch(/timeoutMs: 4500/);
    expect(await settings.locator('input[name="timeoutMs"]').inputValue()).toBe('4500');

    const before = readFileSync(n.provider.config);
    await settings.locator('input[name="url"]').fill('not a url');
    await settings.locator('button[type="submit"]').click();
    await expect.poll(() => settings.locator('.field-error[data-field="url"]').innerText()).not.toBe('');
    expect(await settings.locator('p.error').innerText()).toBe('');
    expect(readFileSync(n.provider.config).equals(before), 'gateway.yaml byte for byte').toBe(true);
    expect(await row.locator('td').nth(1).innerText()).toBe(n.echo.url);
    await screenshot(provider, 'services', row);
    expect(problems).toEqual([]);
  });

  it("lists the service descriptions; a refresh from an uploaded document shows the endpoint diff, and Apply waits while rights name a removed endpoint", async (ctx) => {
    await open(provider, 'descriptions');
    if (!(await served(n.provider, '/service-descriptions'))) {
      expect(await provider.locator('#not-served').count()).toBe(1);
      ctx.skip('GET /api/v1/service-descriptions answers 404 (gateway/console/service-descriptions-api.ts not mounted): the page is untested');
    }
    const row = provider.locator('.descriptions tbody tr', { hasText: SERVICE });
    expect(await row.locator('td').nth(2).innerText()).toBe('published');
    const published = await row.locator('td').nth(3).innerText();
    expect(published).toContain('POST /echo/**');
    const refresh = provider.locator('form[data-form="Refresh a service"]');
    await refresh.locator('select[name="serviceId"]').selectOption(SERVICE);
    await refresh.locator('input[name="document"]').setInputFiles({ name: 'echo.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(ECHO_DOCUMENT)) });
    await refresh.locator('button[type="submit"]').click();
    const diff = provider.locator(`.diff-box[data-service="${SERVICE}"]`);
    await expect.poll(() => diff.locator('.diff.added li').allInnerTexts()).toEqual(['GET /echo/*', 'POST /echo/*']);
    expect(new Set(await diff.locator('.diff.removed li').allInnerTexts())).toEqual(new Set(['POST /echo/**', 'GET /echo/**', 'GET /admin/**']));
    // The fixture's rights name POST and GET /echo/**: the refresh would leave them granting nothing, so it is refused until they go.
    expect(await diff.locator('p.error').innerText()).toContain(`${CLIENT} POST /echo/**`);
    expect(await diff.locator('button.apply').isDisabled()).toBe(true);
    await screenshot(provider, 'service-descriptions', row);
    await diff.locator('button.cancel').click();
    await expect.poll(() => diff.count()).toBe(0);
    expect(await row.locator('td').nth(3).innerText(), 'nothing applied').toBe(published);
    expect(problems).toEqual([]);
  });
});
