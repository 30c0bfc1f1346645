import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { freePort } from '../../../common/ports.js';
import { readKeystore } from '../../../certs/pkcs12.js';
import type { CamDigiKeyClient } from '../../../members/camdigikey/client/client.js';
import type { Person } from '../../../members/population/population.js';
import { RELYING_PARTY, startTestCamdigikey, webLogin, type TestCamdigikey } from '../../support/camdigikey.js';
import { CLIENT, startTestNetwork, type TestNetwork } from '../../support/network.js';

const SERVICE_ID = 'CAMDX/GOV/TSC/CAMDIGIKEY/camdigikey';
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

let net: TestNetwork;
let cdk: TestCamdigikey;
let user: Person;

beforeAll(async () => {
  const httpPort = await freePort();
  net = await startTestNetwork({
    extraProviders: [{ member: 'CAMDX/GOV/TSC', name: 'Techo Startup Center', subsystems: ['CAMDIGIKEY'], services: { [SERVICE_ID]: `http://127.0.0.1:${httpPort}` } }],
  });
  cdk = await startTestCamdigikey(net.central.stateDir, { url: net.central.pki.url, adminTokenFile: net.central.pki.pki.layout.adminToken }, { http: httpPort });
  for (let i = 0; !user; i++) {
    const p = cdk.running.people.byIndex(i)!;
    if (p.accountStatus === 'ENABLED') user = p;
  }
}, 120_000);

afterAll(async () => {
  await cdk?.close();
  await net?.close();
});

/** The whole relying-party story, the same whichever way the client reaches CamDigiKey. */
async function relyingPartyStory(client: CamDigiKeyClient) {
  const login = await webLogin(client, user.idNumber, { callbackVars: { basket: 42 }, successReturnUrl: 'https://shop.bank.example/done' });
  expect(login.state).toBe('APPROVED');
  expect(login.loginUrl).toContain('login?loginToken=');
  expect(login.redirect.startsWith('https://shop.bank.example/done?authToken=')).toBe(true);
  expect(new URL(login.redirect).searchParams.get('callbackVars')).toBe('{"basket":42}');
  expect(login.appCallback).toMatch(/^demobank:\/\/camdigikey_login_callback\?authToken=/);

  const auth = decodeURIComponent(login.rawAuthToken);
  const { data: access } = (await client.getUserAccessToken(login.rawAuthToken)) as { data: { accessToken: string } };
  expect(access.accessToken.split('.')).toHaveLength(3);
  // Auth tokens are single-use.
  await expect(client.getUserAccessToken(auth)).rejects.toMatchObject({ errorCode: 1113 });

  const valid = await client.validateJwt(access.accessToken);
  expect(valid.is_valid).toBe(true);
  expect(valid.payload).toMatchObject({ status: true, type: 'USER', domain: RELYING_PARTY.domain, personal_code: user.idNumber, camdigikey_id: user.camdigikeyId, first_name_en: user.firstNameEn, last_name_kh: user.lastNameKh, dob: user.dob });

  const { data: refreshed } = (await client.refreshUserAccessToken(access.accessToken)) as { data: { accessToken: string; service_account_id: string } };
  expect(refreshed.service_account_id).toBe(RELYING_PARTY.clientId);
  expect(await client.validateJwt(access.accessToken)).toEqual({ is_valid: false, payload: null });
  expect((await client.validateJwt(refreshed.accessToken)).is_valid).toBe(true);

  const { data: face } = (await client.getUserFace(refreshed.accessToken)) as { data: { face: string } };
  expect(Buffer.from(face.face, 'base64').subarray(0, 8)).toEqual(PNG);

  const { data: org } = (await client.getOrganizationAccessToken()) as { data: { accessToken: string } };
  expect((await client.validateJwt(org.accessToken)).payload).toMatchObject({ status: true, type: 'ORGANIZATION' });
  const other = cdk.running.people.byIndex(user.index + 1)!;
  const { data: found } = (await client.lookupUserProfile(org.accessToken, other.idNumber)) as { data: Record<string, unknown> & { account_token: string } };
  expect(found).toMatchObject({ personal_code: other.idNumber, surname_en: other.lastNameEn, given_name_kh: other.firstNameKh, camdigikey_id: other.camdigikeyId });
  const { data: profile } = (await client.verifyAccountToken(found.account_token)) as { data: Record<string, unknown> };
  expect(profile).toMatchObject({ personal_code: other.idNumber, user_status: { ENABLED: 1, DISABLED: 0, EXPIRED: 2, DELETED: 4 }[other.accountStatus] });

  const { data: out } = (await client.logoutAccessToken(refreshed.accessToken)) as { data: { status: number } };
  expect(out.status).toBe(0);
  expect(await client.validateJwt(refreshed.accessToken)).toEqual({ is_valid: false, payload: null });
}

describe('CamDigiKey for a relying party', () => {
  it('issues a service account the official client can use: env, keystore with the TLS CA, truststore with the root first', () => {
    const env = cdk.env;
    expect(Object.keys(env).sort()).toEqual(
      ['CAMDIGIKEY_AES_IV_PARAMS', 'CAMDIGIKEY_AES_SECRET_KEY', 'CAMDIGIKEY_CLIENT_DOMAIN', 'CAMDIGIKEY_CLIENT_ID', 'CAMDIGIKEY_CLIENT_KEYSTORE_FILE', 'CAMDIGIKEY_CLIENT_KEYSTORE_FILE_PASSWORD', 'CAMDIGIKEY_CLIENT_TRUST_STORE_FILE', 'CAMDIGIKEY_CLIENT_TRUST_STORE_FILE_PASSWORD', 'CAMDIGIKEY_HMAC_KEY', 'CAMDIGIKEY_SERVER_BASED_URL'].sort(),
    );
    expect(Buffer.from(env.CAMDIGIKEY_AES_SECRET_KEY, 'base64')).toHaveLength(32);
    expect(Buffer.from(env.CAMDIGIKEY_AES_IV_PARAMS, 'base64')).toHaveLength(16);
    const root = new X509Certificate(readFileSync(net.central.pki.pki.layout.caCert('root-ca')));
    const trust = readKeystore(readFileSync(env.CAMDIGIKEY_CLIENT_TRUST_STORE_FILE), env.CAMDIGIKEY_CLIENT_TRUST_STORE_FILE_PASSWORD);
    expect(trust.certificates[0]!.fingerprint256).toBe(root.fingerprint256);
    const keystore = readKeystore(readFileSync(env.CAMDIGIKEY_CLIENT_KEYSTORE_FILE), env.CAMDIGIKEY_CLIENT_KEYSTORE_FILE_PASSWORD);
    expect(keystore.privateKey).toBeDefined();
    expect(keystore.certificates[0]!.subject).toContain(`CN=${RELYING_PARTY.clientId}`);
    expect(keystore.certificates.some((c) => c.subject.includes('CamDigiKey'))).toBe(true);
    expect(statSync(env.CAMDIGIKEY_CLIENT_KEYSTORE_FILE).mode & 0o077).toBe(0);
  });

  it('completes login, tokens, face, organisation token, lookup and logout directly over mTLS', async () => {
    expect(cdk.env.CAMDIGIKEY_SERVER_BASED_URL.startsWith('https://')).toBe(true);
    await relyingPartyStory(cdk.client());
  });

  it('completes the same story through the CamDX gateways, each exchange signed and logged', async () => {
    const client = cdk.client({ serverBaseUrl: `${net.consumer.consumerUrl}/r1/${SERVICE_ID}`, xroadClient: CLIENT });
    const before = cdk.logLines.length;
    await relyingPartyStory(client);
    const metrics = await (await fetch(`${net.consumer.adminUrl}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`service="${SERVICE_ID.replace(/\//g, '\\/')}"[^\\n]*\\} [1-9]`));
    // The service logged nothing about the user or their tokens along the way.
    const logged = cdk.logLines.slice(before).join('');
    expect(logged).not.toContain(user.idNumber);
    expect(logged).not.toContain(user.lastNameEn);
  });

  it('refuses a CamDX member without an access right to CamDigiKey at its gateway', async () => {
    const client = cdk.client({ serverBaseUrl: `${net.consumer.consumerUrl}/r1/${SERVICE_ID}`, xroadClient: 'CAMDX/COM/DEMOBANK/OTHER' });
    await expect(client.getOrganizationAccessToken()).rejects.toMatchObject({ status: 500, body: { type: 'Server.ServerProxy.AccessDenied' } });
  });
});
