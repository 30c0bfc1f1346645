import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCentral } from '../../central/central.js';
import { silentLogger } from '../../common/log.js';
import { launchChromium } from '../support/browser.js';
import { call } from '../support/http.js';
import { CLIENT, SERVICE, startTestNetwork, type TestNetwork } from '../support/network.js';
import { requireTool } from '../support/tools.js';

/** Central's dashboard in headless Chromium, over a real network: PKI, central, two gateway processes. */
let n: TestNetwork;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
const CONSUMER = 'CAMDX/COM/DEMOBANK/SS1';
const PROVIDER = 'CAMDX/GOV/MOI/SS1';
const HOSTILE = 'Demo <b>Bank</b> <img src=x onerror="document.title=\'pwned\'">';

const attr = (selector: string, name: string) => page.locator(selector).getAttribute(name);

describe('central /dashboard', requireTool('chromium'), () => {
  beforeAll(async () => {
    n = await startTestNetwork();
    // Central again on the same port and state, polling every 500 ms so the charts fill in seconds.
    const { port, consolePort } = n.central.running;
    await n.central.stop();
    n.central.running = await startCentral({ stateDir: n.central.stateDir, host: '127.0.0.1', port, console: { port: consolePort }, log: silentLogger, monitoring: { intervalMs: 500, timeoutMs: 1000 } });
    // What sim/provision.ts would pass: each server's admin port.
    await n.central.admin.call('PATCH', `/servers/${CONSUMER}`, { monitoringUrl: n.consumer.adminUrl });
    await n.central.admin.call('PATCH', `/servers/${PROVIDER}`, { monitoringUrl: n.provider.adminUrl });
    await n.central.admin.call('PATCH', '/members/CAMDX/COM/DEMOBANK', { name: HOSTILE });
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(msg.text());
    });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await n?.close();
  });

  it('shows members, servers with their health and the access-rights matrix, rendering names only as text', async () => {
    const res = await page.goto(`${n.central.running.consoleUrl}/dashboard`);
    expect(res!.status()).toBe(200);
    expect(res!.headers()['content-security-policy']).toMatch(/script-src 'self'/);
    for (const server of [CONSUMER, PROVIDER]) await page.waitForSelector(`#servers tr[data-server="${server}"] [data-health="up"]`, { timeout: 15_000 });
    expect(await page.locator(`#servers tr[data-server="${PROVIDER}"] td`).nth(1).textContent()).toBe(`127.0.0.1:${n.provider.spec.ports.peer}`);

    expect(await page.locator('tr[data-member="CAMDX/GOV/MOI"] td').nth(1).textContent()).toBe('Ministry of Interior');
    expect(await page.locator('tr[data-member="CAMDX/COM/DEMOBANK"] td').nth(1).textContent()).toBe(HOSTILE);
    expect(await page.locator('#members img, #members b').count()).toBe(0);
    expect(await page.title()).toBe('CamDX central — dashboard');

    // The matrix: DEMOBANK/ONBOARDING may GET and POST /echo/** on the echo service; OTHER may not.
    const allowed = page.locator(`#rights tr[data-subject="${CLIENT}"] td[data-service="${SERVICE}"]`);
    expect(await allowed.getAttribute('class')).toBe('allow');
    expect((await allowed.textContent())!.split('\n').sort()).toEqual(['GET /echo/**', 'POST /echo/**']);
    expect(await attr(`#rights tr[data-subject="CAMDX/COM/DEMOBANK/OTHER"] td[data-service="${SERVICE}"]`, 'class')).toBe('deny');
    expect(await page.locator(`#services tr[data-service="${SERVICE}"]`).count()).toBe(1);

    // Read-only and public: nothing secret or unpublished in what the page loads.
    const data = await (await fetch(`${n.central.running.consoleUrl}/dashboard/data`)).text();
    const html = await page.content();
    for (const text of [data, html]) {
      expect(text).not.toContain(n.central.adminToken);
      expect(text).not.toContain(n.consumer.adminUrl);
      expect(text).not.toMatch(/monitoringUrl|BEGIN CERTIFICATE|authCertHashes/);
    }
  });

  it('draws traffic by client → service and errors by X-Road type from the gateways’ metrics', async () => {
    // About 3 s of traffic (several poll intervals), with denied calls among it.
    for (let i = 0; i < 15; i++) {
      const ok = await call(`${n.serviceUrl}/echo/dash-${i}`, { method: 'POST', headers: [['X-Road-Client', CLIENT]], body: 'x' });
      expect(ok.status).toBe(200);
      if (i % 5 === 0) expect((await call(`${n.serviceUrl}/admin/x`, { headers: [['X-Road-Client', CLIENT]] })).headers['x-road-error']).toBe('Server.ServerProxy.AccessDenied');
      await new Promise((r) => setTimeout(r, 200));
    }
    const traffic = `svg[data-chart="traffic"] path[data-series="${CLIENT} → ${SERVICE}"]`;
    const errors = 'svg[data-chart="errors"] path[data-series="Server.ServerProxy.AccessDenied"]';
    await page.waitForSelector(traffic, { timeout: 15_000 });
    await page.waitForSelector(errors, { timeout: 15_000 });
    const points = Number(await attr(traffic, 'data-points'));
    expect(points).toBeGreaterThanOrEqual(5);
    expect(Number(await attr(traffic, 'data-max'))).toBeGreaterThan(0);
    // The path really has that many vertices.
    expect((await attr(traffic, 'd'))!.match(/[ML]/g)).toHaveLength(points);
    expect(Number(await attr(errors, 'data-max'))).toBeGreaterThan(0);
    // Counted once per exchange (from the consumer's gateway): the chart's busiest rate is a few per second.
    expect(Number(await attr(traffic, 'data-max'))).toBeLessThan(20);
    expect(await page.locator('svg[data-chart="traffic"] path[data-series]').count()).toBe(1);
  });

  it('shows a stopped gateway as down', async () => {
    await n.consumer.child.stop();
    await page.waitForSelector(`#servers tr[data-server="${CONSUMER}"] [data-health="down"]`, { timeout: 15_000 });
    expect(await page.locator(`#servers tr[data-server="${CONSUMER}"] .reason`).textContent()).toMatch(/unreachable|no answer/);
    expect(await attr(`#servers tr[data-server="${PROVIDER}"] [data-health]`, 'data-health')).toBe('up');
    const metrics = await (await fetch(`${n.central.running.consoleUrl}/metrics`)).text();
    expect(metrics).toContain(`camdx_central_monitored_server_up{server="${CONSUMER}"} 0`);
    expect(metrics).toContain(`camdx_central_monitored_server_up{server="${PROVIDER}"} 1`);
    expect(pageErrors).toEqual([]);
  });
});
