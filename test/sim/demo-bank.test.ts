import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../common/ports.js';
import { createServiceAccount } from '../../members/camdigikey/setup.js';
import type { Person } from '../../members/population/population.js';
import { startDemoBank } from '../../sim/demo-bank.js';
import { startTestCamdigikey, type TestCamdigikey } from '../support/camdigikey.js';
import { capturingLogger, startTestPki, type TestPki } from '../support/pki.js';

const MINUTE = 60_000;

let pki: TestPki;
let cdk: TestCamdigikey;
let bank: { url: string; stop(): Promise<void> };
let user: Person;
/** Demo Bank's clock runs this far ahead of the real one. */
let offsetMs = 0;

beforeAll(async () => {
  pki = await startTestPki();
  cdk = await startTestCamdigikey(pki.stateDir, { url: pki.url, adminTokenFile: pki.pki.layout.adminToken });
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const access = { url: pki.url, adminToken: readFileSync(pki.pki.layout.adminToken, 'utf8').trim() };
  const { env } = await createServiceAccount(pki.stateDir, access, { clientId: 'demo-bank-local', domain: '127.0.0.1', serverBaseUrl: cdk.running.httpsUrl, callbackUrl: `${origin}/callback`, fallbackUrl: `${origin}/fallback` });
  const camdigikey = cdk.client({}, env);
  // MOI is not part of this test: the KYC line on the account page reports it unreachable.
  bank = await startDemoBank({ host: '127.0.0.1', port, origin, camdigikey, kycUrl: 'http://127.0.0.1:1', xroadClient: 'CAMDX/COM/DEMOBANK/ONBOARDING', log: capturingLogger().log, clock: () => Date.now() + offsetMs });
  for (let i = 0; !user; i++) if (cdk.running.people.byIndex(i)!.accountStatus === 'ENABLED') user = cdk.running.people.byIndex(i)!;
}, 60_000);

afterAll(async () => {
  await bank?.stop();
  await cdk?.close();
  await pki?.close();
});

const firstCookie = (res: Response) => res.headers.get('set-cookie')?.split(';')[0];

/** The browser clicks "Log in", the user approves in the app; returns the browser's cookie and where CamDigiKey sends it back. */
async function approvedLogin(): Promise<{ cookie: string; callback: URL }> {
  const start = await fetch(`${bank.url}/login`, { method: 'POST', redirect: 'manual' });
  expect(start.status).toBe(303);
  const cookie = firstCookie(start)!;
  expect(cookie).toMatch(/^login=[A-Za-z0-9_-]+$/);
  const loginToken = new URL(start.headers.get('location')!).searchParams.get('loginToken');
  const approval = await fetch(`${cdk.running.httpUrl}/app/approve`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ loginToken, personalCode: user.idNumber }) });
  expect(approval.status).toBe(200);
  return { cookie, callback: new URL(((await approval.json()) as { redirect: string }).redirect) };
}

const get = (url: URL | string, cookie?: string) => fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });

describe("Demo Bank's callback checks the state bound to the browser's login", () => {
  it('logs in the browser that started the login, once', async () => {
    const { cookie, callback } = await approvedLogin();
    expect(callback.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const back = await get(callback, cookie);
    expect(back.status).toBe(303);
    expect(back.headers.get('location')).toBe('/account');
    const sid = firstCookie(back)!;
    const account = await get(`${bank.url}/account`, sid);
    expect(await account.text()).toContain(`<h1 id="welcome">Welcome, ${user.firstNameEn} ${user.lastNameEn}</h1>`);
    // The same answer again is refused: a login is answered once.
    const replay = await get(callback, cookie);
    expect(replay.status).toBe(400);
  });

  it('refuses an answer with a wrong or missing state, or in a browser that did not start the login', async () => {
    const wrong = await approvedLogin();
    wrong.callback.searchParams.set('state', 'A'.repeat(24));
    const a = await get(wrong.callback, wrong.cookie);
    expect(a.status).toBe(400);
    expect(await a.text()).toContain('does not belong to the login started in this browser');
    expect(firstCookie(a)).toBeUndefined();

    const missing = await approvedLogin();
    missing.callback.searchParams.delete('state');
    expect((await get(missing.callback, missing.cookie)).status).toBe(400);

    // Login CSRF: the attacker's own approved login, completed in the victim's browser.
    const other = await approvedLogin();
    const b = await get(other.callback);
    expect(b.status).toBe(400);
    expect(await b.text()).toContain('This browser has no login in progress');
    const c = await get(other.callback, (await approvedLogin()).cookie);
    expect(c.status).toBe(400);
  });
});

describe('Demo Bank forgets a login after 30 minutes idle', () => {
  it('keeps a session in use, and ends it after 30 minutes without a request', async () => {
    const { cookie, callback } = await approvedLogin();
    const sid = firstCookie(await get(callback, cookie))!;
    expect(sid).toMatch(/^sid=/);
    offsetMs += 29 * MINUTE;
    expect((await get(`${bank.url}/account`, sid)).status).toBe(200);
    offsetMs += 29 * MINUTE;
    expect((await get(`${bank.url}/account`, sid)).status).toBe(200);
    offsetMs += 31 * MINUTE;
    const expired = await get(`${bank.url}/account`, sid);
    expect(expired.status).toBe(302);
    expect(expired.headers.get('location')).toBe('/');
    // Gone for good, not just for one request.
    offsetMs -= 31 * MINUTE;
    expect((await get(`${bank.url}/account`, sid)).status).toBe(302);
  });

  it('refuses the answer to a login started more than 30 minutes ago', async () => {
    const { cookie, callback } = await approvedLogin();
    offsetMs += 31 * MINUTE;
    const late = await get(callback, cookie);
    expect(late.status).toBe(400);
    expect(await late.text()).toContain('expired after 30 minutes');
  });
});
