import { X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CentralApiError, idPath, type CentralAdminClient } from '../../central/admin-client.js';
import { generateKeyPair } from '../../certs/keys.js';
import { formatName } from '../../certs/names.js';
import { getProfile, serverAuthSans, type Identity, type ProfileName } from '../../certs/profiles.js';
import { buildCsr, submitCsr } from '../../certs/ra-client.js';
import { parseAnchor } from '../../protocol/anchor.js';
import { CamdxError, LocalCode } from '../../protocol/errors.js';
import { loadGatewayConfig, type GatewayConfig } from '../config.js';
import type { KeyRole, ReloadedCertificate } from '../keyring.js';
import { checkGatewayCertificates, loadGatewayKeys, type GatewayKeys } from '../keys.js';
import { certificateHash } from '../transport/tls.js';
import { reloadGatewayKeys } from '../admin/reload-client.js';
import { swapKeystore } from './keystore-swap.js';
import { registerServer } from './register.js';

/** The renewal stopped at `step`; the message says why, and what of the earlier steps could not be undone. */
export class RenewalError extends CamdxError<'Keys'> {
  constructor(
    readonly step: string,
    message: string,
  ) {
    super(LocalCode.Keys, message);
    this.name = 'RenewalError';
  }
}

export interface RenewalInput {
  readonly configFile: string;
  readonly certificate: KeyRole;
  /** Central's admin API, as the network's operator: the registry's names and the enrolment token. */
  readonly central: CentralAdminClient;
  /** The PKI whose RA issues the certificate. */
  readonly pkiUrl: string;
  /** One line per step done. */
  readonly say: (line: string) => void;
}

const PROFILE: Record<KeyRole, ProfileName> = { auth: 'server-auth', signing: 'member-signing' };

function causeOf(err: unknown): string {
  if (err instanceof CentralApiError) return `${err.message}${err.status ? ` (central answered HTTP ${err.status} ${err.error})` : ''}`;
  return (err as Error).message;
}

/** Runs one step; a failure becomes a RenewalError naming the step. */
async function step<T>(name: string, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof RenewalError) throw err;
    throw new RenewalError(name, causeOf(err));
  }
}

/** The identity central enrols for this gateway's certificate (its owner, and for auth its server and address), and the token. */
async function enrol(central: CentralAdminClient, config: GatewayConfig, role: KeyRole): Promise<{ identity: Identity; token: string; expiresAt: string }> {
  const member = await central.call<{ name: string }>('GET', `/members/${idPath(config.ownerId)}`);
  const owner = { instance: config.owner.instance, memberClass: config.owner.memberClass, memberCode: config.owner.memberCode, memberName: member.name };
  if (role === 'signing') {
    const { signing } = await central.call<{ signing: { token: string; expiresAt: string } }>('POST', `/members/${idPath(config.ownerId)}/enrolments`);
    return { identity: owner, ...signing };
  }
  const server = await central.call<{ address: string }>('GET', `/servers/${idPath(config.serverId)}`);
  const { auth } = await central.call<{ auth: { token: string; expiresAt: string } }>('POST', `/servers/${idPath(config.serverId)}/enrolments`);
  return { identity: { ...owner, serverCode: config.serverCode, ...serverAuthSans(server.address) }, ...auth };
}

/** The RA's chain for the CSR, checked: it certifies our new key, fits the role and names this gateway. */
async function issue(pkiUrl: string, csr: Buffer, token: string, key: KeyObject, role: KeyRole, config: GatewayConfig, current: GatewayKeys): Promise<{ chain: string[]; cert: X509Certificate }> {
  const chain = await submitCsr(pkiUrl, csr, token);
  const cert = new X509Certificate(chain[0]!);
  if (!cert.checkPrivateKey(key)) throw new Error(`the RA at ${pkiUrl} issued a certificate for another key`);
  checkGatewayCertificates(role === 'auth' ? cert : current.auth.cert, role === 'signing' ? cert : current.signing.cert, config);
  return { chain, cert };
}

/** registerAuthCert, signed by the owner's signing key and the new authentication key, at central's address from the anchor. */
async function register(config: GatewayConfig, central: CentralAdminClient, current: GatewayKeys, auth: { key: KeyObject; cert: X509Certificate }): Promise<string> {
  const { anchor } = parseAnchor(readFileSync(config.anchor, 'utf8'));
  const { address } = await central.call<{ address: string }>('GET', `/servers/${idPath(config.serverId)}`);
  const [result] = await registerServer(anchor.centralUrl, { serverId: config.serverId, address, clients: [], keys: { sign: current.signing, auth } });
  return result!.outcome === 'approved'
    ? `central approved the new authentication certificate of ${config.serverId} (registerAuthCert, address ${address})`
    : `central holds registerAuthCert for ${config.serverId} for its operator (camdx central request list / approve); until approved, other gateways refuse the new certificate`;
}

/**
 * Renews one of a gateway's certificates: a new key, an enrolment token from central, a CSR
 * with this gateway's owner (and server) only, the certificate from the RA, for `auth` the
 * registerAuthCert management request, the keystore swap, and the running gateway's switch to
 * the new keys (`POST /keys/reload`, which fetches the new certificate's OCSP status). A step
 * that fails stops the renewal and leaves the keystores as they were; a registration already
 * made is withdrawn.
 */
export async function renewCertificate(o: RenewalInput): Promise<void> {
  const { config, current } = await step('configuration', () => {
    const config = loadGatewayConfig(o.configFile);
    return { config, current: loadGatewayKeys(config) };
  });
  const role = o.certificate;
  const profile = PROFILE[role];
  const type = getProfile(profile).defaultKeyType;
  const key = generateKeyPair(type).privateKey;
  o.say(`key: a new ${type} key for the ${role} certificate of ${config.serverId} (kept in memory until the keystore is written)`);
  const enrolment = await step('enrolment token', () => enrol(o.central, config, role));
  o.say(`enrolment token: central issued a ${profile} token for ${role === 'auth' ? config.serverId : config.ownerId} (valid until ${enrolment.expiresAt})`);
  const csr = await step('CSR', () => buildCsr(profile, enrolment.identity, key));
  const subject = formatName(getProfile(profile).subject(enrolment.identity));
  const sans = [...(enrolment.identity.dns ?? []), ...(enrolment.identity.ip ?? [])];
  o.say(`CSR: ${profile} request for ${subject}${sans.length ? ` (${sans.join(', ')})` : ''}`);
  const issued = await step('certificate', () => issue(o.pkiUrl, csr, enrolment.token, key, role, config, current));
  o.say(`certificate: the RA at ${o.pkiUrl} issued serial ${issued.cert.serialNumber}, valid until ${new Date(issued.cert.validTo).toISOString()}`);
  if (role === 'auth') o.say(`registration: ${await step('registration', () => register(config, o.central, current, { key, cert: issued.cert }))}`);
  await switchKeystore(o, config, { key, ...issued }, current[role].cert.serialNumber);
}

/** Keystore swap and the running gateway's reload; a failure restores the keystore and withdraws the registration. */
async function switchKeystore(o: RenewalInput, config: GatewayConfig, issued: { key: KeyObject; chain: string[]; cert: X509Certificate }, oldSerial: string): Promise<void> {
  const role = o.certificate;
  const paths = config.keystores[role];
  const undoRegistration = async (err: RenewalError) => {
    if (role !== 'auth') return err;
    const hash = certificateHash(issued.cert.raw);
    const withdrawn = await o.central.call('DELETE', `/servers/${idPath(config.serverId)}/auth-certs/${hash}`).then(
      () => 'the new certificate is unregistered again',
      (e: unknown) => `central still lists the new certificate (${causeOf(e)}); remove it with DELETE /api/servers/${config.serverId}/auth-certs/${hash}`,
    );
    return new RenewalError(err.step, `${err.message}; ${withdrawn}`);
  };
  let swap;
  try {
    swap = await step('keystore', () => swapKeystore(paths, issued.key, issued.chain));
  } catch (err) {
    throw await undoRegistration(err as RenewalError);
  }
  o.say(`keystore: ${paths.file} and ${paths.passwordFile} hold the new key and certificate (the previous pair waits as .old files until the end)`);
  let reloaded: ReloadedCertificate | 'not running';
  try {
    reloaded = await step('gateway', () => reloadGatewayKeys(config, role, issued.cert.serialNumber));
  } catch (err) {
    swap.restore();
    throw await undoRegistration(err as RenewalError);
  }
  swap.commit();
  const admin = `${config.listen.admin.host}:${config.listen.admin.port}`;
  if (reloaded === 'not running') {
    o.say(`gateway: none answers at ${admin}; the gateway uses the new keystore (and fetches its OCSP status) when it starts`);
  } else {
    o.say(
      `gateway: ${config.serverId} at ${admin} switched to serial ${reloaded.serial} without a restart: new ` +
        `${role === 'auth' ? 'TLS connections' : 'signatures'} use it, exchanges under way finish on the old key`,
    );
    o.say(`OCSP: the gateway holds a ${reloaded.ocsp?.status} response for serial ${reloaded.serial} (produced ${reloaded.ocsp?.thisUpdate})`);
  }
  o.say(`renewed: the ${role} certificate of ${config.serverId} is serial ${issued.cert.serialNumber} (was ${oldSerial}); the .old files are removed`);
}
