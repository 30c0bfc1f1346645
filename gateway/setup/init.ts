import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDir, writeFileAtomic } from '../../common/files.js';
import { privateKeyFromPem } from '../../certs/keys.js';
import { certificatesFromPem } from '../../certs/pem.js';
import { parseAnchor } from '../../protocol/anchor.js';
import { parseMemberId, parseServiceId, parseSubsystemId } from '../../protocol/identifiers.js';
import { ensureAdminToken } from '../admin/token.js';
import { ConfigError } from '../config.js';
import { checkGatewayCertificates } from '../keys.js';
import { writeGatewayConfig, type GatewayFileSpec } from './config-file.js';
import { writeKeystoreFile } from './keystore-files.js';

export interface GatewayInit extends Omit<GatewayFileSpec, 'extra'> {
  readonly dir: string;
  /** PEM files: each key, and its certificate (optionally followed by the chain), as the RA issued them. */
  readonly signing: { readonly keyFile: string; readonly certFile: string };
  readonly auth: { readonly keyFile: string; readonly certFile: string };
  /** The configuration anchor from central's operator (`camdx central anchor --out`). */
  readonly anchorFile: string;
  readonly extra?: GatewayFileSpec['extra'];
  /** Client subsystems whose information systems call over plain HTTP (demos); others get HTTPS with a pinned certificate. */
  readonly httpClients?: readonly string[];
}

function keyAndChain(field: string, files: { keyFile: string; certFile: string }): { key: KeyObject; chain: string[]; cert: X509Certificate } {
  let key: KeyObject;
  let chain: string[];
  try {
    key = privateKeyFromPem(readFileSync(files.keyFile));
    chain = certificatesFromPem(readFileSync(files.certFile, 'utf8')).map((der) => new X509Certificate(der).toString());
  } catch (err) {
    throw new ConfigError(field, (err as Error).message);
  }
  if (chain.length === 0) throw new ConfigError(field, `${files.certFile} holds no certificate`);
  const cert = new X509Certificate(chain[0]!);
  const same = (a: KeyObject, b: KeyObject) => a.export({ type: 'spki', format: 'der' }).equals(b.export({ type: 'spki', format: 'der' }));
  if (!same(createPublicKey(key), cert.publicKey)) throw new ConfigError(field, `the certificate in ${files.certFile} is not for the key in ${files.keyFile}`);
  return { key, chain, cert };
}

/**
 * Sets up a gateway directory for a member that brings its own keys: checks every input first
 * (keys match certificates, each certificate fits its role and names this server and owner,
 * the anchor parses, services belong to the owner), and only then writes the keystores, the
 * anchor, the admin token and `gateway.yaml`. Returns the configuration file's path.
 */
export function initGatewayDir(o: GatewayInit): string {
  const owner = parseMemberId(o.owner, 'owner');
  const ownerId = o.owner;
  const serverId = `${o.owner}/${o.serverCode}`;
  if (existsSync(join(o.dir, 'gateway.yaml'))) throw new ConfigError('dir', `${o.dir} already holds a gateway (gateway.yaml); choose another directory`);
  const signing = keyAndChain('signing', o.signing);
  const auth = keyAndChain('auth', o.auth);
  checkGatewayCertificates(auth.cert, signing.cert, { serverId, ownerId });
  let anchorText: string;
  try {
    anchorText = readFileSync(o.anchorFile, 'utf8');
    if (parseAnchor(anchorText).anchor.instance !== owner.instance) throw new Error(`it is for instance ${parseAnchor(anchorText).anchor.instance}, not ${owner.instance}`);
  } catch (err) {
    throw new ConfigError('anchor', `${o.anchorFile}: ${(err as Error).message}`);
  }
  for (const id of Object.keys(o.services ?? {})) {
    const s = parseServiceId(id, 'service');
    if (`${s.instance}/${s.memberClass}/${s.memberCode}` !== ownerId) throw new ConfigError(`service ${id}`, `a gateway provides only its owner's services (${ownerId})`);
    try {
      new URL(o.services![id]!);
    } catch {
      throw new ConfigError(`service ${id}`, `'${o.services![id]}' is not a URL`);
    }
  }

  for (const id of o.httpClients ?? []) parseSubsystemId(id, 'http client');

  ensureDir(o.dir, 0o700);
  writeKeystoreFile(join(o.dir, 'sign.p12'), signing.key, signing.chain);
  writeKeystoreFile(join(o.dir, 'auth.p12'), auth.key, auth.chain);
  writeFileAtomic(join(o.dir, 'anchor.json'), anchorText);
  // stateDir is the directory itself (config-file.ts).
  ensureAdminToken(o.dir);
  const clients = Object.fromEntries((o.httpClients ?? []).map((id) => [id, { connection: 'HTTP' as const }]));
  return writeGatewayConfig(o.dir, { ...o, extra: { ...o.extra, ...(o.httpClients?.length ? { clients: { ...o.extra?.clients, ...clients } } : {}) } });
}
