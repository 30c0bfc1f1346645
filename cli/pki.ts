import { randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { writeFileAtomic, writeSecretFile } from '../common/files.js';
import { parseMemberId } from '../protocol/identifiers.js';
import { createCsr } from '../certs/csr.js';
import { subjectAltNameExtension } from '../certs/extensions.js';
import { initPki } from '../certs/hierarchy.js';
import { generateKeyPair, isKeyType, KEY_TYPES, privateKeyFromPem, privateKeyToPem } from '../certs/keys.js';
import { loadOnlinePki } from '../certs/online.js';
import { certificatesFromPem, toPem } from '../certs/pem.js';
import { createKeystore } from '../certs/pkcs12.js';
import { checkIdentity, getProfile, isProfileName, PROFILE_NAMES, type Identity } from '../certs/profiles.js';
import { RaRejection, RegistrationAuthority } from '../certs/ra.js';
import { isRevocationReason, revokeBySerial } from '../certs/revocation.js';
import { DEFAULT_PKI_PORT, ocspUrlOf } from '../certs/settings.js';
import { startPkiServer } from '../certs/server.js';
import { REVOCATION_REASONS } from '../certs/store.js';
import { cliContext, failCommand, parsePort, type GlobalOptions } from './context.js';

interface IdentityOptions {
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

const collect = (value: string, previous: string[] = []) => [...previous, value];

function withIdentityOptions(cmd: Command): Command {
  return cmd
    .option('--member <id>', 'member identifier INSTANCE/CLASS/CODE (member-signing, server-auth)')
    .option('--member-name <name>', "member's organisation name (member-signing, server-auth)")
    .option('--server-code <code>', 'security server code (server-auth)')
    .option('--common-name <name>', 'common name (user, camdigikey-tls, camdigikey-token-signer)')
    .option('--personal-code <code>', "citizen's personal code (user)")
    .option('--client-id <id>', 'CamDigiKey client id (service-account)')
    .option('--domain <domain>', 'relying party domain (service-account)')
    .option('--dns <name>', 'DNS subject alternative name, repeatable (server-auth, camdigikey-tls)', collect)
    .option('--ip <address>', 'IP subject alternative name, repeatable (server-auth, camdigikey-tls)', collect);
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

export function registerPki(program: Command): void {
  const pki = program.command('pki').description('the CamDX certificate authorities, RA, OCSP responder and TSA');
  const globals = () => program.opts<GlobalOptions>();

  pki
    .command('init')
    .description('create the offline root CA, the CamDX and CamDigiKey CAs, OCSP signers and the TSA (idempotent)')
    .option('--instance <id>', 'X-Road instance identifier', 'CAMDX')
    .option('--public-url <url>', 'URL where the PKI service is reachable (used in certificates)', `http://127.0.0.1:${DEFAULT_PKI_PORT}`)
    .action((opts: { instance: string; publicUrl: string }) => {
      const ctx = cliContext(globals());
      const { created, layout } = initPki({
        stateDir: ctx.stateDir,
        settings: { instance: opts.instance, publicUrl: opts.publicUrl },
        rootPassphrase: process.env.CAMDX_ROOT_PASSPHRASE,
        log: ctx.log,
      });
      process.stdout.write(created.length ? `created ${created.join(', ')} under ${layout.dir}\n` : `PKI already initialised under ${layout.dir}\n`);
    });

  withIdentityOptions(
    pki
      .command('enrol')
      .description('issue a one-time enrolment token for one identity and profile')
      .requiredOption('--profile <profile>', `one of ${PROFILE_NAMES.filter((p) => getProfile(p).enrollable).join(', ')}`)
      .option('--ttl <seconds>', 'how long the token stays valid', String(7 * 24 * 3600))
      .option('--json', 'print JSON'),
  ).action((opts: IdentityOptions & { profile: string; ttl: string; json?: boolean }) => {
    const ctx = cliContext(globals());
    const online = loadOnlinePki(ctx.stateDir);
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
  });

  pki
    .command('keygen')
    .description('generate a private key (PKCS#8 PEM, mode 0600)')
    .addOption(new Option('--type <type>', 'key type').choices(KEY_TYPES as string[]).default('P-256'))
    .requiredOption('--out <file>', 'where to write the key')
    .action((opts: { type: string; out: string }) => {
      if (!isKeyType(opts.type)) throw new Error(`unknown key type ${opts.type}`);
      if (existsSync(opts.out)) throw new Error(`${opts.out} exists; refusing to overwrite a key`);
      writeSecretFile(opts.out, privateKeyToPem(generateKeyPair(opts.type).privateKey));
      process.stdout.write(`${opts.type} key written to ${opts.out}\n`);
    });

  withIdentityOptions(
    pki
      .command('csr')
      .description("build a PKCS#10 request whose subject matches a profile's template")
      .requiredOption('--key <file>', 'private key (PEM)')
      .requiredOption('--profile <profile>', PROFILE_NAMES.join(', '))
      .option('--out <file>', 'write the CSR here instead of stdout'),
  ).action((opts: IdentityOptions & { key: string; profile: string; out?: string }) => {
    const profile = profileArg(opts.profile);
    const identity = checkIdentity(profile, identityFrom(opts));
    const sans = profile.altNames && identity.dns!.length + identity.ip!.length > 0 ? [subjectAltNameExtension({ dns: identity.dns!, ip: identity.ip! })] : [];
    const pem = toPem(createCsr(profile.subject(identity), privateKeyFromPem(readFileSync(opts.key)), sans), 'CERTIFICATE REQUEST');
    if (opts.out) writeFileAtomic(opts.out, pem);
    else process.stdout.write(pem);
  });

  pki
    .command('issue')
    .description('submit a CSR with its enrolment token to the RA and write the certificate')
    .requiredOption('--csr <file>', 'PKCS#10 request, PEM or DER')
    .requiredOption('--token-file <file>', 'file holding the enrolment token')
    .option('--url <url>', "a running PKI service's base URL; without it the local state directory's RA is used")
    .option('--out <file>', 'write the certificate chain (PEM) here instead of stdout')
    .action(async (opts: { csr: string; tokenFile: string; url?: string; out?: string }) => {
      const csr = readFileSync(opts.csr);
      const token = readFileSync(opts.tokenFile, 'utf8').trim();
      let chain: string;
      if (opts.url) {
        const res = await fetch(`${opts.url.replace(/\/+$/, '')}/ra/certificates`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: csr });
        const body = (await res.json()) as { chain?: string[]; error?: string; message?: string };
        if (!res.ok) failCommand(`refused (${body.error}): ${body.message}`);
        chain = body.chain!.join('');
      } else {
        const ctx = cliContext(globals());
        const online = loadOnlinePki(ctx.stateDir);
        try {
          chain = new RegistrationAuthority(online.store, online.cas, ocspUrlOf(online.settings)).submit(csr, token).chain.join('');
        } catch (err) {
          if (err instanceof RaRejection) failCommand(`refused (${err.rule}): ${err.message}`);
          throw err;
        } finally {
          online.close();
        }
      }
      if (opts.out) writeFileAtomic(opts.out, chain);
      else process.stdout.write(chain);
    });

  pki
    .command('revoke <serial>')
    .description('revoke a certificate by serial number (hex)')
    .addOption(new Option('--reason <reason>', 'RFC 5280 reason').choices(Object.keys(REVOCATION_REASONS)).default('unspecified'))
    .action((serial: string, opts: { reason: string }) => {
      if (!isRevocationReason(opts.reason)) throw new Error(`unknown reason ${opts.reason}`);
      const ctx = cliContext(globals());
      const online = loadOnlinePki(ctx.stateDir);
      try {
        const result = revokeBySerial(online.store, serial, opts.reason);
        if (result.outcome !== 'revoked') failCommand(result.message);
        process.stdout.write(`revoked ${result.record.serial} (${result.record.subject}), reason ${opts.reason}\n`);
      } finally {
        online.close();
      }
    });

  pki
    .command('list')
    .description('list issued certificates')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      const ctx = cliContext(globals());
      const online = loadOnlinePki(ctx.stateDir);
      try {
        const records = online.store.listCertificates().map(({ der: _der, ...meta }) => meta);
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(records, null, 2)}\n`);
          return;
        }
        for (const r of records) {
          process.stdout.write(`${r.serial}  ${r.status.padEnd(7)}  ${r.profile.padEnd(24)}  ${r.ca.padEnd(13)}  ${r.subject}\n`);
        }
      } finally {
        online.close();
      }
    });

  pki
    .command('export-p12')
    .description('bundle a key and its certificate chain into a password-protected PKCS#12 keystore')
    .requiredOption('--key <file>', 'private key (PEM)')
    .requiredOption('--cert <file>', 'certificate, optionally followed by its chain (PEM)')
    .option('--chain <file>', 'more CA certificates (PEM)')
    .requiredOption('--out <file>', 'keystore to write')
    .option('--password-file <file>', 'read the keystore password from this file')
    .option('--password-env <name>', 'read the keystore password from this environment variable')
    .option('--name <friendly>', 'friendly name stored with the key')
    .action((opts: { key: string; cert: string; chain?: string; out: string; passwordFile?: string; passwordEnv?: string; name?: string }) => {
      const privateKey = privateKeyFromPem(readFileSync(opts.key));
      const certificates = [...certificatesFromPem(readFileSync(opts.cert, 'utf8')), ...(opts.chain ? certificatesFromPem(readFileSync(opts.chain, 'utf8')) : [])];
      if (certificates.length === 0) throw new Error(`${opts.cert} holds no CERTIFICATE`);
      if (!new X509Certificate(certificates[0]!).checkPrivateKey(privateKey)) throw new Error(`the first certificate in ${opts.cert} does not belong to ${opts.key}`);
      const password = readPassword(opts, `${opts.out}.password`);
      writeSecretFile(opts.out, createKeystore({ privateKey, certificates, password, ...(opts.name ? { friendlyName: opts.name } : {}) }));
      process.stdout.write(`keystore written to ${opts.out}\n`);
    });

  pki
    .command('serve')
    .description('run the PKI service: CA certificates, RA, OCSP responder, TSA')
    .option('--host <address>', 'address to bind', '127.0.0.1')
    .option('--port <port>', 'TCP port', String(DEFAULT_PKI_PORT))
    .action(async (opts: { host: string; port: string }) => {
      const ctx = cliContext(globals(), 'pki');
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
    });
}
