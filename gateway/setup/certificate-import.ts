import { X509Certificate } from 'node:crypto';
import { certificateFacts, isAuthenticationCertificate, isSigningCertificate, issuingAnchor } from '../../certs/inspect.js';
import { certificatesFromPem } from '../../certs/pem.js';
import { ConfigError } from '../config.js';
import type { KeyRole, ReloadedCertificate } from '../keyring.js';
import { checkRoleCertificate } from '../keys.js';
import { certificateHash } from '../../protocol/message-hashes.js';
import type { KeyWorkflowContext } from './key-context.js';
import { KeyWorkflowError } from './key-workflow.js';
import { swapKeystore } from './keystore-swap.js';
import { discardPendingKey, keyIdOf, readPendingKeys, type PendingKey } from './pending-keys.js';
import { discardSavedAuth, listedFor, readSavedAuth, saveAuth } from './saved-auth.js';

/** A certificate that passed every check, with the pending key it certifies and the chain the keystore gets. */
interface CheckedImport {
  readonly pending: PendingKey;
  readonly cert: X509Certificate;
  readonly chainPem: readonly string[];
  readonly ocsp: { readonly status: string; readonly thisUpdate: string };
}

const ROLE_WORDS: Record<KeyRole, string> = { auth: 'an authentication (TLS) certificate', signing: 'a signing certificate' };
const bad = (code: string, message: string) => new KeyWorkflowError(400, code, message, 'certificate');

function leafOf(pem: string): X509Certificate {
  let ders: Buffer[];
  try {
    ders = certificatesFromPem(pem);
    if (ders.length === 0) throw new Error('no CERTIFICATE block');
    return new X509Certificate(ders[0]!);
  } catch (err) {
    throw bad('malformed', `not a PEM certificate (${(err as Error).message})`);
  }
}

/** The pending key the certificate certifies; one in use or none is refused, naming the key it is for. */
function keyOf(ctx: KeyWorkflowContext, cert: X509Certificate): PendingKey {
  const id = keyIdOf(cert.publicKey);
  const pending = readPendingKeys(ctx.config.stateDir);
  const found = pending.find((k) => k.id === id);
  if (found) return found;
  const inUse = (['auth', 'signing'] as const).find((role) => ctx.keys[role] && keyIdOf(ctx.keys[role].cert.publicKey) === id);
  if (inUse) throw new KeyWorkflowError(409, 'key-in-use', `the certificate is for the ${inUse} key in use (${id}); it is already in its keystore`, 'certificate');
  const saved = readSavedAuth(ctx.config.stateDir);
  if (saved && keyIdOf(saved.cert.publicKey) === id)
    throw new KeyWorkflowError(
      409,
      'key-saved',
      `the certificate is for the saved authentication key (${id}); it waits for central's configuration to list it (register it: POST /token-certificates/{hash}/register)`,
      'certificate',
    );
  throw bad(
    'no-matching-key',
    `the certificate matches no key of this gateway: it certifies key ${id}, and the keys waiting for a certificate are ` +
      `${pending.length ? pending.map((k) => `${k.id} (${k.role})`).join(', ') : 'none'}`,
  );
}

/** Its key usage fits the pending key's role, and it names this gateway's owner (and for auth, this server). */
function checkRoleAndName(ctx: KeyWorkflowContext, cert: X509Certificate, role: KeyRole): void {
  const facts = certificateFacts(cert);
  const fits = role === 'auth' ? isAuthenticationCertificate(facts) : isSigningCertificate(facts);
  if (!fits) {
    const is = isAuthenticationCertificate(facts) ? ROLE_WORDS.auth : isSigningCertificate(facts) ? ROLE_WORDS.signing : 'neither an authentication nor a signing certificate';
    throw bad('wrong-role', `the certificate fits another role: it is ${is}, and its key is the pending ${role} key, which needs ${ROLE_WORDS[role]}`);
  }
  const { ownerId, serverId } = ctx.config;
  const named = facts.subject.serialNumber;
  const own = role === 'auth' ? serverId : ownerId;
  if (named !== own)
    throw bad(
      'wrong-member',
      `the certificate names another ${role === 'auth' ? 'server' : 'member'}: it is issued to ${named ?? 'no one (no serialNumber)'}, and this gateway's ` +
        `${role === 'auth' ? 'server is' : 'owner is'} ${own}`,
    );
  // gateway init's own check, on the certificate the gateway would then hold.
  try {
    checkRoleCertificate(role, cert, ctx.config);
  } catch (err) {
    if (err instanceof ConfigError) throw bad('wrong-role', err.message);
    throw err;
  }
}

/**
 * Every check `gateway init` makes, and those a running gateway makes of a renewed certificate:
 * the key, the role, the name, the validity, an approved CA's signature, and a good OCSP status.
 * Nothing is written.
 */
export async function checkImport(ctx: KeyWorkflowContext, pem: string): Promise<CheckedImport> {
  const cert = leafOf(pem);
  const pending = keyOf(ctx, cert);
  checkRoleAndName(ctx, cert, pending.role);
  const now = ctx.clock();
  if (Date.parse(cert.validFrom) > now || Date.parse(cert.validTo) < now) {
    throw bad('expired', `the certificate is valid from ${new Date(cert.validFrom).toISOString()} to ${new Date(cert.validTo).toISOString()}, not now`);
  }
  let anchors;
  try {
    anchors = ctx.view('Server.ClientProxy').anchors;
  } catch {
    throw new KeyWorkflowError(409, 'no-globalconf', 'the gateway has no global configuration in date, so it knows no approved CA to check the certificate against');
  }
  const ca = issuingAnchor(cert, anchors, now);
  if (!ca) throw bad('untrusted', `the certificate (issuer ${cert.issuer.replaceAll('\n', ', ')}) does not chain to a CA the global configuration approves`);
  let status;
  try {
    status = await ctx.ownOcsp.fetch(cert);
  } catch (err) {
    throw new KeyWorkflowError(502, 'ocsp-unavailable', `no OCSP status for the certificate (serial ${cert.serialNumber}): ${(err as Error).message}`);
  }
  if (status.facts.status !== 'good') throw new KeyWorkflowError(409, 'ocsp-not-good', `the certificate (serial ${cert.serialNumber}) is ${status.facts.status} according to OCSP`, 'certificate');
  return { pending, cert, chainPem: [cert.toString(), ca.certificate.toString()], ocsp: { status: status.facts.status, thisUpdate: new Date(status.facts.thisUpdate).toISOString() } };
}

export interface ImportedCertificate {
  readonly role: KeyRole;
  /** `in-use`: the gateway switched to it; `saved`: a new auth certificate of a gateway carrying traffic, waiting for central to list it (saved-auth.ts). */
  readonly state: 'in-use' | 'saved';
  readonly keyId: string;
  readonly serial: string;
  readonly hash: string;
  readonly notAfter: string;
  readonly ocsp: CheckedImport['ocsp'];
}

/** One import at a time per gateway: the keystore's `.old` copy belongs to one swap. */
const queues = new Map<string, Promise<unknown>>();

/**
 * Imports a certificate for a pending key: `checkImport`, then the role's keystore replaced
 * (the previous one kept as `.old` until the end, keystore-swap.ts) and the running gateway
 * switched to it (`reloadKeys`: the keyring fetches its OCSP status and swaps in one step). If
 * the gateway does not switch, the previous keystore is put back. The pending key then goes.
 */
export function importCertificate(ctx: KeyWorkflowContext, pem: string, reloadKeys: () => Promise<ReloadedCertificate[]>): Promise<ImportedCertificate> {
  const dir = ctx.config.stateDir;
  const next = (queues.get(dir) ?? Promise.resolve()).then(() => importNow(ctx, pem, reloadKeys));
  queues.set(
    dir,
    next.catch(() => undefined),
  );
  return next;
}

async function importNow(ctx: KeyWorkflowContext, pem: string, reloadKeys: () => Promise<ReloadedCertificate[]>): Promise<ImportedCertificate> {
  const checked = await checkImport(ctx, pem);
  const role = checked.pending.role;
  const facts = { role, keyId: checked.pending.id, serial: checked.cert.serialNumber, hash: certificateHash(checked.cert.raw), notAfter: new Date(checked.cert.validTo).toISOString() };
  if (role === 'auth' && ctx.keys.auth && !listedFor(ctx.globalConf.current, ctx.config.serverId, checked.cert)) {
    saveAuth(ctx.config.stateDir, checked.pending.key, checked.chainPem);
    discardPendingKey(ctx.config.stateDir, role);
    return { ...facts, state: 'saved', ocsp: checked.ocsp };
  }
  let swap;
  try {
    swap = swapKeystore(ctx.config.keystores[role], checked.pending.key, checked.chainPem);
  } catch (err) {
    throw new KeyWorkflowError(500, 'keystore', `the ${role} keystore could not be written (${(err as Error).message}); the previous one is in place`);
  }
  let reloaded: ReloadedCertificate | undefined;
  try {
    reloaded = (await reloadKeys()).find((c) => c.name === role);
  } catch (err) {
    swap.restore();
    throw new KeyWorkflowError(409, 'reload-refused', `the gateway kept its keys (${(err as Error).message}); the previous keystore is back`);
  }
  if (reloaded?.serial !== checked.cert.serialNumber) {
    swap.restore();
    throw new KeyWorkflowError(500, 'reload-refused', `the gateway uses serial ${reloaded?.serial ?? 'none'} for ${role}, not ${checked.cert.serialNumber}; the previous keystore is back`);
  }
  swap.commit();
  discardPendingKey(ctx.config.stateDir, role);
  return { ...facts, state: 'in-use', ocsp: reloaded.ocsp ?? checked.ocsp };
}

/**
 * The saved authentication certificate takes the keystore's place once central's configuration
 * lists it: the swap and the switch as for an import, in the same queue. True if it switched;
 * a failed switch keeps the certificate in use and the saved one waiting, and throws.
 */
export function promoteSavedAuth(ctx: KeyWorkflowContext, reloadKeys: () => Promise<ReloadedCertificate[]>): Promise<boolean> {
  const dir = ctx.config.stateDir;
  const next = (queues.get(dir) ?? Promise.resolve()).then(async () => {
    const saved = readSavedAuth(dir);
    if (!saved || !listedFor(ctx.globalConf.current, ctx.config.serverId, saved.cert)) return false;
    const swap = swapKeystore(
      ctx.config.keystores.auth,
      saved.key,
      saved.chain.map((c) => c.toString()),
    );
    try {
      const reloaded = (await reloadKeys()).find((c) => c.name === 'auth');
      if (reloaded?.serial !== saved.cert.serialNumber) throw new Error(`the gateway uses serial ${reloaded?.serial ?? 'none'}, not ${saved.cert.serialNumber}`);
    } catch (err) {
      swap.restore();
      throw err;
    }
    swap.commit();
    discardSavedAuth(dir);
    return true;
  });
  queues.set(
    dir,
    next.catch(() => undefined),
  );
  return next;
}
