import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCamdigikey, type TestCamdigikey } from '../../support/camdigikey.js';
import { decodeQr, launchChromium } from '../../support/browser.js';
import { startTestPki, type TestPki } from '../../support/pki.js';
import { requireTool } from '../../support/tools.js';

let pki: TestPki;
let cdk: TestCamdigikey;
let browser: Browser;

describe('CamDigiKey login page in headless Chromium', requireTool('chromium'), () => {
  beforeAll(async () => {
    pki = await startTestPki();
    cdk = await startTestCamdigikey(pki.stateDir, { url: pki.url, adminTokenFile: pki.pki.layout.adminToken });
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await cdk?.close();
    await pki?.close();
  });

  it('shows a QR code that decodes to the login link, and follows the approval made in the app to the relying party', async () => {
    const { data } = (await cdk.client().getLoginToken({ callbackVars: { order: 7 } })) as { data: { loginToken: string; loginUrl: string } };
    const context = await browser.newContext();
    // The relying party's site is not running here: answer its callback so the redirect can be observed.
    await context.route('https://bank.example/**', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<h1>relying party</h1>' }));
    const page = await context.newPage();
    const response = await page.goto(data.loginUrl);
    expect(response?.status()).toBe(200);
    expect(await page.title()).toBe('Log in with CamDigiKey');
    const qr = decodeQr(await page.locator('#qr').screenshot());
    expect(qr).toBe(data.loginUrl);
    expect(await page.locator('#deeplink').getAttribute('href')).toBe(`camdigikey://login?token=${encodeURIComponent(data.loginToken)}`);

    // The user opens the simulated app from the page and approves as the suggested test user.
    const [app] = await Promise.all([context.waitForEvent('page'), page.locator('#app').click()]);
    await app!.waitForLoadState();
    const personalCode = await app!.locator('#personalCode').inputValue();
    expect(personalCode).toMatch(/^\d{9}$/);
    await app!.locator('#approve').click();
    await app!.waitForSelector('text=Approved');

    // The login page notices, and sends the browser to the callback with the auth token.
    await page.waitForURL(/^https:\/\/bank\.example\/callback\?authToken=/, { timeout: 10_000 });
    const back = new URL(page.url());
    expect(back.searchParams.get('callbackVars')).toBe('{"order":7}');
    const { data: access } = (await cdk.client().getUserAccessToken(back.searchParams.get('authToken'))) as { data: { accessToken: string } };
    expect((await cdk.client().validateJwt(access.accessToken)).payload).toMatchObject({ personal_code: personalCode });
    await context.close();
  }, 60_000);

  it('tells the user when a login link is not valid', async () => {
    const page = await browser.newPage();
    const response = await page.goto(`${cdk.running.httpUrl}/login?loginToken=a.b.c`);
    expect(response?.status()).toBe(400);
    expect(await page.locator('h1').textContent()).toContain('not valid');
    await page.close();
  });
});
