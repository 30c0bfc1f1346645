import { createCipheriv, createHmac, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keysFromBase64, openResponse, sealRequest, type ResponseEnvelope } from '../../../members/camdigikey/envelope.js';
import { createServiceAccount } from '../../../members/camdigikey/setup.js';
import type { Person } from '../../../members/population/population.js';
import { startTestCamdigikey, webLogin, type TestCamdigikey } from '../../support/camdigikey.js';
import { startTestPki, type TestPki } from '../../support/pki.js';

let pki: TestPki;
let cdk: TestCamdigikey;
let offsetMs = 0;
let enabled: Person;
let disabled: Person;

beforeAll(async () => {
  pki = await startTestPki();
  cdk = await startTestCamdigikey(pki.stateDir, { url: pki.url, adminTokenFile: pki.pki.layout.adminToken }, { clock: () => Date.now() + offsetMs });
  for (let i = 0; !enabled || !disabled; i++) {
    const p = cdk.running.people.byIndex(i)!;
    if (p.accountStatus === 'ENABLED') enabled ??= p;
    if (p.accountStatus === 'DISABLED') disabled ??= p;
  }
}, 60_000);

afterAll(async () => {
  await cdk?.close();
  await pki?.close();
});

const env = () => cdk.env;
const keys = () => keysFromBase64(env().CAMDIGIKEY_AES_SECRET_KEY, env().CAMDIGIKEY_AES_IV_PARAMS, env().CAMDIGIKEY_HMAC_KEY);
const api = (path: string) => `${cdk.running.httpUrl}/api/v3.0/authentication/service-account/${path}`;

/** One enveloped call as raw HTTP, so tests see the status and envelope the client would. */
async function raw(path: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(api(path), { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}
async function call(path: string, inner: Record<string, unknown>) {
  const res = await raw(path, sealRequest(env().CAMDIGIKEY_CLIENT_ID, keys(), inner));
  expect(res.status).toBe(200);
  return openResponse(res.json as ResponseEnvelope, keys()) as { error: number; message: string; data: Record<string, unknown> | null };
}
async function accessToken(): Promise<string> {
  const login = await webLogin(cdk.client(), enabled.idNumber);
  return ((await cdk.client().getUserAccessToken(login.rawAuthToken)).data as { accessToken: string }).accessToken;
}

describe('CamDigiKey wire quirks', () => {
  it('answers refusals with HTTP 200 and the code in the inner error, data null', async () => {
    const answer = await call('access-token/status', { accessToken: 'a.b.c' });
    expect(answer).toEqual({ error: 1201, message: 'Invalid access token', data: null });
  });

  it('accepts requests without the inner clientId and domain (the official client omits them when its environment lacks them)', async () => {
    const org = await call('organization-access-token', { requestedDate: Date.now() });
    expect(org.error).toBe(0);
    const status = await call('access-token/status', { accessToken: org.data!.accessToken });
    expect(status.data).toMatchObject({ status: true, type: 'ORGANIZATION' });
    const client = cdk.client({ innerIdentity: false });
    expect((await client.validateJwt(await accessToken())).is_valid).toBe(true);
  });

  it('mints base64url tokens of three parts, and accepts their signature in standard base64 too', async () => {
    const token = await accessToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const [h, p, s] = token.split('.');
    const standard = `${h}.${p}.${Buffer.from(s!, 'base64url').toString('base64')}`;
    expect((await call('access-token/status', { accessToken: standard })).data).toMatchObject({ status: true });
  });

  it('accepts %-encoded tokens, server side and client side', async () => {
    const token = await accessToken();
    const encoded = token.replace(/\./g, '%2E');
    expect((await call('access-token/status', { accessToken: encoded })).data).toMatchObject({ status: true, accessToken: token });
    expect((await cdk.client().validateJwt(encoded)).is_valid).toBe(true);
  });

  it('lists [signer, root]: a P-521 token signer from the CamDigiKey CA, then the truststore root', async () => {
    const list = (await (await fetch(`${cdk.running.httpUrl}/api/v3.0/authentication/certificates/access-token`)).json()) as { data: string[] };
    expect(list.data).toHaveLength(2);
    const [signer, root] = list.data.map((pem) => new X509Certificate(pem));
    expect(root!.fingerprint256).toBe(new X509Certificate(readFileSync(pki.pki.layout.caCert('root-ca'))).fingerprint256);
    expect(signer!.publicKey.asymmetricKeyDetails?.namedCurve).toBe('secp521r1');
    expect(signer!.checkIssued(new X509Certificate(readFileSync(pki.pki.layout.caCert('camdigikey-ca'))))).toBe(true);
  });

  it('answers refreshed and logged-out tokens with an error, not status false', async () => {
    const first = await accessToken();
    const second = (await call('refresh-access-token', { clientId: env().CAMDIGIKEY_CLIENT_ID, accessToken: first })).data!.accessToken as string;
    expect(await call('access-token/status', { accessToken: first })).toMatchObject({ error: 1203, data: null });
    expect((await call('access-token/logout', { accessToken: second })).error).toBe(0);
    expect(await call('access-token/status', { accessToken: second })).toMatchObject({ error: 1203, data: null });
    expect(await call('refresh-access-token', { accessToken: second })).toMatchObject({ error: 1203, data: null });
  });
});

describe('CamDigiKey bad input', () => {
  it('answers an unknown client id with HTTP 401 and plain JSON 1001 (no keys to seal with)', async () => {
    const res = await raw('login-token', sealRequest('no-such-client', keys(), { requestedDate: 1 }));
    expect(res).toEqual({ status: 401, json: { error: 1001, message: 'Service account not found' } });
    await expect(cdk.client({ clientId: 'no-such-client' }).getOrganizationAccessToken()).rejects.toMatchObject({ status: 401 });
  });

  it('refuses a wrong HMAC and undecryptable params, and the refused call changes nothing', async () => {
    const login = await webLogin(cdk.client(), enabled.idNumber);
    const inner = { clientId: env().CAMDIGIKEY_CLIENT_ID, authToken: decodeURIComponent(login.rawAuthToken) };
    const envelope = sealRequest(env().CAMDIGIKEY_CLIENT_ID, keys(), inner);
    const forged = { ...envelope, signature: createHmac('sha512', Buffer.alloc(64, 1)).update(`${envelope.clientId}.${envelope.params}`).digest('base64') };
    expect(openResponse((await raw('access-token', forged)).json as ResponseEnvelope, keys())).toMatchObject({ error: 1002, data: null });
    // Correctly signed, but encrypted under another key: the HMAC holds, the params do not open.
    const wrongKey = createCipheriv('aes-256-cbc', Buffer.alloc(32, 9), Buffer.from(env().CAMDIGIKEY_AES_IV_PARAMS, 'base64'));
    const params = Buffer.concat([wrongKey.update(JSON.stringify(inner)), wrongKey.final()]).toString('base64');
    const signature = createHmac('sha512', Buffer.from(env().CAMDIGIKEY_HMAC_KEY, 'base64')).update(`${envelope.clientId}.${params}`).digest('base64');
    expect(openResponse((await raw('access-token', { clientId: envelope.clientId, params, signature })).json as ResponseEnvelope, keys())).toMatchObject({ error: 1003, data: null });
    // The auth token was not consumed by either refusal.
    expect((await call('access-token', inner)).error).toBe(0);
  });

  it('refuses a wrong domain or a foreign clientId inside the params, and a success URL off the domain', async () => {
    expect(await call('organization-access-token', { clientId: env().CAMDIGIKEY_CLIENT_ID, domain: 'evil.example', requestedDate: 1 })).toMatchObject({ error: 1005, data: null });
    expect(await call('organization-access-token', { clientId: 'someone-else', requestedDate: 1 })).toMatchObject({ error: 1006, data: null });
    expect(await call('login-token', { successReturnUrl: 'https://evil.example/steal' })).toMatchObject({ error: 1007, data: null });
    expect(await call('login-token', { successReturnUrl: 'not a url' })).toMatchObject({ error: 1007, data: null });
  });

  it('refuses malformed envelopes, bodies that are not JSON, oversize bodies and unknown calls', async () => {
    expect(await raw('login-token', { clientId: env().CAMDIGIKEY_CLIENT_ID })).toMatchObject({ status: 400, json: { error: 1004 } });
    expect(await raw('login-token', '{not json')).toMatchObject({ status: 400, json: { error: 1004 } });
    expect(await raw('login-token', JSON.stringify({ clientId: 'x', params: 'A'.repeat(100_000), signature: 'x' }))).toMatchObject({ status: 413 });
    expect(await call('no-such-call', {})).toMatchObject({ error: 1004, data: null });
    expect(await call('lookup', { accessToken: await accessToken() })).toMatchObject({ error: 1004, data: null });
  });

  it('makes a login token single-use: a replayed approval is refused and the first answer stands', async () => {
    const { data } = (await cdk.client().getLoginToken()) as { data: { loginToken: string; loginUrl: string } };
    const approve = (personalCode: string) =>
      fetch(`${cdk.running.httpUrl}/app/approve`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ loginToken: data.loginToken, personalCode }) });
    // Unknown and disabled users are refused without using the login up.
    expect(await (await approve('000000000')).json()).toEqual({ error: 1301, message: 'User not found' });
    expect(await (await approve(disabled.idNumber)).json()).toEqual({ error: 1302, message: 'User account is not active' });
    expect((await approve(enabled.idNumber)).status).toBe(200);
    const replay = await approve(enabled.idNumber);
    expect(replay.status).toBe(400);
    expect(await replay.json()).toEqual({ error: 1103, message: 'Login token already used' });
    expect((await fetch(data.loginUrl)).status).toBe(410);
    const state = (await (await fetch(`${cdk.running.httpUrl}/login/status?loginToken=${encodeURIComponent(data.loginToken)}`)).json()) as { state: string };
    expect(state.state).toBe('APPROVED');
  });

  it('sends a rejected login to the fallback with errorCode and errorMessage', async () => {
    const { data } = (await cdk.client().getLoginToken()) as { data: { loginToken: string } };
    const res = await fetch(`${cdk.running.httpUrl}/app/reject`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ loginToken: data.loginToken }) });
    const redirect = new URL(((await res.json()) as { redirect: string }).redirect);
    expect(`${redirect.origin}${redirect.pathname}`).toBe('https://bank.example/fallback');
    expect(redirect.searchParams.get('errorCode')).toBe('USER_REJECTED');
    expect(redirect.searchParams.get('errorMessage')).toBeTruthy();
  });

  it('expires login, auth and access tokens', async () => {
    const { data } = (await cdk.client().getLoginToken()) as { data: { loginToken: string; loginUrl: string } };
    const login = await webLogin(cdk.client(), enabled.idNumber);
    const live = await accessToken();
    offsetMs = 2 * 3600_000;
    try {
      const approve = await fetch(`${cdk.running.httpUrl}/app/approve`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ loginToken: data.loginToken, personalCode: enabled.idNumber }) });
      expect(await approve.json()).toEqual({ error: 1102, message: 'Login token expired' });
      const status = (await (await fetch(`${cdk.running.httpUrl}/login/status?loginToken=${encodeURIComponent(data.loginToken)}`)).json()) as { state: string; redirect: string };
      expect(status.state).toBe('EXPIRED');
      expect(new URL(status.redirect).searchParams.get('errorCode')).toBe('LOGIN_EXPIRED');
      expect((await fetch(data.loginUrl)).status).toBe(410);
      expect(await call('access-token', { authToken: decodeURIComponent(login.rawAuthToken) })).toMatchObject({ error: 1112, data: null });
      expect(await call('access-token/status', { accessToken: live })).toMatchObject({ error: 1202, data: null });
    } finally {
      offsetMs = 0;
    }
  });

  it('refuses tokens of the wrong kind or another service account', async () => {
    const other = await createServiceAccount(pki.stateDir, { url: pki.url, adminToken: readFileSync(pki.pki.layout.adminToken, 'utf8').trim() }, { clientId: 'other-rp', domain: 'other.example', serverBaseUrl: cdk.running.httpsUrl });
    const otherKeys = keysFromBase64(other.env.CAMDIGIKEY_AES_SECRET_KEY, other.env.CAMDIGIKEY_AES_IV_PARAMS, other.env.CAMDIGIKEY_HMAC_KEY);
    const token = await accessToken();
    const res = await raw('access-token/status', sealRequest('other-rp', otherKeys, { accessToken: token }));
    expect(openResponse(res.json as ResponseEnvelope, otherKeys)).toMatchObject({ error: 1201, data: null });
    const org = (await call('organization-access-token', {})).data!.accessToken as string;
    expect(await call('user-face', { accessToken: org })).toMatchObject({ error: 1201 });
    expect(await call('lookup/user-profile', { accountToken: token })).toMatchObject({ error: 1211 });
    expect(await call('lookup', { accessToken: token, personalCode: '999999999' })).toMatchObject({ error: 1301, data: null });
  });

  it('requires a CamDigiKey CA client certificate issued to the calling service account on HTTPS', async () => {
    const body = JSON.stringify(sealRequest(env().CAMDIGIKEY_CLIENT_ID, keys(), {}));
    const post = (agent: https.Agent) =>
      new Promise<{ status: number; json: unknown }>((resolve, reject) => {
        const req = https.request(`${cdk.running.httpsUrl}/api/v3.0/authentication/service-account/organization-access-token`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(text) }));
        });
        req.on('error', reject);
        req.end(body);
      });
    const ca = [readFileSync(pki.pki.layout.caCert('camdigikey-ca')), readFileSync(pki.pki.layout.caCert('root-ca'))];
    expect(await post(new https.Agent({ ca }))).toMatchObject({ status: 403, json: { error: 1008 } });
    // A certificate from the CamDX CA (a gateway's) is not a CamDigiKey service account.
    const gateway = pki.issue('server-auth', { instance: 'CAMDX', memberClass: 'COM', memberCode: 'X', memberName: 'X', serverCode: 'SS1' });
    expect(await post(new https.Agent({ ca, key: gateway.key.privateKey.export({ type: 'pkcs8', format: 'pem' }), cert: gateway.cert.toString() }))).toMatchObject({ status: 403, json: { error: 1008 } });
    // The other account's certificate cannot speak for this account.
    const other = readFileSync(cdk.env.CAMDIGIKEY_CLIENT_KEYSTORE_FILE.replace(cdk.env.CAMDIGIKEY_CLIENT_ID, 'other-rp'));
    const otherEnv = readFileSync(cdk.env.CAMDIGIKEY_CLIENT_KEYSTORE_FILE.replace(cdk.env.CAMDIGIKEY_CLIENT_ID, 'other-rp').replace('keystore.p12', 'camdigikey.env'), 'utf8');
    const passphrase = /CAMDIGIKEY_CLIENT_KEYSTORE_FILE_PASSWORD=(.*)/.exec(otherEnv)![1]!;
    const refused = await post(new https.Agent({ pfx: other, passphrase }));
    expect(refused.status).toBe(403);
    expect(JSON.stringify(refused.json)).toContain("not to service account 'demo-bank-web'");
  });

  it('logs refusals without secrets, tokens or personal data', () => {
    const logged = cdk.logLines.join('');
    expect(logged).toContain('CamDigiKey call refused');
    for (const secret of [env().CAMDIGIKEY_HMAC_KEY, env().CAMDIGIKEY_AES_SECRET_KEY, env().CAMDIGIKEY_CLIENT_KEYSTORE_FILE_PASSWORD, enabled.idNumber, disabled.idNumber, enabled.lastNameEn]) expect(logged).not.toContain(secret);
    expect(logged).not.toMatch(/[A-Za-z0-9_-]{40,}\.[A-Za-z0-9_-]{40,}\./);
  });
});
