import { readFileSync } from 'node:fs';
import { readKeystore } from '../../certs/pkcs12.js';
import { CamDigiKeyClient, type ClientConfig } from '../../members/camdigikey/client/client.js';
import { startCamdigikey, type RunningCamdigikey } from '../../members/camdigikey/server.js';
import { createServiceAccount, initCamdigikey, type AccountEnvironment } from '../../members/camdigikey/setup.js';
import { renderFace } from '../../members/population/face.js';
import { capturingLogger } from './pki.js';

export interface TestCamdigikey {
  readonly running: RunningCamdigikey;
  /** The demo relying party's `CAMDIGIKEY_*` environment, as `camdx camdigikey account create` prints it. */
  readonly env: AccountEnvironment;
  readonly logLines: string[];
  /** A client configured from an account's environment (the demo relying party's by default), as a relying party would: over HTTPS with the keystore. */
  client(overrides?: Partial<ClientConfig>, account?: AccountEnvironment): CamDigiKeyClient;
  close(): Promise<void>;
}

export const RELYING_PARTY = { clientId: 'demo-bank-web', domain: 'bank.example', appId: 'demobank' } as const;

/** CamDigiKey in-process on loopback, enrolled with the given PKI, with one service account. */
export async function startTestCamdigikey(stateDir: string, pki: { url: string; adminTokenFile: string }, ports: { http?: number; https?: number; clock?: () => number } = {}): Promise<TestCamdigikey> {
  const access = { url: pki.url, adminToken: readFileSync(pki.adminTokenFile, 'utf8').trim() };
  await initCamdigikey(stateDir, access, { dns: ['localhost'], ip: ['127.0.0.1'] });
  const { log, lines } = capturingLogger();
  const running = await startCamdigikey({ stateDir, host: '127.0.0.1', httpPort: ports.http ?? 0, httpsPort: ports.https ?? 0, renderFace: (p) => renderFace(p), log, ...(ports.clock ? { clock: ports.clock } : {}) });
  const { env } = await createServiceAccount(stateDir, access, { ...RELYING_PARTY, serverBaseUrl: running.httpsUrl });
  const trust = readKeystore(readFileSync(env.CAMDIGIKEY_CLIENT_TRUST_STORE_FILE), env.CAMDIGIKEY_CLIENT_TRUST_STORE_FILE_PASSWORD);
  const clients: CamDigiKeyClient[] = [];
  return {
    running,
    env,
    logLines: lines,
    client: (overrides = {}, account = env) => {
      const c = new CamDigiKeyClient({
        clientId: account.CAMDIGIKEY_CLIENT_ID,
        hmacKey: account.CAMDIGIKEY_HMAC_KEY,
        aesSecretKey: account.CAMDIGIKEY_AES_SECRET_KEY,
        aesIvParams: account.CAMDIGIKEY_AES_IV_PARAMS,
        clientDomain: account.CAMDIGIKEY_CLIENT_DOMAIN,
        serverBaseUrl: account.CAMDIGIKEY_SERVER_BASED_URL,
        keystore: { pfx: readFileSync(account.CAMDIGIKEY_CLIENT_KEYSTORE_FILE), passphrase: account.CAMDIGIKEY_CLIENT_KEYSTORE_FILE_PASSWORD },
        trustRoot: trust.certificates[0]!,
        ...overrides,
      });
      clients.push(c);
      return c;
    },
    close: async () => {
      for (const c of clients) c.close();
      await running.stop();
    },
  };
}

/**
 * What a relying party and its user do for a web login: ask for a login token, open the login
 * page, approve in the (simulated) app as `personalCode`, and follow the page's redirect.
 * Returns the redirect URL and the auth token exactly as it arrives in it (URL-encoded).
 */
export async function webLogin(client: CamDigiKeyClient, personalCode: string, opts: { successReturnUrl?: string; callbackVars?: unknown } = {}) {
  const { data } = (await client.getLoginToken(opts)) as { data: { loginToken: string; loginUrl: string } };
  const page = await fetch(data.loginUrl);
  if (page.status !== 200) throw new Error(`login page answered ${page.status}`);
  const web = new URL(data.loginUrl).origin;
  const approval = await fetch(`${web}/app/approve`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ loginToken: data.loginToken, personalCode }) });
  const answer = (await approval.json()) as { redirect: string; appCallback: string | null };
  if (approval.status !== 200) throw new Error(`approval refused: ${JSON.stringify(answer)}`);
  const status = (await (await fetch(`${web}/login/status?loginToken=${encodeURIComponent(data.loginToken)}`)).json()) as { state: string; redirect: string };
  const rawAuthToken = /[?&]authToken=([^&]*)/.exec(status.redirect)?.[1];
  if (!rawAuthToken) throw new Error(`no auth token in ${status.redirect}`);
  return { loginToken: data.loginToken, loginUrl: data.loginUrl, state: status.state, redirect: status.redirect, appCallback: answer.appCallback, rawAuthToken };
}
