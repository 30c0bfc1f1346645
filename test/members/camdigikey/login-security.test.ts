import { readFileSync } from 'node:fs';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CamDigiKeyClient } from '../../../members/camdigikey/client/client.js';
import { startCamdigikey, type RunningCamdigikey } from '../../../members/camdigikey/server.js';
import { createServiceAccount, initCamdigikey, type AccountEnvironment } from '../../../members/camdigikey/setup.js';
import { renderFace } from '../../../members/population/face.js';
import { startTestCamdigikey, type TestCamdigikey } from '../../support/camdigikey.js';
import { capturingLogger, startTestPki, type TestPki } from '../../support/pki.js';
import { tempDir } from '../../support/tmp.js';

let pki: TestPki;
let cdk: TestCamdigikey;
/** A second relying party whose site runs on this machine (domain localhost, http allowed there). */
let local: CamDigiKeyClient;

beforeAll(async () => {
  pki = await startTestPki();
  cdk = await startTestCamdigikey(pki.stateDir, { url: pki.url, adminTokenFile: pki.pki.layout.adminToken });
  const access = { url: pki.url, adminToken: readFileSync(pki.pki.layout.adminToken, 'utf8').trim() };
  const { env } = await createServiceAccount(pki.stateDir, access, { clientId: 'local-site', domain: 'localhost', serverBaseUrl: cdk.running.httpsUrl, callbackUrl: 'http://localhost:8000/callback', fallbackUrl: 'http://localhost:8000/fallback' });
  local = clientOf(env);
}, 60_000);

afterAll(async () => {
  await cdk?.close();
  await pki?.close();
});

function clientOf(env: AccountEnvironment): CamDigiKeyClient {
  return cdk.client({}, env);
}

async function loginToken(client = cdk.client()): Promise<string> {
  return ((await client.getLoginToken()) as { data: { loginToken: string } }).data.loginToken;
}

/**
 * A valid token followed by markup. Node's lenient base64 stops at `=`, so before strict decoding
 * the signature still verified and the page wrote the whole string into its inline script (no
 * `.`, so the three-part test passed; no `"`, which JSON.stringify would have escaped).
 */
const SCRIPT_BREAKOUT = "=</script><script>window['pwned']=1</script>";

const INLINE_SCRIPT = /<script(?![^>]*\ssrc=)[^>]*>/i;

describe('CamDigiKey /login: strict token decoding, no request data in scripts, a CSP', () => {
  it('serves the login page with a CSP allowing only its own script file, and no inline script', async () => {
    const token = await loginToken();
    const res = await fetch(`${cdk.running.httpUrl}/login?loginToken=${token}`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await res.text();
    expect(html).not.toMatch(INLINE_SCRIPT);
    expect(html).toContain('<script src="/static/login.js" defer></script>');
    expect(html).toContain(`data-status-url="/login/status?loginToken=${token}"`);
    const script = await fetch(`${cdk.running.httpUrl}/static/login.js`);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await script.text()).toContain('dataset.statusUrl');
  });

  it('answers a token with markup after it with its named error, and echoes none of it', async () => {
    const token = await loginToken();
    for (const tail of [SCRIPT_BREAKOUT, '"</script><script>window.pwned=1</script>', '=</script><img src=x onerror=alert(1)>']) {
      const res = await fetch(`${cdk.running.httpUrl}/login?loginToken=${encodeURIComponent(token + tail)}`);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
      const html = await res.text();
      expect(html).toContain('This login link is not valid');
      expect(html).toContain('CamDigiKey error 1101: Invalid login token');
      expect(html).not.toContain('pwned');
      expect(html).not.toContain('onerror');
    }
    // The simulated app and the poll refuse it alike.
    expect((await fetch(`${cdk.running.httpUrl}/app?loginToken=${encodeURIComponent(token + SCRIPT_BREAKOUT)}`)).status).toBe(400);
    const status = await fetch(`${cdk.running.httpUrl}/login/status?loginToken=${encodeURIComponent(token + SCRIPT_BREAKOUT)}`);
    expect(status.status).toBe(400);
    expect(await status.json()).toMatchObject({ state: 'INVALID', error: 1101 });
  });

  it('takes the token only in its exact form: not percent-encoded twice, not repeated, not in standard base64', async () => {
    const token = await loginToken();
    const forms = [token.replace(/\./g, '%252E'), `${token}&loginToken=${token}`, `${token.slice(0, -2)}+/`, `${token}.x`, ''];
    for (const form of forms) expect((await fetch(`${cdk.running.httpUrl}/login?loginToken=${form}`)).status, form).toBe(400);
    expect((await fetch(`${cdk.running.httpUrl}/login?loginToken=${token}`)).status).toBe(200);
  });

  it('says on the simulated app that its approval is simulation-only', async () => {
    const html = await (await fetch(`${cdk.running.httpUrl}/app?loginToken=${await loginToken()}`)).text();
    expect(html).toMatch(/id="simulation-only"><strong>Simulation only\.<\/strong>/);
  });
});

describe('CamDigiKey return URLs: https:, or http: on a loopback host', () => {
  it('refuses javascript:, data:, app schemes and plain http: to a non-loopback host', async () => {
    for (const url of ['javascript://x', 'javascript://shop.bank.example/%0Awindow.pwned=1;//', 'data:text/html,<script>1</script>', 'demobank://bank.example/cb', 'http://bank.example/callback', 'ftp://bank.example/']) {
      await expect(cdk.client().getLoginToken({ successReturnUrl: url }), url).rejects.toMatchObject({ errorCode: 1009, message: 'A return URL must use https: (http: only on a loopback host)' });
    }
  });

  it('accepts https: on the domain, and http: on localhost or a loopback address for a site on this machine', async () => {
    await expect(cdk.client().getLoginToken({ successReturnUrl: 'https://shop.bank.example/done' })).resolves.toMatchObject({ error: 0 });
    await expect(local.getLoginToken({ successReturnUrl: 'http://localhost:8000/callback?state=1' })).resolves.toMatchObject({ error: 0 });
    await expect(local.getLoginToken()).resolves.toMatchObject({ error: 0 });
    // Still on the registered domain only.
    await expect(local.getLoginToken({ successReturnUrl: 'http://127.0.0.1:8000/callback' })).rejects.toMatchObject({ errorCode: 1007 });
    await expect(cdk.client().getLoginToken({ successReturnUrl: 'https://evil.example/' })).rejects.toMatchObject({ errorCode: 1007 });
  });
});

describe("CamDigiKey's plain-HTTP API serves its gateway only", () => {
  let dir: ReturnType<typeof tempDir>;
  let running: RunningCamdigikey;
  beforeAll(async () => {
    dir = tempDir();
    await initCamdigikey(dir.path, { url: pki.url, adminToken: readFileSync(pki.pki.layout.adminToken, 'utf8').trim() }, { dns: ['localhost'], ip: ['127.0.0.1'] });
    // The gateway calls from 127.0.0.2; everything else on this machine comes from 127.0.0.1.
    running = await startCamdigikey({ stateDir: dir.path, host: '127.0.0.1', httpPort: 0, httpsPort: 0, renderFace: (p) => renderFace(p), log: capturingLogger().log, gatewaySources: ['127.0.0.2'] });
  }, 60_000);
  afterAll(async () => {
    await running?.stop();
    dir?.cleanup();
  });

  const get = (path: string, localAddress: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.get(`${running.httpUrl}${path}`, { localAddress }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
    });

  it('answers the API from the gateway, refuses it from any other source, and serves the pages to everyone', async () => {
    const fromGateway = await get('/api/v3.0/authentication/certificates/access-token', '127.0.0.2');
    expect(fromGateway.status).toBe(200);
    expect((JSON.parse(fromGateway.body) as { data: string[] }).data).toHaveLength(2);
    const fromElsewhere = await get('/api/v3.0/authentication/certificates/access-token', '127.0.0.1');
    expect(fromElsewhere.status).toBe(403);
    expect(JSON.parse(fromElsewhere.body)).toMatchObject({ error: 1008, message: expect.stringContaining("serves only CamDigiKey's own CamDX gateway") });
    const post = await fetch(`${running.httpUrl}/api/v3.0/authentication/service-account/login-token`, { method: 'POST', body: '{}' });
    expect(post.status).toBe(403);
    expect((await get('/health', '127.0.0.1')).status).toBe(200);
    expect((await get('/login?loginToken=a.b.c', '127.0.0.1')).body).toContain('This login link is not valid');
  });
});
