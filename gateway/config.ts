import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { CamdxError, LocalCode } from '../protocol/errors.js';
import { formatSecurityServerId, IdentifierError, parseMemberId, parseServiceId, parseSubsystemId, type MemberId } from '../protocol/identifiers.js';

/**
 * One gateway's configuration, validated whole and frozen; a console edit of `clients` or
 * `services` (gateway/config-store.ts) validates a whole new one and replaces it. Paths are
 * relative to the configuration file. A bad configuration stops start-up, or is refused as an
 * edit, with the field that is wrong.
 */

/** Connections kept per provider security server unless `limits.poolConnections` says otherwise (the benchmark's reference uses the same). */
export const POOL_SIZE = 64;

const Listen = z.strictObject({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535) });
const Keystore = z.strictObject({ file: z.string(), passwordFile: z.string() });
const ClientSettings = z.strictObject({
  /** X-Road's connection types: HTTP, HTTPS (client certificate required), HTTPS_NO_AUTH. New clients get HTTPS, as in X-Road. */
  connection: z.enum(['HTTP', 'HTTPS', 'HTTPS_NO_AUTH']).default('HTTPS'),
  certificates: z.array(z.string()).default([]),
});
/** How the provider side reaches the provider's information system for one service. */
const ServiceSettings = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  /** Overrides limits.serviceTimeoutMs for this service. */
  timeoutMs: z.number().int().positive().max(86_400_000).optional(),
  /** An https system's certificate: checked against the system CA store (the default), a CA file of its own, or not at all. */
  tls: z
    .strictObject({ verify: z.boolean().default(true), caFile: z.string().min(1).optional() })
    .refine((t) => !(t.caFile && !t.verify), { message: 'a caFile is what the certificate is verified against; it cannot go with verify: false', path: ['caFile'] })
    .optional(),
});

/** What a client subsystem without an entry under `clients` gets: HTTPS with no pinned certificate, so nothing gets through until one is set. */
export const NEW_CLIENT_SETTINGS = Object.freeze(ClientSettings.parse({}));

const Schema = z.strictObject({
  owner: z.string(),
  serverCode: z.string(),
  anchor: z.string(),
  stateDir: z.string().default('.'),
  keystores: z.strictObject({ auth: Keystore, signing: Keystore }),
  listen: z.strictObject({
    consumer: Listen,
    consumerTls: Listen.optional(),
    peer: Listen,
    /** `/metrics` and `/health`, open for Prometheus and central's monitor. */
    admin: Listen,
    /** The console listener, `/api/v1` with the admin token: records, actions, settings (gateway/console/); loopback unless `host` says otherwise. */
    console: Listen.optional(),
  }),
  clients: z.record(z.string(), ClientSettings).default({}),
  services: z.record(z.string(), ServiceSettings).default({}),
  globalconf: z.strictObject({ pollSeconds: z.number().int().min(1).default(60) }).prefault({}),
  limits: z
    .strictObject({
      maxBodyBytes: z
        .number()
        .int()
        .positive()
        .default(4 * 1024 ** 3),
      maxHeaderBytes: z
        .number()
        .int()
        .min(1024)
        .max(1024 * 1024)
        .default(64 * 1024),
      connectTimeoutMs: z.number().int().positive().default(5000),
      serviceTimeoutMs: z.number().int().positive().default(60_000),
      idleTimeoutMs: z.number().int().positive().default(60_000),
      /** Bodies up to this size wait for their signature in memory; larger ones are spooled, encrypted, to disk. */
      spoolMemoryBytes: z
        .number()
        .int()
        .nonnegative()
        .default(1024 * 1024),
      /** All bodies held at once (memory and disk) while they wait for verification; a body that would pass it is refused. */
      spoolQuotaBytes: z
        .number()
        .int()
        .positive()
        .default(4 * 1024 ** 3),
      /** Connections each listener holds at once; more are closed as they arrive. */
      maxConnections: z.number().int().positive().default(1024),
      /** A request's headers must arrive within this time of its connection (or of the previous request on it). */
      headersTimeoutMs: z.number().int().positive().default(10_000),
      /** A whole request, body included, must arrive within this time; a stalled upload gets Timeout. */
      requestTimeoutMs: z.number().int().positive().default(300_000),
      /** How long a call waits for one of the pooled connections to a provider's security server. */
      poolAcquireTimeoutMs: z.number().int().positive().default(10_000),
      /** Keep-alive connections held per provider security server (X-Road's proxy pool size). */
      poolConnections: z.number().int().positive().max(1024).default(POOL_SIZE),
    })
    .refine((l) => l.headersTimeoutMs <= l.requestTimeoutMs, { message: 'headersTimeoutMs must not exceed requestTimeoutMs', path: ['headersTimeoutMs'] })
    .prefault({}),
  signing: z.strictObject({ batching: z.boolean().default(true) }).prefault({}),
  timestamping: z
    .strictObject({
      /** How long stamping may fail before exchanges are refused (X-Road default 14,400 s). */
      acceptableFailureSeconds: z.number().int().positive().default(14_400),
    })
    .prefault({}),
  messagelog: z
    .strictObject({
      /** Archived records older than this are removed from the database. */
      retentionDays: z.number().nonnegative().default(30),
    })
    .prefault({}),
  verification: z.strictObject({ cacheSignatures: z.boolean().default(true) }).prefault({}),
  log: z.strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') }).prefault({}),
});

export type RawGatewayConfig = z.input<typeof Schema>;

/** A service's TLS verification, resolved: `ca` is the CA file's PEM as read when the configuration was validated. */
export interface ServiceTls {
  readonly verify: boolean;
  readonly caFile?: string;
  readonly ca?: string;
}

export interface ServiceConfig {
  readonly url: string;
  readonly timeoutMs?: number;
  readonly tls: ServiceTls;
}

export interface GatewayConfig extends Omit<z.infer<typeof Schema>, 'owner' | 'services'> {
  readonly owner: MemberId;
  readonly services: Readonly<Record<string, ServiceConfig>>;
  /** The file it was read from, which console edits rewrite; absent for a configuration built in memory. */
  readonly configFile?: string;
  readonly ownerId: string;
  /** INSTANCE/CLASS/CODE/SERVERCODE */
  readonly serverId: string;
  readonly configDir: string;
}

/** A gateway.yaml that cannot be used; `field` names the setting at fault. */
export class ConfigError extends CamdxError<'Config'> {
  declare readonly field: string;

  constructor(field: string, message: string) {
    super(LocalCode.Config, `gateway configuration: ${field}: ${message}`, { field });
    this.name = 'ConfigError';
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** `inSetup`: a bare gateway's configuration (gateway/bare/), whose keystores come with its certificates. */
export interface LoadOptions {
  readonly inSetup?: boolean;
}

export function loadGatewayConfig(file: string, options: LoadOptions = {}): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError('(file)', `cannot read ${file}: ${(err as Error).message}`);
  }
  return parseGatewayConfig(text, file, options);
}

/** Validates the text of `file` (read, or about to be written by an edit) as a whole configuration. */
export function parseGatewayConfig(text: string, file: string, options: LoadOptions = {}): GatewayConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ConfigError('(file)', `not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  return checkGatewayConfig(raw, dirname(resolve(file)), resolve(file), options);
}

/** Validates a parsed configuration; `configDir` anchors its relative paths. */
export function checkGatewayConfig(raw: unknown, configDir: string, configFile?: string, options: LoadOptions = {}): GatewayConfig {
  const parsed = Schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(issue.path.join('.') || '(root)', issue.message);
  }
  const c = parsed.data;
  const path = (p: string) => (isAbsolute(p) ? p : resolve(configDir, p));
  const mustExist = (field: string, p: string) => {
    if (!existsSync(path(p))) throw new ConfigError(field, `${path(p)} does not exist`);
    return path(p);
  };
  const keystore = options.inSetup ? (_field: string, p: string) => path(p) : mustExist;
  let owner: MemberId;
  try {
    owner = parseMemberId(c.owner, 'owner');
    parseSubsystemId(`${c.owner}/${c.serverCode}`, 'serverCode');
    for (const id of Object.keys(c.clients)) parseSubsystemId(id, `clients.${id}`);
    for (const id of Object.keys(c.services)) {
      const service = parseServiceId(id, `services.${id}`);
      if (`${service.instance}/${service.memberClass}/${service.memberCode}` !== c.owner) throw new ConfigError(`services.${id}`, `a gateway provides only its owner's services (${c.owner})`);
    }
  } catch (err) {
    if (err instanceof IdentifierError) throw new ConfigError(err.field, err.message);
    throw err;
  }
  for (const [id, client] of Object.entries(c.clients)) {
    if (client.connection === 'HTTPS' && client.certificates.length === 0)
      throw new ConfigError(`clients.${id}.certificates`, 'HTTPS clients (the default) need at least one pinned IS certificate; list it, or set connection: HTTP for a demo client');
    if (client.connection !== 'HTTP' && !c.listen.consumerTls) throw new ConfigError(`clients.${id}.connection`, `${client.connection} needs listen.consumerTls`);
  }
  const certificate = (field: string, file: string) => {
    try {
      new X509Certificate(readFileSync(file));
    } catch {
      throw new ConfigError(field, `${file} is not a PEM or DER certificate`);
    }
    return file;
  };
  const services = Object.fromEntries(
    Object.entries(c.services).map(([id, s]): [string, ServiceConfig] => {
      if (s.tls && new URL(s.url).protocol !== 'https:') throw new ConfigError(`services.${id}.tls`, 'TLS verification applies to an https url only');
      const caFile = s.tls?.caFile ? certificate(`services.${id}.tls.caFile`, mustExist(`services.${id}.tls.caFile`, s.tls.caFile)) : undefined;
      const tls: ServiceTls = caFile ? { verify: true, caFile, ca: readFileSync(caFile, 'utf8') } : { verify: s.tls?.verify ?? true };
      return [id, { url: s.url, ...(s.timeoutMs ? { timeoutMs: s.timeoutMs } : {}), tls }];
    }),
  );
  const config: GatewayConfig = {
    ...c,
    ...(configFile ? { configFile } : {}),
    owner,
    ownerId: c.owner,
    serverId: formatSecurityServerId({ ...owner, serverCode: c.serverCode }),
    configDir,
    anchor: mustExist('anchor', c.anchor),
    stateDir: path(c.stateDir),
    keystores: {
      auth: { file: keystore('keystores.auth.file', c.keystores.auth.file), passwordFile: keystore('keystores.auth.passwordFile', c.keystores.auth.passwordFile) },
      signing: { file: keystore('keystores.signing.file', c.keystores.signing.file), passwordFile: keystore('keystores.signing.passwordFile', c.keystores.signing.passwordFile) },
    },
    clients: Object.fromEntries(
      Object.entries(c.clients).map(([id, v]) => [
        id,
        { ...v, certificates: v.certificates.map((f, i) => certificate(`clients.${id}.certificates.${i}`, mustExist(`clients.${id}.certificates.${i}`, f))) },
      ]),
    ),
    services,
  };
  return deepFreeze(config);
}
