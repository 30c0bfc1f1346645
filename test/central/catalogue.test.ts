import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import express from 'express';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { catalogueRouter } from '../../central/catalogue/router.js';
import type { CatalogueData } from '../../central/catalogue/data.js';
import { close, listen } from '../../common/http.js';
import { loopback, networkLayout, specOf } from '../../sim/network.js';
import { openApiDocument } from '../../sim/openapi-docs.js';
import { ACCESS_RULES, CAMDIGIKEY_SERVICE, KYC_SERVICE, MEMBERS, simPorts } from '../../sim/topology.js';
import { launchChromium } from '../support/browser.js';
import { startTestCentral, type TestCentral } from '../support/central.js';
import { requireTool } from '../support/tools.js';

/** Central's API catalogue over the default network's registry: members, kyc and camdigikey with their documents, the default rights. */

const HOSTILE = 'Counts <b>firms</b> <img src=x onerror="document.title=\'pwned\'">';
const HOSTILE_SERVICE = 'CAMDX/GOV/MOC/BIZREG/firms';
const HOSTILE_DOC = JSON.stringify({
  openapi: '3.1.0',
  info: { title: `Firms ${HOSTILE}`, version: '1', description: HOSTILE },
  paths: { '/firms/{id}': { get: { summary: HOSTILE, description: HOSTILE, parameters: [{ name: 'id', in: 'path', required: true, description: HOSTILE, schema: { type: 'string' } }], responses: { '200': { description: HOSTILE } } } } },
});
const GROUP = 'CAMDX/BANKS';

let t: TestCentral;
let server: Server;
let url: string;

beforeAll(async () => {
  t = await startTestCentral();
  const net = networkLayout(t.stateDir, loopback(), simPorts());
  for (const m of MEMBERS) {
    await t.admin.call('POST', '/members', { id: m.member, name: m.name });
    await t.admin.call('POST', '/subsystems', { id: `${m.member}/${m.subsystem}` });
    for (const [id, s] of Object.entries(specOf(m, loopback(), simPorts(), net).services ?? {})) await t.admin.call('POST', '/services', { id, endpoints: s.endpoints, openApi: s.openApi });
  }
  for (const rule of ACCESS_RULES) await t.admin.call('POST', '/access-rights', rule);
  await t.admin.call('POST', '/services', { id: HOSTILE_SERVICE, endpoints: [{ method: 'GET', path: '/firms/*' }], openApi: HOSTILE_DOC });
  await t.admin.call('POST', '/groups', { code: 'BANKS', description: 'Banks' });
  await t.admin.call('POST', `/groups/BANKS/members`, { member: 'CAMDX/COM/DEMOBANK/ONBOARDING' });
  await t.admin.call('POST', '/access-rights', { subject: GROUP, service: HOSTILE_SERVICE });
  const app = express();
  app.use(catalogueRouter({ registry: t.running.registry, publisher: t.running.publisher }));
  server = createServer(app);
  url = `http://127.0.0.1:${await listen(server, 0, '127.0.0.1')}`;
}, 60_000);
afterAll(async () => {
  if (server) await close(server);
  await t?.close();
});

const data = async () => (await (await fetch(`${url}/catalogue/data`)).json()) as CatalogueData;

describe('central /catalogue data and downloads', () => {
  it("lists kyc's five endpoints with the summaries of its document, its provider, and who may call which", async () => {
    const kyc = (await data()).services.find((s) => s.id === KYC_SERVICE)!;
    const doc = parse(openApiDocument('kyc')) as { paths: Record<string, { post: { summary: string } }> };
    expect(kyc.provider).toEqual({ subsystem: 'CAMDX/GOV/MOI/KYC', member: 'CAMDX/GOV/MOI', memberName: 'Ministry of Interior' });
    expect(kyc.endpoints.map((e) => [e.method, e.path, e.operations.map((o) => o.summary)])).toEqual(
      Object.entries(doc.paths).map(([path, item]) => ['POST', path, [item.post.summary]]).sort((a, b) => String(a[1]).localeCompare(String(b[1]))),
    );
    expect(kyc.endpoints).toHaveLength(5);
    const bySubject = Object.fromEntries(kyc.access.map((a) => [a.subject, a.endpoints]));
    expect(bySubject['CAMDX/GOV/MOC/BIZREG']).toEqual(['all', 'all', 'all', 'all', 'all']);
    // DEMOBANK may call POST /api/2.0/kyc/info only.
    expect(kyc.endpoints.map((e, i) => `${e.path}=${bySubject['CAMDX/COM/DEMOBANK/ONBOARDING']![i]}`).filter((s) => !s.endsWith('=none'))).toEqual(['/api/2.0/kyc/info=all']);
    expect(Object.keys(bySubject).sort()).toEqual(['CAMDX/COM/DEMOBANK/ONBOARDING', 'CAMDX/GOV/MOC/BIZREG']);
  });

  it("puts camdigikey's nine enveloped operations under its POST endpoint, and shows a group's members", async () => {
    const all = await data();
    const cdk = all.services.find((s) => s.id === CAMDIGIKEY_SERVICE)!;
    expect(cdk.endpoints.map((e) => [`${e.method} ${e.path}`, e.operations.length])).toEqual([
      ['GET /api/v3.0/authentication/certificates/access-token', 1],
      ['POST /api/v3.0/authentication/service-account/**', 9],
    ]);
    expect(cdk.endpoints[1]!.operations.every((o) => o.summary && o.summary.length > 10)).toBe(true);
    const firms = all.services.find((s) => s.id === HOSTILE_SERVICE)!;
    expect(firms.access).toEqual([{ subject: GROUP, subjectType: 'GLOBALGROUP', members: ['CAMDX/COM/DEMOBANK/ONBOARDING'], rules: [{ method: '*', path: '/**' }], endpoints: ['all'] }]);
    expect(firms.endpoints[0]!.operations).toEqual([{ method: 'GET', path: '/firms/{id}', summary: HOSTILE, operationId: null }]);
  });

  it('serves each document for download, as YAML and as JSON', async () => {
    const yaml = await fetch(`${url}/catalogue/services/${KYC_SERVICE}/openapi.yaml`);
    expect(yaml.status).toBe(200);
    expect(yaml.headers.get('content-disposition')).toBe('attachment; filename="kyc-openapi.yaml"');
    expect(yaml.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await yaml.text()).toBe(openApiDocument('kyc'));
    const json = await fetch(`${url}/catalogue/services/${CAMDIGIKEY_SERVICE}/openapi.json`);
    expect(json.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await json.json()).toEqual(parse(openApiDocument('camdigikey')));
    expect(parse(await (await fetch(`${url}/catalogue/services/${HOSTILE_SERVICE}/openapi.yaml`)).text())).toEqual(JSON.parse(HOSTILE_DOC));
    expect((await fetch(`${url}/catalogue/services/CAMDX/GOV/MOI/KYC/nope/openapi.yaml`)).status).toBe(404);
    expect((await fetch(`${url}/catalogue/services/${KYC_SERVICE}/openapi.txt`)).status).toBe(404);
    expect((await fetch(`${url}/catalogue/services/CAMDX/GOV/MOI/K%20YC/kyc/openapi.yaml`)).status).toBe(400);
  });
});

describe('central /catalogue in Chromium', requireTool('chromium'), () => {
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  beforeAll(async () => {
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => msg.type() === 'error' && problems.push(`console: ${msg.text()}`));
    await page.addInitScript(() => document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective}`)));
  }, 60_000);
  afterAll(() => browser?.close());

  it('shows each service, its endpoints with summaries, who may call them and its document, hostile text as text', async () => {
    const res = await page.goto(`${url}/catalogue`);
    expect(res!.headers()['content-security-policy']).toMatch(/script-src 'self'.*frame-ancestors 'none'/);
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 10_000 });
    const kyc = page.locator(`section[data-service="${KYC_SERVICE}"]`);
    expect(await kyc.locator('.provider').textContent()).toBe('Provided by Ministry of Interior (CAMDX/GOV/MOI), subsystem CAMDX/GOV/MOI/KYC');
    expect(await kyc.locator('table.endpoints tbody tr').count()).toBe(5);
    expect(await kyc.locator('tr[data-endpoint="POST /api/2.0/kyc/info"] .op-summary').textContent()).toBe("Check a person's details against the civil registry");
    expect(await kyc.locator('table.access tr[data-subject="CAMDX/COM/DEMOBANK/ONBOARDING"] td[data-endpoint="POST /api/2.0/kyc/info"]').getAttribute('class')).toBe('all');
    expect(await kyc.locator('table.access tr[data-subject="CAMDX/COM/DEMOBANK/ONBOARDING"] td[data-endpoint="POST /api/2.0/kyc/ocr-idcard"]').getAttribute('class')).toBe('none');
    expect(await kyc.locator('details.operation').count()).toBe(5);
    expect(await kyc.locator('details.schema-def[data-schema="UserInfo"] tr[data-property="idNumber"]').count()).toBe(1);
    expect(await kyc.locator('a[download]').evaluateAll((as) => as.map((a) => a.getAttribute('href')))).toEqual([`/catalogue/services/${KYC_SERVICE}/openapi.yaml`, `/catalogue/services/${KYC_SERVICE}/openapi.json`]);
    const cdk = page.locator(`section[data-service="${CAMDIGIKEY_SERVICE}"]`);
    expect(await cdk.locator('details.operation').count()).toBe(10);

    const firms = page.locator(`section[data-service="${HOSTILE_SERVICE}"]`);
    await firms.locator('details.operation summary').click();
    expect(await firms.locator('.document > p.description').textContent()).toBe(HOSTILE);
    expect(await firms.locator('tr[data-parameter="id"] .description').textContent()).toBe(HOSTILE);
    expect(await firms.locator('tr[data-endpoint="GET /firms/*"] .op-summary').textContent()).toBe(HOSTILE);
    expect(await page.locator('main img, main b').count()).toBe(0);
    expect(await page.title()).toBe('CamDX API catalogue');

    await kyc.locator('details.operation[data-operation="POST /api/2.0/kyc/info-face"] summary').click();
    await kyc.locator('details.schema-def[data-schema="UserInfo"] summary').click();
    // The fixture's rows are checked above; `npm run screenshots` refreshes the README's picture.
    if (process.env.CAMDX_SCREENSHOTS === '1') await page.screenshot({ path: join(import.meta.dirname, '../../docs/console/central-catalogue.png') });
    expect(problems).toEqual([]);
  });
});
