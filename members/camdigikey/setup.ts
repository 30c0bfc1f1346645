import { randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, writeSecretFile } from '../../common/files.js';
import { generateKeyPair, privateKeyFromPem, privateKeyToPem } from '../../certs/keys.js';
import { certificatesFromPem } from '../../certs/pem.js';
import { createKeystore } from '../../certs/pkcs12.js';
import { enrolAndRequest } from '../../certs/ra-client.js';
import { keysFromBase64 } from './envelope.js';
import type { Signer } from './service.js';
import { CamdigikeyStore } from './store.js';

/** Where the CamDigiKey service keeps its state. */
export function camdigikeyLayout(stateDir: string) {
  const dir = join(stateDir, 'camdigikey');
  return {
    dir,
    database: join(dir, 'camdigikey.db'),
    population: join(dir, 'population.db'),
    payloadKey: join(dir, 'token-payload.key'),
    tlsKey: join(dir, 'tls', 'key.pem'),
    tlsChain: join(dir, 'tls', 'chain.pem'),
    signerKey: join(dir, 'signer', 'key.pem'),
    signerCert: join(dir, 'signer', 'cert.pem'),
    root: join(dir, 'trust', 'root-ca.pem'),
    issuingCa: join(dir, 'trust', 'camdigikey-ca.pem'),
    accounts: join(dir, 'accounts'),
  };
}
export type CamdigikeyLayout = ReturnType<typeof camdigikeyLayout>;

export interface PkiAccess {
  readonly url: string;
  readonly adminToken: string;
}

async function fetchText(url: string): Promise<string> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
  return res.text();
}

/**
 * Obtains what the service needs from the PKI, once: its HTTPS certificate (CamDigiKey CA,
 * SANs for the given hosts), the P-521 token signer, the trust anchors, and the key that makes
 * token payloads opaque. A key is generated locally and never leaves the state directory.
 */
export async function initCamdigikey(stateDir: string, pki: PkiAccess, hosts: { dns: string[]; ip: string[] }): Promise<string[]> {
  const layout = camdigikeyLayout(stateDir);
  const created: string[] = [];
  if (!existsSync(layout.root)) {
    writeFileAtomic(layout.root, await fetchText(`${pki.url}/ca/root-ca.pem`));
    writeFileAtomic(layout.issuingCa, await fetchText(`${pki.url}/ca/camdigikey-ca.pem`));
    created.push('trust anchors');
  }
  if (!existsSync(layout.tlsKey)) {
    const key = generateKeyPair('P-256');
    const chain = await enrolAndRequest(pki.url, pki.adminToken, 'camdigikey-tls', { commonName: hosts.dns[0] ?? hosts.ip[0] ?? 'camdigikey', ...hosts }, key.privateKey);
    writeFileAtomic(layout.tlsChain, chain.join(''));
    writeSecretFile(layout.tlsKey, privateKeyToPem(key.privateKey));
    created.push('HTTPS certificate');
  }
  if (!existsSync(layout.signerKey)) {
    const key = generateKeyPair('P-521');
    const chain = await enrolAndRequest(pki.url, pki.adminToken, 'camdigikey-token-signer', { commonName: 'CamDigiKey Access Token Signer' }, key.privateKey);
    writeFileAtomic(layout.signerCert, chain[0]!);
    writeSecretFile(layout.signerKey, privateKeyToPem(key.privateKey));
    created.push('token signer');
  }
  if (!existsSync(layout.payloadKey)) {
    writeSecretFile(layout.payloadKey, randomBytes(32).toString('base64'));
    created.push('token payload key');
  }
  new CamdigikeyStore(layout.database).close();
  return created;
}

export function loadSigner(layout: CamdigikeyLayout): Signer {
  return { key: privateKeyFromPem(readFileSync(layout.signerKey)), cert: new X509Certificate(readFileSync(layout.signerCert)), root: new X509Certificate(readFileSync(layout.root)) };
}

export interface AccountEnvironment {
  readonly CAMDIGIKEY_CLIENT_ID: string;
  readonly CAMDIGIKEY_HMAC_KEY: string;
  readonly CAMDIGIKEY_AES_SECRET_KEY: string;
  readonly CAMDIGIKEY_AES_IV_PARAMS: string;
  readonly CAMDIGIKEY_CLIENT_DOMAIN: string;
  readonly CAMDIGIKEY_SERVER_BASED_URL: string;
  readonly CAMDIGIKEY_CLIENT_KEYSTORE_FILE: string;
  readonly CAMDIGIKEY_CLIENT_KEYSTORE_FILE_PASSWORD: string;
  readonly CAMDIGIKEY_CLIENT_TRUST_STORE_FILE: string;
  readonly CAMDIGIKEY_CLIENT_TRUST_STORE_FILE_PASSWORD: string;
}

const CLIENT_ID = /^[A-Za-z0-9._-]{3,64}$/;
const DOMAIN = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/**
 * Registers a relying party: fresh envelope keys (AES-256 key, static IV, HMAC key), a
 * service-account certificate from the CamDigiKey CA in a PKCS#12 keystore that also carries
 * the CA of the service's HTTPS certificate (so the official client trusts the server with no
 * extra settings), and a truststore whose first certificate is the token-signing root. Writes
 * the official client's `CAMDIGIKEY_*` environment beside them.
 */
export async function createServiceAccount(
  stateDir: string,
  pki: PkiAccess,
  o: { clientId: string; domain: string; serverBaseUrl: string; appId?: string; callbackUrl?: string; fallbackUrl?: string },
): Promise<{ env: AccountEnvironment; envFile: string }> {
  if (!CLIENT_ID.test(o.clientId)) throw new Error('client id: 3-64 characters of A-Z a-z 0-9 . _ -');
  if (!DOMAIN.test(o.domain)) throw new Error(`domain '${o.domain}' is not a host name`);
  if (o.appId !== undefined && !/^[a-z][a-z0-9+.-]{1,63}$/.test(o.appId)) throw new Error('app id must be a URL scheme (lower-case letters, digits, + . -)');
  const layout = camdigikeyLayout(stateDir);
  const store = new CamdigikeyStore(layout.database);
  try {
    if (store.account(o.clientId)) throw new Error(`service account ${o.clientId} already exists`);
    const raw = { aes: randomBytes(32).toString('base64'), iv: randomBytes(16).toString('base64'), hmac: randomBytes(64).toString('base64') };
    const dir = join(layout.accounts, o.clientId);
    const key = generateKeyPair('P-256');
    const chain = await enrolAndRequest(pki.url, pki.adminToken, 'service-account', { clientId: o.clientId, domain: o.domain }, key.privateKey);
    const issuingCa = readFileSync(layout.issuingCa, 'utf8');
    const root = readFileSync(layout.root, 'utf8');
    const password = () => randomBytes(18).toString('base64url');
    const keystorePassword = password();
    const truststorePassword = password();
    const keystore = join(dir, 'keystore.p12');
    const truststore = join(dir, 'truststore.p12');
    writeSecretFile(
      keystore,
      createKeystore({
        privateKey: key.privateKey,
        certificates: [...chain, issuingCa, root].flatMap((p) => certificatesFromPem(p)).filter((c, i, all) => all.findIndex((d) => d.equals(c)) === i),
        password: keystorePassword,
      }),
    );
    writeSecretFile(truststore, createKeystore({ certificates: [...certificatesFromPem(root), ...certificatesFromPem(issuingCa)], password: truststorePassword }));
    store.addAccount({
      clientId: o.clientId,
      domain: o.domain,
      keys: keysFromBase64(raw.aes, raw.iv, raw.hmac),
      callbackUrl: o.callbackUrl ?? `https://${o.domain}/callback`,
      fallbackUrl: o.fallbackUrl ?? `https://${o.domain}/fallback`,
      appId: o.appId ?? null,
    });
    const env: AccountEnvironment = {
      CAMDIGIKEY_CLIENT_ID: o.clientId,
      CAMDIGIKEY_HMAC_KEY: raw.hmac,
      CAMDIGIKEY_AES_SECRET_KEY: raw.aes,
      CAMDIGIKEY_AES_IV_PARAMS: raw.iv,
      CAMDIGIKEY_CLIENT_DOMAIN: o.domain,
      CAMDIGIKEY_SERVER_BASED_URL: o.serverBaseUrl,
      CAMDIGIKEY_CLIENT_KEYSTORE_FILE: keystore,
      CAMDIGIKEY_CLIENT_KEYSTORE_FILE_PASSWORD: keystorePassword,
      CAMDIGIKEY_CLIENT_TRUST_STORE_FILE: truststore,
      CAMDIGIKEY_CLIENT_TRUST_STORE_FILE_PASSWORD: truststorePassword,
    };
    const envFile = join(dir, 'camdigikey.env');
    writeSecretFile(
      envFile,
      `${Object.entries(env)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n')}\n`,
    );
    return { env, envFile };
  } finally {
    store.close();
  }
}
