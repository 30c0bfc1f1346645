import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCamdigikey, type TestCamdigikey } from '../../support/camdigikey.js';
import { launchChromium } from '../../support/browser.js';
import { startTestPki, type TestPki } from '../../support/pki.js';
import { requireTool } from '../../support/tools.js';

let pki: TestPki;
let cdk: TestCamdigikey;
let browser: Browser;
/** Screenshots of the pages, for a person to look at (CAMDX_SCREENSHOTS=dir keeps them somewhere known). */
// Per user: a directory another user made in the shared tmpdir is not ours to write.
const shots = process.env.CAMDX_SCREENSHOTS ?? join(tmpdir(), `camdx-login-screenshots-${process.getuid?.() ?? 'user'}`);

/**
 * Markup after a valid token. Node's base64 stops at `=`, so the old page still found such a
 * token valid and wrote it into its inline script with JSON.stringify (which escapes `"` but not
 * `</script>`); no `.` or `"`, so the first and third ran there. The second is the issue's.
 */
const BREAKOUTS = ["=</script><script>window['pwned']=1</script>", '"</script><script>window.pwned=1</script>', '=</script><img src=x onerror=pwned=1>'];

async function loginToken(): Promise<string> {
  return ((await cdk.client().getLoginToken()) as { data: { loginToken: string } }).data.loginToken;
}

/** A page that records any dialog, so an injected alert() would be noticed too. */
async function watchedPage(): Promise<{ page: Page; dialogs: string[] }> {
  const page = await browser.newPage();
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  return { page, dialogs };
}

const pwned = (page: Page) => page.evaluate(() => (window as unknown as { pwned?: unknown }).pwned);

describe('CamDigiKey /login in Chromium runs no injected script', requireTool('chromium'), () => {
  beforeAll(async () => {
    pki = await startTestPki();
    cdk = await startTestCamdigikey(pki.stateDir, { url: pki.url, adminTokenFile: pki.pki.layout.adminToken });
    browser = await launchChromium();
    mkdirSync(shots, { recursive: true });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await cdk?.close();
    await pki?.close();
  });

  it('answers a token carrying a script breakout with its named error page, under the CSP, and runs nothing', async () => {
    const token = await loginToken();
    for (const [i, tail] of BREAKOUTS.entries()) {
      const { page, dialogs } = await watchedPage();
      const response = await page.goto(`${cdk.running.httpUrl}/login?loginToken=${encodeURIComponent(token + tail)}`);
      expect(response?.status()).toBe(400);
      expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
      expect(await page.locator('h1').textContent()).toBe('This login link is not valid');
      expect(await page.locator('#error').textContent()).toBe('CamDigiKey error 1101: Invalid login token');
      await page.waitForTimeout(100);
      expect(await pwned(page)).toBeUndefined();
      expect(dialogs).toEqual([]);
      if (i === 0) await page.screenshot({ path: join(shots, 'login-error.png'), fullPage: true });
      await page.close();
    }
  }, 30_000);

  it('serves the login page under a CSP that blocks inline script, with hostile extra parameters inert', async () => {
    const token = await loginToken();
    const { page, dialogs } = await watchedPage();
    const hostile = encodeURIComponent('"</script><script>window.pwned=1</script>');
    const response = await page.goto(`${cdk.running.httpUrl}/login?loginToken=${token}&next=${hostile}&${hostile}=1`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    expect(await page.title()).toBe('Log in with CamDigiKey');
    // The page's own script (a file) runs: it is polling.
    await expect.poll(() => page.locator('#state').textContent()).toBe('Waiting for approval…');
    // Even script that did get into the page would not run: inline script is refused by the CSP.
    await page.addScriptTag({ content: 'window.pwned = 1' }).catch(() => undefined);
    expect(await pwned(page)).toBeUndefined();
    expect(dialogs).toEqual([]);
    await page.screenshot({ path: join(shots, 'login.png'), fullPage: true });
    await page.close();
  }, 30_000);

  it('follows an approval to the https return URL with the script from its file', async () => {
    const { data } = (await cdk.client().getLoginToken({ successReturnUrl: 'https://shop.bank.example/done' })) as { data: { loginToken: string; loginUrl: string } };
    const context = await browser.newContext();
    await context.route('https://shop.bank.example/**', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<h1>relying party</h1>' }));
    const page = await context.newPage();
    await page.goto(data.loginUrl);
    let i = 0;
    while (cdk.running.people.byIndex(i)!.accountStatus !== 'ENABLED') i++;
    const personalCode = cdk.running.people.byIndex(i)!.idNumber;
    const app = await context.newPage();
    await app.goto(`${cdk.running.httpUrl}/app?loginToken=${data.loginToken}`);
    expect(await app.locator('#simulation-only').textContent()).toContain('Simulation only.');
    await app.screenshot({ path: join(shots, 'app.png'), fullPage: true });
    await app.close();
    const approval = await fetch(`${cdk.running.httpUrl}/app/approve`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ loginToken: data.loginToken, personalCode }) });
    expect(approval.status).toBe(200);
    await page.waitForURL(/^https:\/\/shop\.bank\.example\/done\?authToken=/, { timeout: 10_000 });
    await context.close();
  }, 30_000);
});
