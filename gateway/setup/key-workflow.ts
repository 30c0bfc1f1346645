import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { formatName } from '../../certs/names.js';
import { toPem } from '../../certs/pem.js';
import { getProfile, serverAuthSans, type Identity } from '../../certs/profiles.js';
import { buildCsr, RaClientError, submitCsr } from '../../certs/ra-client.js';
import { parseAnchor } from '../../protocol/anchor.js';
import type { GlobalConf } from '../../protocol/globalconf.js';
import type { GatewayConfig } from '../config.js';
import type { KeyRole } from '../keyring.js';
import { certificateHash } from '../transport/tls.js';
import type { KeyWorkflowContext } from './key-context.js';
import { keyIdOf, readPendingKeys, ROLE_PROFILE, type PendingKey } from './pending-keys.js';
import { registerServer, type RegistrationOutcome } from './register.js';
import { readSavedAuth } from './saved-auth.js';
import { CamdxError } from '../../protocol/errors.js';

/**
 * A step of the key workflow refused, or failed at another party: `status` and `code` are the
 * console API's answer, `field` the request field at fault, if one is.
 */
/** A key or certificate step refused: the console's HTTP status, its stable `reason` (the API's `error`) and the field at fault. */
export class KeyWorkflowError extends CamdxError<'Keys'> {
  constructor(
    readonly status: 400 | 404 | 409 | 500 | 502,
    readonly reason: string,
    message: string,
    field?: string,
  ) {
    super('Keys', message, field === undefined ? {} : { field });
  }
}

/** The address other gateways reach this one at: as central published it, else the peer listener. */
export function ownAddress(config: GatewayConfig, conf: GlobalConf | undefined): string {
  return conf?.securityServers.find((s) => s.id === config.serverId)?.address ?? `${config.listen.peer.host}:${config.listen.peer.port}`;
}

/**
 * Whom a certificate for `role` names: this gateway's owner (its name as central publishes it),
 * and for `auth` this server and its address. Nothing in a request can change it.
 */
export function ownIdentity(config: GatewayConfig, conf: GlobalConf | undefined, role: KeyRole): Identity {
  if (!conf)
    throw new KeyWorkflowError(409, 'no-globalconf', 'the gateway has no global configuration yet, and the member name in the subject comes from it; wait for the first download from central');
  const member = conf.members.find((m) => m.id === config.ownerId);
  if (!member) throw new KeyWorkflowError(409, 'owner-unknown', `the global configuration lists no member ${config.ownerId}: central's operator adds the owner before its certificates are requested`);
  const owner = { instance: config.owner.instance, memberClass: config.owner.memberClass, memberCode: config.owner.memberCode, memberName: member.name };
  if (role === 'signing') return owner;
  const host = ownAddress(config, conf).replace(/:\d+$/, '');
  // A wildcard bind is no name to certify.
  const sans = host === '0.0.0.0' || host === '[::]' ? {} : serverAuthSans(ownAddress(config, conf));
  return { ...owner, serverCode: config.serverCode, ...sans };
}

/** The pending key `id`; a key in use or unknown is refused, naming what there is. */
export function pendingKeyById(ctx: KeyWorkflowContext, id: string): PendingKey {
  const pending = readPendingKeys(ctx.config.stateDir);
  const found = pending.find((k) => k.id === id.toUpperCase());
  if (found) return found;
  const inUse = (['auth', 'signing'] as const).find((role) => ctx.keys[role] && keyIdOf(ctx.keys[role].cert.publicKey) === id.toUpperCase());
  if (inUse) throw new KeyWorkflowError(409, 'key-in-use', `key ${id} is the ${inUse} key in use; a new certificate needs a new key (POST /keys {"role": "${inUse}"})`);
  throw new KeyWorkflowError(
    404,
    'unknown-key',
    `no key ${id} waits for a certificate here${pending.length ? ` (pending: ${pending.map((k) => `${k.id} for ${k.role}`).join(', ')})` : ' (none is pending: POST /keys makes one)'}`,
  );
}

/** What a CSR request may say: nothing, or this gateway's own owner and server (X-Road's `member_id`), which are then checked. */
export interface CsrRequest {
  readonly memberId?: string | undefined;
  readonly serverId?: string | undefined;
}

/** A PKCS#10 request for a pending key, its subject built from this gateway's owner (and server) alone. */
export function csrFor(ctx: KeyWorkflowContext, keyId: string, request: CsrRequest = {}): { key: PendingKey; der: Buffer; pem: string; subject: string } {
  const config = ctx.config;
  if (request.memberId !== undefined && request.memberId !== config.ownerId) {
    throw new KeyWorkflowError(400, 'other-member', `this gateway requests certificates only for its owner ${config.ownerId}, not ${request.memberId}`, 'memberId');
  }
  if (request.serverId !== undefined && request.serverId !== config.serverId) {
    throw new KeyWorkflowError(400, 'other-server', `this gateway requests certificates only for its own server ${config.serverId}, not ${request.serverId}`, 'serverId');
  }
  const key = pendingKeyById(ctx, keyId);
  if (request.serverId !== undefined && key.role === 'signing') {
    throw new KeyWorkflowError(400, 'other-role', 'a signing certificate names the member, not a server: leave serverId out', 'serverId');
  }
  const profile = ROLE_PROFILE[key.role];
  const identity = ownIdentity(config, ctx.globalConf.current, key.role);
  const der = buildCsr(profile, identity, key.key);
  return { key, der, pem: toPem(der, 'CERTIFICATE REQUEST'), subject: formatName(getProfile(profile).subject(identity)) };
}

/**
 * Sends the pending key's CSR with an enrolment token to the RA at `raUrl`; returns the chain
 * it issued (PEM, leaf first), checked to certify that key. Nothing is stored: the
 * certificate goes in only through `importCertificate`'s checks.
 */
export async function submitToRa(ctx: KeyWorkflowContext, keyId: string, enrolmentToken: string, raUrl: string): Promise<{ key: PendingKey; chain: string[]; cert: X509Certificate }> {
  const { key, der } = csrFor(ctx, keyId);
  let chain: string[];
  try {
    chain = await submitCsr(raUrl, der, enrolmentToken);
  } catch (err) {
    if (err instanceof RaClientError) throw new KeyWorkflowError(502, 'ra-refused', err.message);
    throw err;
  }
  const cert = new X509Certificate(chain[0]!);
  if (!cert.checkPrivateKey(key.key)) throw new KeyWorkflowError(502, 'ra-wrong-key', `the RA at ${raUrl} issued a certificate for another key than ${key.id}`);
  return { key, chain, cert };
}

/**
 * registerAuthCert for the authentication certificate in use (`hash`: its SHA-256), signed by
 * the owner's signing key and the authentication key, at central's address from the anchor.
 */
export async function registerAuthCert(ctx: KeyWorkflowContext, hash: string): Promise<{ outcome: RegistrationOutcome; address: string }> {
  const { config } = ctx;
  const { signing } = ctx.keys;
  const wanted = hash.toLowerCase();
  // The saved certificate (a gateway carrying traffic) is the one to register; the one in use may be registered again.
  const saved = readSavedAuth(config.stateDir);
  const auth = saved && certificateHash(saved.cert.raw) === wanted ? saved : ctx.keys.auth;
  if (signing && certificateHash(signing.cert.raw) === wanted) {
    throw new KeyWorkflowError(409, 'not-auth', `certificate ${hash} is the signing certificate: central registers a server's authentication certificate only`);
  }
  if (!auth || certificateHash(auth.cert.raw) !== wanted) {
    throw new KeyWorkflowError(
      404,
      'unknown-certificate',
      `certificate ${hash} is neither the authentication certificate in use${auth ? ` (${certificateHash(auth.cert.raw)})` : ' (none is imported yet)'} nor ` +
        `a saved one; import it first (POST /token-certificates)`,
    );
  }
  if (!signing)
    throw new KeyWorkflowError(409, 'no-signing-certificate', "registerAuthCert is signed with the owner's signing key too: import the signing certificate first (POST /token-certificates)");
  const address = ownAddress(config, ctx.globalConf.current);
  const { anchor } = parseAnchor(readFileSync(config.anchor, 'utf8'));
  let results;
  try {
    results = await registerServer(anchor.centralUrl, { serverId: config.serverId, address, clients: [], keys: { sign: signing, auth } });
  } catch (err) {
    throw new KeyWorkflowError(502, 'central-refused', (err as Error).message);
  }
  return { outcome: results[0]!.outcome, address };
}
