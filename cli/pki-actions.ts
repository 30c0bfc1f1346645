import { randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic, writeSecretFile } from '../common/files.js';
import { parseMemberId } from '../protocol/identifiers.js';
import { initPki } from '../certs/hierarchy.js';
import { generateKeyPair, isKeyType, privateKeyFromPem, privateKeyToPem } from '../certs/keys.js';
import { loadOnlinePki } from '../certs/online.js';
import { certificatesFromPem, toPem } from '../certs/pem.js';
import { createKeystore } from '../certs/pkcs12.js';
import { checkIdentity, getProfile, isProfileName, PROFILE_NAMES, type Identity } from '../certs/profiles.js';
import { RaRejection, RegistrationAuthority } from '../certs/ra.js';
import { isRevocationReason, revokeBySerial } from '../certs/revocation.js';
import { ocspUrlOf } from '../certs/settings.js';
import { startPkiServer } from '../certs/server.js';
import { buildCsr, RaClientError, submitCsr } from '../certs/ra-client.js';
import { readNetworkFile } from '../sim/network-file.js';
import { pkiLayout } from '../certs/layout.js';
import { cliContext, failCommand, parsePort, stateDirOf, type GlobalOptions } from './context.js';

/** The bodies of `camdx pki …`, loaded only when a command runs (cli/pki.ts declares them). */

export interface IdentityOptions {
  member?: string;
  memberName?: string;
  serverCode?: string;
  commonName?: string;
  personalCode?: string;
  clientId?: string;
  domain?: string;
  dns?: string[];
  ip?: string[];
}

function identityFrom(opts: IdentityOptions): Identity {
  const member = opts.member ? parseMemberId(opts.member, '--member') : undefined;
  return {
    ...(member ?? {}),
    memberName: opts.memberName,
    serverCode: opts.serverCode,
    commonName: opts.commonName,
    personalCode: opts.personalCode,
    clientId: opts.clientId,
    domain: opts.domain,
    dns: opts.dns ?? [],
    ip: opts.ip ?? [],
  };
}

function profileArg(name: string) {
  if (!isProfileName(name)) throw new Error(`unknown profile '${name}'; one of ${PROFILE_NAMES.join(', ')}`);
  return getProfile(name);
}

/** Passwords never come from argv (visible to every user of the machine). */
function readPassword(opts: { passwordFile?: string; passwordEnv?: string }, generatedPath: string): string {
  if (opts.passwordFile) return readFileSync(opts.passwordFile, 'utf8').replace(/\r?\n$/, '');
  if (opts.passwordEnv) {
    const value = process.env[opts.passwordEnv];
    if (!value) throw new Error(`environment variable ${opts.passwordEnv} is empty`);
    return value;
  }
  const password = randomBytes(18).toString('base64url');
  writeSecretFile(generatedPath, `${password}\n`);
  process.stdout.write(`keystore password written to ${generatedPath} (mode 0600)\n`);
  return password;
}

export function init(g: GlobalOptions, opts: { instance: string; publicUrl: string }): void {
  const ctx = cliContext(g);
  const { created, layout } = initPki({
    stateDir: ctx.stateDir,
    settings: { instance: opts.instance, publicUrl: opts.publicUrl },
    rootPassphrase: process.env.CAMDX_ROOT_PASSPHRASE,
    log: ctx.log,
  });
  process.stdout.write(created.length ? `created ${created.join(', ')} under ${layout.dir}\n` : `PKI already initialised under ${layout.dir}\n`);
}

export function enrol(g: GlobalOptions, opts: IdentityOptions & { profile: string; ttl: string; json?: boolean }): void {
  const online = loadOnlinePki(cliContext(g).stateDir);
  try {
    const ra = new RegistrationAuthority(online.store, online.cas, ocspUrlOf(online.settings));
    const enrolment = ra.enrol(opts.profile, identityFrom(opts), Number(opts.ttl));
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ ...enrolment, expiresAt: enrolment.expiresAt.toISOString() })}\n`);
      return;
    }
    // The token alone goes to stdout so `camdx pki enrol … > token.txt` captures just it.
    process.stderr.write(`enrolment token for ${enrolment.profile}, valid until ${enrolment.expiresAt.toISOString()}:\n`);
    process.stdout.write(`${enrolment.token}\n`);
  } finally {
    online.close();
  }
}

export function keygen(opts: { type: string; out: string }): void {
  if (!isKeyType(opts.type)) throw new Error(`unknown key type ${opts.type}`);
  if (existsSync(opts.out)) throw new Error(`${opts.out} exists; refusing to overwrite a key`);
  writeSecretFile(opts.out, privateKeyToPem(generateKeyPair(opts.type).privateKey));
  process.stdout.write(`${opts.type} key written to ${opts.out}\n`);
}

export function csr(opts: IdentityOptions & { key: string; profile: string; out?: string }): void {
  const profile = profileArg(opts.profile);
  const identity = checkIdentity(profile, identityFrom(opts));
  const pem = toPem(buildCsr(profile.name, identity, privateKeyFromPem(readFileSync(opts.key))), 'CERTIFICATE REQUEST');
  if (!opts.out) return void process.stdout.write(pem);
  writeFileAtomic(opts.out, pem);
  process.stdout.write(`${opts.profile} certificate request for the key in ${opts.key} written to ${opts.out}\n`);
}

/** The enrolment token from a file, or from stdin with `-` (`camdx central member add … | camdx pki issue --token-file -`). */
function readToken(file: string): string {
  const token = readFileSync(file === '-' ? 0 : file, 'utf8').trim();
  if (!token) failCommand(`no enrolment token in ${file === '-' ? 'stdin' : file}`, 2);
  return token;
}

/**
 * Which RA to ask: `--url`, else the PKI of the network running from the state directory, else
 * the state directory's own PKI files (an offline set-up); none of them is refused, naming where it looked.
 */
function raUrl(g: GlobalOptions, url: string | undefined): string | undefined {
  if (url) return url;
  const stateDir = stateDirOf(g);
  const running = readNetworkFile(stateDir);
  if (running) return running.urls.pki;
  if (!existsSync(pkiLayout(stateDir).settings))
    failCommand(
      `no PKI to ask: no running network and no PKI in the state directory ${stateDir}; give --url http://HOST:4100, or point CAMDX_STATE_DIR / --state-dir at a network's state directory`,
      2,
    );
  return undefined;
}

async function submitOverHttp(url: string, request: Buffer, token: string): Promise<string> {
  try {
    return (await submitCsr(url, request, token)).join('');
  } catch (err) {
    if (!(err instanceof RaClientError)) throw err;
    failCommand(/^cannot reach/.test(err.message) ? `${err.message}; is the network running? (npm start)` : err.message);
  }
}

function submitLocally(g: GlobalOptions, request: Buffer, token: string): string {
  const online = loadOnlinePki(cliContext(g).stateDir);
  try {
    return new RegistrationAuthority(online.store, online.cas, ocspUrlOf(online.settings)).submit(request, token).chain.join('');
  } catch (err) {
    if (err instanceof RaRejection) failCommand(`refused (${err.rule}): ${err.message}`);
    throw err;
  } finally {
    online.close();
  }
}

export async function issue(g: GlobalOptions, opts: { csr: string; tokenFile: string; url?: string; out?: string }): Promise<void> {
  const request = readFileSync(opts.csr);
  const token = readToken(opts.tokenFile);
  const url = raUrl(g, opts.url);
  const chain = url ? await submitOverHttp(url, request, token) : submitLocally(g, request, token);
  if (!opts.out) return void process.stdout.write(chain);
  writeFileAtomic(opts.out, chain);
  const cert = new X509Certificate(certificatesFromPem(chain)[0]!);
  process.stdout.write(`certificate written to ${opts.out} with its chain: ${cert.subject.replace(/\n/g, ', ')}; serial ${cert.serialNumber}; valid until ${new Date(cert.validTo).toISOString()}\n`);
}

export function revoke(g: GlobalOptions, serial: string, opts: { reason: string }): void {
  if (!isRevocationReason(opts.reason)) throw new Error(`unknown reason ${opts.reason}`);
  const online = loadOnlinePki(cliContext(g).stateDir);
  try {
    const result = revokeBySerial(online.store, serial, opts.reason);
    if (result.outcome !== 'revoked') failCommand(result.message);
    process.stdout.write(`revoked ${result.record.serial} (${result.record.subject}), reason ${opts.reason}\n`);
  } finally {
    online.close();
  }
}

export function list(g: GlobalOptions, opts: { json?: boolean }): void {
  const online = loadOnlinePki(cliContext(g).stateDir);
  try {
    const records = online.store.listCertificates().map(({ der: _der, ...meta }) => meta);
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(records, null, 2)}\n`);
      return;
    }
    for (const r of records) process.stdout.write(`${r.serial}  ${r.status.padEnd(7)}  ${r.profile.padEnd(24)}  ${r.ca.padEnd(13)}  ${r.subject}\n`);
  } finally {
    online.close();
  }
}

export function exportP12(opts: { key: string; cert: string; chain?: string; out: string; passwordFile?: string; passwordEnv?: string; name?: string }): void {
  const privateKey = privateKeyFromPem(readFileSync(opts.key));
  const certificates = [...certificatesFromPem(readFileSync(opts.cert, 'utf8')), ...(opts.chain ? certificatesFromPem(readFileSync(opts.chain, 'utf8')) : [])];
  if (certificates.length === 0) throw new Error(`${opts.cert} holds no CERTIFICATE`);
  if (!new X509Certificate(certificates[0]!).checkPrivateKey(privateKey)) throw new Error(`the first certificate in ${opts.cert} does not belong to ${opts.key}`);
  const password = readPassword(opts, `${opts.out}.password`);
  writeSecretFile(opts.out, createKeystore({ privateKey, certificates, password, ...(opts.name ? { friendlyName: opts.name } : {}) }));
  process.stdout.write(`keystore written to ${opts.out}\n`);
}

export async function serve(g: GlobalOptions, opts: { host: string; port: string }): Promise<void> {
  const ctx = cliContext(g, 'pki');
  const online = loadOnlinePki(ctx.stateDir);
  const running = await startPkiServer(online, { host: opts.host, port: parsePort(opts.port), log: ctx.log });
  process.stdout.write(`PKI service listening on ${running.url}\n`);
  const stop = async () => {
    await running.close();
    online.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
