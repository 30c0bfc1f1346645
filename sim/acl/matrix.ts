import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { memberOfId, parseMemberId, parseServiceId, parseSubsystemId } from '../../protocol/identifiers.js';
import { HTTP_METHODS, type HttpMethod } from '../../protocol/paths.js';
import { MEMBERS } from '../topology.js';

/**
 * An access-control test matrix (`camdx acl-test`): client subsystem × service × method × path
 * → the expected answer, allow or deny. Validated once here, so the runner only ever sees
 * well-formed cases, each already bound to the consumer gateway of its client's member.
 */

export type Expectation = 'allow' | 'deny';

/** One case, ready to send: defaults applied, gateway resolved. */
export interface AclCase {
  /** Position in the matrix (0-based); results keep this order. */
  readonly index: number;
  readonly name: string;
  readonly client: string;
  readonly service: string;
  readonly method: HttpMethod;
  readonly path: string;
  readonly expect: Expectation;
  /** Base URL of the consumer gateway of the client's member. */
  readonly gateway: string;
  /** Sent as JSON when defined. */
  readonly body?: unknown;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
}

export interface AclMatrix {
  readonly gateways: Readonly<Record<string, string>>;
  readonly cases: readonly AclCase[];
}

/** A matrix the runner cannot use; `field` is the path of the offending value (`cases.3.client`). */
export class MatrixError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = 'MatrixError';
  }
}

/** Methods that normally carry a body: they get `defaults.body` (or `{}`) unless the case has its own. */
const BODY_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH']);
const DEFAULT_TIMEOUT_MS = 10_000;

/** Identifiers are checked with the protocol's own rules, so the message says which part is wrong. */
const identifier = (parse: (text: unknown, field: string) => unknown, what: string) =>
  z.string().check((ctx) => {
    try {
      parse(ctx.value, what);
    } catch (err) {
      ctx.issues.push({ code: 'custom', message: (err as Error).message, input: ctx.value });
    }
  });

/** A schema-specific message, except for a missing value, which is just "is required". */
const unless = (message: string) => (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : message);

const GatewayUrl = z.url({ protocol: /^https?$/, error: unless('must be an http:// or https:// URL') });
const HeaderName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'is not an HTTP header name');
// The runner sets these itself; a matrix that set them too would send X-Road-Client twice
// (Client.InvalidHttpHeader) or a wrong length — neither tests access control.
const Headers = z.record(HeaderName, z.string()).check((ctx) => {
  for (const name of Object.keys(ctx.value)) {
    if (['x-road-client', 'content-length', 'host'].includes(name.toLowerCase())) {
      const hint = name.toLowerCase() === 'x-road-client' ? "; the case's client is sent as X-Road-Client" : '';
      ctx.issues.push({ code: 'custom', message: `header ${name} is set by the runner${hint}`, input: ctx.value, path: [name] });
    }
  }
});
const Method = z
  .string()
  .transform((m) => m.toUpperCase())
  .pipe(z.enum(HTTP_METHODS, { error: unless(`must be one of ${HTTP_METHODS.join(', ')}`) }));
// Sent byte for byte (no URL normalisation), so the path a matrix names is the one the gateway
// sees; hence printable ASCII only, as on the wire (percent-encode anything else).
const RequestPath = z.string().regex(/^\/[\x21-\x22\x24-\x7e]*$/, "must start with '/' and be printable ASCII without spaces or '#' (percent-encode the rest)");

const Case = z.strictObject({
  name: z.string().min(1).optional(),
  client: identifier(parseSubsystemId, 'client'),
  service: identifier(parseServiceId, 'service'),
  method: Method,
  path: RequestPath,
  expect: z.enum(['allow', 'deny'], { error: unless("must be 'allow' or 'deny'") }),
  body: z.unknown().optional(),
  headers: Headers.optional(),
  timeoutMs: z.number().int().positive().optional(),
});

const Schema = z.strictObject({
  gateways: z.record(identifier(parseMemberId, 'gateway member'), GatewayUrl).prefault({}),
  defaults: z
    .strictObject({
      body: z.unknown().optional(),
      headers: Headers.default({}),
      timeoutMs: z.number().int().positive().default(DEFAULT_TIMEOUT_MS),
    })
    .prefault({}),
  cases: z.array(Case).min(1, 'the matrix has no cases'),
});

/** The consumer gateways of the default network (sim/topology.ts), by member id. */
export function topologyGateways(portOffset = 0): Record<string, string> {
  return Object.fromEntries(MEMBERS.map((m) => [m.member, `http://127.0.0.1:${m.ports.consumer + portOffset}`]));
}

export interface MatrixOptions {
  /** Override or add consumer gateways (member id → base URL); wins over the matrix's `gateways:`. */
  readonly gateways?: Readonly<Record<string, string>>;
  /** Overrides `defaults.timeoutMs` and every case's `timeoutMs`. */
  readonly timeoutMs?: number;
  /** The default network runs with `camdx start --port-offset`: its gateways moved by as much. */
  readonly portOffset?: number;
  /**
   * Where the members' gateways are when neither the matrix nor `gateways` says (default: the
   * default network's ports, moved by `portOffset`). Asked only then, so a matrix that names
   * every gateway itself needs no running network; what it throws reaches the caller.
   */
  readonly defaultGateways?: () => Readonly<Record<string, string>>;
}

/** Validates a parsed matrix and resolves each case's gateway: defaults ← matrix ← options. */
export function checkMatrix(raw: unknown, options: MatrixOptions = {}): AclMatrix {
  if (raw === null || raw === undefined) throw new MatrixError('(root)', "the matrix is empty; expected a mapping with a 'cases:' list");
  const parsed = Schema.safeParse(raw, { error: (issue) => (issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : undefined) });
  if (!parsed.success) throw matrixError(parsed.error.issues);
  const m = parsed.data;
  const overrides = Object.entries(options.gateways ?? {});
  for (const [member, url] of overrides) {
    try {
      parseMemberId(member, 'gateway member');
    } catch (err) {
      throw new MatrixError(`--gateway ${member}`, (err as Error).message);
    }
    if (!GatewayUrl.safeParse(url).success) throw new MatrixError(`--gateway ${member}`, `'${url}' must be an http:// or https:// URL`);
  }
  const given: Record<string, string> = { ...m.gateways, ...Object.fromEntries(overrides) };
  const needsDefaults = m.cases.some((c) => !given[memberOfId(c.client)]);
  const defaults = needsDefaults ? (options.defaultGateways ?? (() => topologyGateways(options.portOffset)))() : {};
  const gateways: Record<string, string> = { ...defaults, ...given };
  const cases = m.cases.map((c, index): AclCase => {
    const member = memberOfId(c.client);
    const gateway = gateways[member];
    if (!gateway) throw new MatrixError(`cases.${index}.client`, `no consumer gateway for member ${member}; add it under 'gateways:' or pass --gateway ${member}=URL`);
    const body = c.body !== undefined ? c.body : BODY_METHODS.has(c.method) ? (m.defaults.body ?? {}) : undefined;
    return {
      index,
      name: c.name ?? describeCall(c.client, c.method, c.service, c.path),
      client: c.client,
      service: c.service,
      method: c.method,
      path: c.path,
      expect: c.expect,
      gateway: gateway.replace(/\/+$/, ''),
      ...(body !== undefined ? { body } : {}),
      headers: { ...m.defaults.headers, ...c.headers },
      timeoutMs: options.timeoutMs ?? c.timeoutMs ?? m.defaults.timeoutMs,
    };
  });
  return { gateways, cases };
}

/** The member a client subsystem belongs to: its gateway sends the client's calls. */

/**
 * The one issue worth reporting. An unknown key goes first: `expected: deny` is a typo of
 * `expect`, and "cases.3: unrecognized key expected" says so better than "expect is required".
 */
function matrixError(issues: readonly z.core.$ZodIssue[]): MatrixError {
  const issue = issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0]!;
  const field = issue.path.join('.') || '(root)';
  if (issue.code === 'unrecognized_keys') return new MatrixError(field, `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`);
  // A bad record key (a gateway's member id, a header name): the key's own message says why.
  if (issue.code === 'invalid_key' && issue.issues[0]) return new MatrixError(field, issue.issues[0].message);
  return new MatrixError(field, issue.message);
}

/** Reads and validates a matrix file; every failure is a MatrixError naming the field. */
export function loadMatrix(file: string, options: MatrixOptions = {}): AclMatrix {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new MatrixError('(file)', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new MatrixError('(file)', `not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  return checkMatrix(raw, options);
}

/** `CLIENT → METHOD SERVICE /path`: the default name of a case, and how reports show the call. */
export const describeCall = (client: string, method: string, service: string, path: string) => `${client} → ${method} ${service} ${path}`;
