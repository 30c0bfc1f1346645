import { X509Certificate, type KeyObject } from 'node:crypto';
import { CompactSign, compactVerify } from 'jose';
import { z } from 'zod';
import { certificateThumbprint, type ConfigurationAnchor } from './anchor.js';
import { CamdxError } from './errors.js';
import { HTTP_METHODS } from './paths.js';

/**
 * The global configuration: everything a security server needs to know about the instance,
 * published by the central server as a JWS (RFC 7515 compact serialisation, ES256) whose
 * signing certificate is pinned by the configuration anchor.
 */

const Pem = z.string().startsWith('-----BEGIN CERTIFICATE-----');
const Method = z.enum([...HTTP_METHODS, '*']);

export const GlobalConfSchema = z.strictObject({
  /** /2 added each access right's origin, servers in maintenance mode and disabled clients. */
  format: z.literal('camdx-globalconf/2'),
  instance: z.string(),
  version: z.number().int().positive(),
  generatedAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
  centralUrl: z.string(),
  ocspFreshnessSeconds: z.number().int().positive(),
  timestampingIntervalSeconds: z.number().int().positive(),
  memberClasses: z.array(z.string()),
  approvedCAs: z.array(z.strictObject({ name: z.string(), certificate: Pem, rootCertificate: Pem, ocspUrl: z.string() })),
  approvedTSAs: z.array(z.strictObject({ name: z.string(), url: z.string(), certificate: Pem })),
  members: z.array(z.strictObject({ id: z.string(), name: z.string(), subsystems: z.array(z.string()) })),
  securityServers: z.array(
    z.strictObject({
      id: z.string(),
      address: z.string(),
      authCertHashes: z.array(z.string()),
      clients: z.array(z.string()),
      /** Set while the server is in maintenance mode: its owner's message to callers. */
      maintenance: z.string().optional(),
      /** Clients their member disabled on this server: registered, but neither calling nor called. */
      disabledClients: z.array(z.string()).optional(),
    }),
  ),
  globalGroups: z.array(z.strictObject({ id: z.string(), description: z.string(), members: z.array(z.string()) })),
  /** Provider subsystems' local groups (LOCALGROUP): `id` is INSTANCE/CLASS/MEMBER/SUBSYSTEM/CODE, a subject only on that subsystem's services. */
  localGroups: z.array(z.strictObject({ id: z.string(), description: z.string(), members: z.array(z.string()), origin: z.string().optional() })).optional(),
  services: z.array(
    z.strictObject({
      id: z.string(),
      type: z.literal('REST'),
      endpoints: z.array(z.strictObject({ method: Method, path: z.string() })),
      timestampSynchronously: z.boolean(),
      openApi: z.string().optional(),
    }),
  ),
  accessRights: z.array(
    z.strictObject({
      subject: z.string(),
      subjectType: z.enum(['SUBSYSTEM', 'GLOBALGROUP', 'LOCALGROUP']),
      service: z.string(),
      method: Method,
      path: z.string(),
      /** `central:<user>`, or `request:<id>` for a right its provider made with a signed request. */
      origin: z.string(),
    }),
  ),
});
export type GlobalConf = z.infer<typeof GlobalConfSchema>;

export const JWS_TYPE = 'camdx-globalconf+jws';

/** Why a downloaded configuration was not accepted. */
export type ConfRejection = 'size' | 'format' | 'signature' | 'schema' | 'instance' | 'rollback' | 'expired';

/**
 * The largest configuration accepted: far above what an instance of thousands of members
 * publishes (about 1 KiB a member), and small enough that a hostile or broken server cannot make
 * a gateway buffer, parse and verify without bound. Checked before a byte is parsed.
 */
export const MAX_GLOBALCONF_BYTES = 10 * 1024 * 1024;

/** The reason given for a configuration over the limit, by size alone. */
export function oversizeReason(bytes: number): string {
  return `the configuration is ${bytes} bytes, more than the ${MAX_GLOBALCONF_BYTES / 1024 / 1024} MiB limit`;
}

export class GlobalConfError extends CamdxError<'GlobalConf'> {
  constructor(
    readonly kind: ConfRejection,
    message: string,
  ) {
    super('GlobalConf', message);
  }
}

export async function signGlobalConf(conf: GlobalConf, key: KeyObject, cert: X509Certificate): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(conf))).setProtectedHeader({ alg: 'ES256', typ: JWS_TYPE, 'x5t#S256': certificateThumbprint(cert) }).sign(key);
}

const B64URL = /^[A-Za-z0-9_-]*$/;

/** base64url has several spellings of the same bytes (unused trailing bits); accept only the canonical one. */
function canonicalPart(part: string): boolean {
  return B64URL.test(part) && Buffer.from(part, 'base64url').toString('base64url') === part;
}

export interface VerifyOptions {
  readonly now?: number;
  /** Reject versions below this (rollback protection); the anchor's `minVersion` is a floor too. */
  readonly minVersion?: number;
  /** Return an expired configuration instead of rejecting it (a cached copy read at start-up). */
  readonly allowExpired?: boolean;
}

/**
 * Verifies a downloaded configuration byte for byte: its size, strict JWS shape, a signing
 * certificate listed in the anchor, a valid signature, the schema, the instance, the version
 * floor (the caller's and the anchor's) and the expiry — in that order, so the reason given is
 * the first thing wrong.
 */
export async function verifyGlobalConf(bytes: Uint8Array, anchor: ConfigurationAnchor, trusted: readonly X509Certificate[], options: VerifyOptions = {}): Promise<GlobalConf> {
  if (bytes.length > MAX_GLOBALCONF_BYTES) throw new GlobalConfError('size', oversizeReason(bytes.length));
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new GlobalConfError('format', 'the configuration is not UTF-8 text');
  }
  const parts = text.split('.');
  if (parts.length !== 3 || !parts.every(canonicalPart) || parts.some((p) => p === '')) {
    throw new GlobalConfError('format', 'the configuration is not a canonical JWS compact serialisation');
  }
  let header: { alg?: unknown; typ?: unknown; 'x5t#S256'?: unknown; crit?: unknown };
  try {
    header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as typeof header;
  } catch {
    throw new GlobalConfError('format', 'the JWS header is not JSON');
  }
  if (header.alg !== 'ES256' || header.typ !== JWS_TYPE) throw new GlobalConfError('format', `unexpected JWS header alg=${String(header.alg)} typ=${String(header.typ)}`);
  const signer = trusted.find((c) => certificateThumbprint(c) === header['x5t#S256']);
  if (!signer) throw new GlobalConfError('signature', 'signed with a key the configuration anchor does not list');

  let payload: Uint8Array;
  try {
    ({ payload } = await compactVerify(text, signer.publicKey, { algorithms: ['ES256'] }));
  } catch {
    throw new GlobalConfError('signature', 'the configuration signature does not verify');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch {
    throw new GlobalConfError('schema', 'the signed payload is not JSON');
  }
  const parsed = GlobalConfSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new GlobalConfError('schema', `the configuration does not match the schema at ${issue.path.join('.')}: ${issue.message}`);
  }
  const conf = parsed.data;
  if (conf.instance !== anchor.instance) throw new GlobalConfError('instance', `the configuration is for instance ${conf.instance}, the anchor for ${anchor.instance}`);
  if (options.minVersion !== undefined && conf.version < options.minVersion) {
    throw new GlobalConfError('rollback', `version ${conf.version} is older than version ${options.minVersion} already seen`);
  }
  if (anchor.minVersion !== undefined && conf.version < anchor.minVersion) {
    throw new GlobalConfError('rollback', `version ${conf.version} is older than version ${anchor.minVersion}, the oldest the configuration anchor accepts`);
  }
  if (!options.allowExpired && Date.parse(conf.expiresAt) <= (options.now ?? Date.now())) throw new GlobalConfError('expired', `the configuration expired at ${conf.expiresAt}`);
  return conf;
}
