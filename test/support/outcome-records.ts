import { X509Certificate } from 'node:crypto';
import type { Registry } from 'prom-client';
import { readOcspResponse } from '../../certs/ocsp/client.js';
import type { ExchangeRecord, SignedPart } from '../../gateway/messagelog/log.js';

/**
 * What an exchange leaves behind, with everything random or timed made comparable: message-log
 * records normalised against the frozen clock of their scenario, and metric increments. Used by
 * test/support/exchange-outcomes.ts; the comparisons are exact on whatever survives.
 *
 * Random values (request ids, salts, digests, leaves, signature hashes) become numbered tokens
 * per scenario, `<leaf#1>`, so equal values stay equal — the provider's record names the
 * consumer's request id, a response's requestHash names its request's leaf — and nothing else
 * of them is kept. Certificates are named by whose they are.
 */
export class Tokens {
  private readonly seen = new Map<string, string>();
  private readonly counts = new Map<string, number>();

  of(kind: string, value: string): string {
    const key = `${kind}:${value}`;
    let token = this.seen.get(key);
    if (!token) {
      const n = (this.counts.get(kind) ?? 0) + 1;
      this.counts.set(kind, n);
      token = `<${kind}#${n}>`;
      this.seen.set(key, token);
    }
    return token;
  }
}

export interface Normaliser {
  readonly tokens: Tokens;
  /** The scenario's frozen clock: every timestamp is kept relative to it. */
  readonly at: number;
  /** A name for a certificate (DER): 'consumer-sign', 'rogue', …; 'unknown' if none. */
  readonly certName: (der: Buffer) => string;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const B64_SALT = /^[A-Za-z0-9+/]{22}==$/;
const B64_512 = /^[A-Za-z0-9+/]{86}==$/;
const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** Ports are chosen per run; ids made by craftRequest carry random hex; UUIDs are random. */
const scrub = (text: string, n: Normaliser) =>
  text
    .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:<port>')
    .replace(/forged-request-[0-9a-f]+/g, (v) => n.tokens.of('requestId', v))
    .replace(UUID, (v) => n.tokens.of('requestId', v));

const shape = (value: unknown, pattern: RegExp, name: string) => (typeof value === 'string' && pattern.test(value) ? `<${name}>` : `<not a ${name}: ${String(value)}>`);
const relative = (ts: number | null, n: Normaliser) => (ts === null ? null : ts - n.at);

function manifestOf(text: string, n: Normaliser): Record<string, unknown> {
  const m = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Record<string, unknown>;
  return {
    ...m,
    id: scrub(String(m.id), n),
    requestId: scrub(String(m.requestId), n),
    signedAt: Date.parse(String(m.signedAt)) - n.at,
    salt: shape(m.salt, B64_SALT, 'salt'),
    headDigest: shape(m.headDigest, B64_512, 'sha512'),
    bodyDigest: shape(m.bodyDigest, B64_512, 'sha512'),
    ...(m.requestHash === undefined ? {} : { requestHash: n.tokens.of('leaf', Buffer.from(String(m.requestHash), 'base64').toString('hex')) }),
  };
}

/**
 * The signature document by what it states: how many messages it covers and who signed it. Its
 * SigningTime is MessageSigner's `new Date()`, not the gateway's clock, so only its form is kept.
 */
function documentOf(xml: string, n: Normaliser): Record<string, unknown> {
  const cert = /<ds:X509Certificate>([^<]+)</.exec(xml)?.[1];
  return {
    count: Number(/<cdx:Count>(\d+)</.exec(xml)?.[1]),
    signingTime: shape(/<cdx:SigningTime>([^<]+)</.exec(xml)?.[1], ISO_MS, 'ISO time'),
    signer: cert ? n.certName(Buffer.from(cert, 'base64')) : 'none',
  };
}

function partOf(p: SignedPart | null, n: Normaliser): Record<string, unknown> | null {
  if (!p) return null;
  return {
    manifest: manifestOf(p.manifest, n),
    chain: p.chain === '' ? '' : `<chain of ${p.chain.split(',').length}>`,
    leaf: n.tokens.of('leaf', p.leaf),
    signature: documentOf(p.signature, n),
    signatureHash: n.tokens.of('signature', p.signatureHash),
    batchSize: p.batchSize,
    signer: n.certName(p.signerDer),
    ocsp: readOcspResponse(p.ocspDer).certStatus ?? 'not successful',
  };
}

export function normaliseRecord(r: ExchangeRecord, n: Normaliser): Record<string, unknown> {
  return {
    ...r,
    messageId: scrub(r.messageId, n),
    requestId: scrub(r.requestId, n),
    requestInTs: relative(r.requestInTs, n),
    requestOutTs: relative(r.requestOutTs, n),
    responseInTs: relative(r.responseInTs, n),
    responseOutTs: relative(r.responseOutTs, n),
    faultString: r.faultString === null ? null : scrub(r.faultString, n),
    request: partOf(r.request, n),
    response: partOf(r.response, n),
  };
}

/** Certificate names by fingerprint, for `Normaliser.certName`. */
export function certNames(named: Record<string, X509Certificate>): (der: Buffer) => string {
  const byPrint = new Map(Object.entries(named).map(([name, cert]) => [cert.fingerprint256, name]));
  return (der) => {
    try {
      return byPrint.get(new X509Certificate(der).fingerprint256) ?? 'unknown';
    } catch {
      return 'not a certificate';
    }
  };
}

/** Timestamping runs on its own timer, not per exchange: not an outcome of any scenario. */
const NOT_PER_EXCHANGE = /^camdx_gateway_(tsa_|timestamp_)/;

/**
 * Counters by label set, and histograms by their count only: their buckets and sums hold
 * measured times (signing, verifying), which no clock of ours decides.
 */
export async function metricCounts(registry: Registry): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const metric of await registry.getMetricsAsJSON()) {
    // prom-client's typings say a numeric enum; at run time the type is its text ('counter', …).
    const type = String(metric.type);
    if (NOT_PER_EXCHANGE.test(metric.name) || (type !== 'counter' && type !== 'histogram')) continue;
    for (const v of metric.values as Array<{ value: number; labels: Record<string, string | number>; metricName?: string }>) {
      const name = v.metricName ?? metric.name;
      if (type === 'histogram' && !name.endsWith('_count')) continue;
      const labels = Object.entries(v.labels)
        .filter(([k]) => k !== 'server')
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, val]) => `${k}="${val}"`)
        .join(',');
      out.set(`${name}{${labels}}`, v.value);
    }
  }
  return out;
}

/** What rose between two snapshots (nothing here ever falls). */
export function increments(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of [...after.keys()].sort()) {
    const rise = after.get(key)! - (before.get(key) ?? 0);
    if (rise !== 0) out[key] = rise;
  }
  return out;
}
