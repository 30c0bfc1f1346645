import { Command, Option } from 'commander';
import { KEY_TYPES } from '../certs/keys.js';
import { DEFAULT_PKI_PORT } from '../certs/settings.js';
import type { GlobalOptions } from './context.js';

// Declarations only: the implementations (and pkijs, express…) load when a command runs.
const actions = () => import('./pki-actions.js');
const collect = (value: string, previous: string[] = []) => [...previous, value];
const PROFILES = 'member-signing, server-auth, user, service-account, camdigikey-tls, camdigikey-token-signer';
const REASONS = ['unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'certificateHold', 'removeFromCRL', 'privilegeWithdrawn', 'aACompromise'];

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

export function registerPki(program: Command): void {
  const pki = program.command('pki').description('the CamDX certificate authorities, RA, OCSP responder and TSA');
  const g = () => program.opts<GlobalOptions>();

  pki
    .command('init')
    .description('create the offline root CA, the CamDX and CamDigiKey CAs, OCSP signers and the TSA (idempotent)')
    .option('--instance <id>', 'X-Road instance identifier', 'CAMDX')
    .option('--public-url <url>', 'URL where the PKI service is reachable (used in certificates)', `http://127.0.0.1:${DEFAULT_PKI_PORT}`)
    .action(async (o) => (await actions()).init(g(), o));

  withIdentityOptions(
    pki
      .command('enrol')
      .description('issue a one-time enrolment token for one identity and profile')
      .requiredOption('--profile <profile>', PROFILES)
      .option('--ttl <seconds>', 'how long the token stays valid', String(7 * 24 * 3600))
      .option('--json', 'print JSON'),
  ).action(async (o) => (await actions()).enrol(g(), o));

  pki
    .command('keygen')
    .description('generate a private key (PKCS#8 PEM, mode 0600)')
    .addOption(new Option('--type <type>', 'key type').choices(KEY_TYPES as string[]).default('P-256'))
    .requiredOption('--out <file>', 'where to write the key')
    .action(async (o) => (await actions()).keygen(o));

  withIdentityOptions(
    pki
      .command('csr')
      .description("build a PKCS#10 request whose subject matches a profile's template")
      .requiredOption('--key <file>', 'private key (PEM)')
      .requiredOption('--profile <profile>', PROFILES)
      .option('--out <file>', 'write the CSR here instead of stdout'),
  ).action(async (o) => (await actions()).csr(o));

  pki
    .command('issue')
    .description('submit a CSR with its enrolment token to the RA and write the certificate')
    .requiredOption('--csr <file>', 'PKCS#10 request, PEM or DER')
    .requiredOption('--token-file <file>', 'file holding the enrolment token (- reads it from stdin)')
    .option('--url <url>', "a running PKI service's base URL (default: the network running from the state directory, else its local RA)")
    .option('--out <file>', 'write the certificate chain (PEM) here instead of stdout')
    .action(async (o) => (await actions()).issue(g(), o));

  pki
    .command('revoke <serial>')
    .description('revoke a certificate by serial number (hex)')
    .addOption(new Option('--reason <reason>', 'RFC 5280 reason').choices(REASONS).default('unspecified'))
    .action(async (serial: string, o) => (await actions()).revoke(g(), serial, o));

  pki
    .command('list')
    .description('list issued certificates')
    .option('--json', 'print JSON')
    .action(async (o) => (await actions()).list(g(), o));

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
    .action(async (o) => (await actions()).exportP12(o));

  pki
    .command('serve')
    .description('run the PKI service: CA certificates, RA, OCSP responder, TSA')
    .option('--host <address>', 'address to bind', '127.0.0.1')
    .option('--port <port>', 'TCP port', String(DEFAULT_PKI_PORT))
    .action(async (o) => (await actions()).serve(g(), o));
}
