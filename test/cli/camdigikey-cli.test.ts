import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCamdx, type ChildService } from '../../common/child.js';
import { freePort } from '../../common/ports.js';
import { readKeystore } from '../../certs/pkcs12.js';
import { CamDigiKeyClient } from '../../members/camdigikey/client/client.js';
import { startTestPki, type TestPki } from '../support/pki.js';
import { run } from '../support/run.js';

const BIN = join(import.meta.dirname, '../../bin/camdx.js');
let pki: TestPki;
let service: ChildService | undefined;
const camdx = (...args: string[]) => run(process.execPath, [BIN, '--state-dir', pki.stateDir, 'camdigikey', ...args]);
const pkiOptions = () => ['--pki-url', pki.url];

beforeAll(async () => {
  pki = await startTestPki();
});
afterAll(async () => {
  await service?.stop();
  await pki.close();
});

describe('camdx camdigikey', () => {
  it('initialises once, serves, and creates a service account whose printed environment works with the client', async () => {
    const init = await camdx('init', ...pkiOptions());
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toMatch(/initialised: trust anchors, HTTPS certificate, token signer, token payload key/);
    expect((await camdx('init', ...pkiOptions())).stdout).toMatch(/already initialised/);

    const [http, https] = [await freePort(), await freePort()];
    service = await spawnCamdx(['--state-dir', pki.stateDir, 'camdigikey', 'serve', '--http-port', String(http), '--https-port', String(https), ...pkiOptions()], /CamDigiKey ready/);
    const created = await camdx('account', 'create', '--client-id', 'shop', '--domain', 'shop.example', '--app-id', 'shopapp', '--server-url', `https://127.0.0.1:${https}`, ...pkiOptions());
    expect(created.code, created.stderr).toBe(0);
    const env = Object.fromEntries(created.stdout.trim().split('\n').map((line) => line.split(/=(.*)/s).slice(0, 2))) as Record<string, string>;
    expect(env.CAMDIGIKEY_CLIENT_ID).toBe('shop');
    expect(env.CAMDIGIKEY_SERVER_BASED_URL).toBe(`https://127.0.0.1:${https}`);
    expect(created.stderr).toMatch(/camdigikey\.env/);

    const client = new CamDigiKeyClient({
      clientId: env.CAMDIGIKEY_CLIENT_ID!,
      hmacKey: env.CAMDIGIKEY_HMAC_KEY!,
      aesSecretKey: env.CAMDIGIKEY_AES_SECRET_KEY!,
      aesIvParams: env.CAMDIGIKEY_AES_IV_PARAMS!,
      clientDomain: env.CAMDIGIKEY_CLIENT_DOMAIN!,
      serverBaseUrl: env.CAMDIGIKEY_SERVER_BASED_URL!,
      keystore: { pfx: readFileSync(env.CAMDIGIKEY_CLIENT_KEYSTORE_FILE!), passphrase: env.CAMDIGIKEY_CLIENT_KEYSTORE_FILE_PASSWORD! },
      trustRoot: readKeystore(readFileSync(env.CAMDIGIKEY_CLIENT_TRUST_STORE_FILE!), env.CAMDIGIKEY_CLIENT_TRUST_STORE_FILE_PASSWORD!).certificates[0]!,
    });
    const { data } = (await client.getOrganizationAccessToken()) as { data: { accessToken: string } };
    expect((await client.validateJwt(data.accessToken)).is_valid).toBe(true);
    client.close();

    expect((await camdx('account', 'list')).stdout).toBe('shop\tshop.example\tapp shopapp\n');
    const again = await camdx('account', 'create', '--client-id', 'shop', '--domain', 'shop.example', ...pkiOptions());
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('service account shop already exists');
    const bad = await camdx('account', 'create', '--client-id', 'x', '--domain', 'not a domain', ...pkiOptions());
    expect(bad.stderr).toContain('client id: 3-64 characters');

    const users = await camdx('users', '--count', '3');
    expect(users.stdout.trim().split('\n')).toHaveLength(3);
    expect(users.stdout).toMatch(/^\d{9}\t/);
  }, 60_000);
});
