import { X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { privateKeyFromPem } from '../../certs/keys.js';
import { ConfView } from '../../gateway/globalconf/view.js';
import type { RequestHead, ResponseHead } from '../../gateway/message/format.js';
import { MessageVerifier, type Expectation } from '../../gateway/message/verifier.js';
import type { GlobalConf } from '../../protocol/globalconf.js';

/**
 * The golden wire vectors of issue 21 (test/fixtures/wire-v1/), recorded from the encoder of
 * commit a1678c5 by scripts/record-wire-vectors.ts: a fixed PKI, fixed salts and clocks, and the
 * bytes today's handlers put on the wire. This module reads them; only the script writes them.
 */
export const WIRE_V1 = join(import.meta.dirname, '../fixtures/wire-v1');

/** thisUpdate of both fixture OCSP responses (nextUpdate is an hour later). */
export const OCSP_THIS_UPDATE = Date.parse('2025-03-01T08:00:00.000Z');
/** The clock every vector is verified at: 90 s after the OCSP responses were made, well within their freshness. */
export const FIXED_NOW = OCSP_THIS_UPDATE + 90_000;
/** The member whose signing certificate signs every vector. */
export const FIXTURE_MEMBER = 'CAMDX/GOV/MOI';

export const PKI_FILES = {
  caCert: 'ca.pem',
  caKey: 'ca.key.pem',
  signCert: 'sign.pem',
  signKey: 'sign.key.pem',
  authCert: 'auth.pem',
  ocspSign: 'ocsp-sign.der',
  ocspAuth: 'ocsp-auth.der',
} as const;

export interface FixturePki {
  readonly ca: X509Certificate;
  readonly caKey: KeyObject;
  /** CAMDX/GOV/MOI's message-signing certificate (nonRepudiation, subject serialNumber = member id). */
  readonly signCert: X509Certificate;
  readonly signKey: KeyObject;
  /** The security server's TLS certificate, only so requests carry a real X-CamDX-Ocsp-Auth. */
  readonly authCert: X509Certificate;
  readonly ocspSign: Buffer;
  readonly ocspAuth: Buffer;
}

export function loadFixturePki(dir = WIRE_V1): FixturePki {
  const read = (name: string) => readFileSync(join(dir, name));
  return {
    ca: new X509Certificate(read(PKI_FILES.caCert)),
    caKey: privateKeyFromPem(read(PKI_FILES.caKey)),
    signCert: new X509Certificate(read(PKI_FILES.signCert)),
    signKey: privateKeyFromPem(read(PKI_FILES.signKey)),
    authCert: new X509Certificate(read(PKI_FILES.authCert)),
    ocspSign: read(PKI_FILES.ocspSign),
    ocspAuth: read(PKI_FILES.ocspAuth),
  };
}

/** The least global configuration a verifier needs: the fixture CA approved (as its own root), an hour of OCSP freshness. */
export function fixtureConf(pki: FixturePki): GlobalConf {
  const pem = pki.ca.toString();
  return {
    format: 'camdx-globalconf/2',
    instance: 'CAMDX',
    version: 1,
    generatedAt: '2025-03-01T07:00:00.000Z',
    expiresAt: '2045-01-01T00:00:00.000Z',
    centralUrl: 'http://127.0.0.1:4000',
    ocspFreshnessSeconds: 3600,
    timestampingIntervalSeconds: 60,
    memberClasses: ['GOV', 'COM'],
    approvedCAs: [{ name: 'wire-v1 fixture CA', certificate: pem, rootCertificate: pem, ocspUrl: 'http://127.0.0.1:4100/ocsp' }],
    approvedTSAs: [],
    members: [{ id: FIXTURE_MEMBER, name: 'Ministry of Interior', subsystems: ['KYC', 'PORTAL'] }],
    securityServers: [],
    globalGroups: [],
    services: [],
    accessRights: [],
  };
}

/** A verifier that trusts the fixture CA and lives at FIXED_NOW; no signature cache, so no check depends on an earlier one. */
export function fixtureVerifier(pki: FixturePki): MessageVerifier {
  const view = new ConfView(fixtureConf(pki));
  return new MessageVerifier(() => view, { cacheSignatures: false, clock: () => FIXED_NOW });
}

export type VectorName = 'request' | 'response' | 'batch-0' | 'batch-1' | 'batch-2';

/** One recorded message: what its sender knew (inputs) and what today's code put on the wire (outputs). */
export interface WireVector {
  readonly name: VectorName;
  readonly type: 'request' | 'response';
  readonly inputs: {
    readonly head: RequestHead | ResponseHead;
    /** base64 */
    readonly salt: string;
    readonly body: string;
    readonly ocspSign: string;
    readonly ocspAuth?: string;
    readonly routing?: { readonly client: string; readonly service: string; readonly id: string };
    /** The manifest's fields other than salt and digests; signedAt as ISO text. */
    readonly fields: { type: 'request' | 'response'; id: string; requestId: string; client: string; service: string; signedAt: string; requestHash?: string };
    /** The signature document's SigningTime (what MessageSigner's clock must say to re-encode it). */
    readonly documentSignedAt: string;
    /** The vectors signed together under one signature, in leaf order (this one included). */
    readonly batch: readonly VectorName[];
  };
  readonly outputs: {
    /** In the order today's handlers write them. */
    readonly headers: ReadonlyArray<[string, string]>;
    readonly body: string;
    readonly trailers: ReadonlyArray<[string, string]>;
    /** For reading: the manifest trailer decoded, and the leaf (base64) it hashes to. */
    readonly manifest: Record<string, unknown>;
    readonly leaf: string;
    readonly signatureDocument: string;
  };
  /** What the receiving gateway expects of it (provider: the routing hints; consumer: its request). */
  readonly expect: Expectation;
}

export interface VectorFile {
  readonly recordedFrom: string;
  readonly clock: string;
  readonly vectors: readonly WireVector[];
}

/** One bad input: which vector, what changed (null removes), and the X-Road type today's receiver answers. */
export interface Mutation {
  readonly vector: VectorName;
  readonly type: string;
  /** Today's reason, for reading only: the refactor must keep the type, and tests compare only that. */
  readonly reason: string;
  readonly change: {
    readonly headers?: Readonly<Record<string, string | null>>;
    readonly trailers?: Readonly<Record<string, string | null>>;
    /** base64 */
    readonly body?: string;
    readonly expect?: Partial<Expectation>;
  };
}

export interface MutationFile {
  readonly recordedFrom: string;
  readonly mutations: Readonly<Record<string, Mutation>>;
}

export function readVectors(dir = WIRE_V1): VectorFile {
  return JSON.parse(readFileSync(join(dir, 'vectors.json'), 'utf8')) as VectorFile;
}

export function readMutations(dir = WIRE_V1): MutationFile {
  return JSON.parse(readFileSync(join(dir, 'mutations.json'), 'utf8')) as MutationFile;
}

/** A vector (or a mutation of it) as the codec's buffered WireMessage. */
export function wireOf(v: WireVector, change: Mutation['change'] = {}): { headers: Record<string, string>; body: Buffer; trailers: Record<string, string> } {
  const apply = (pairs: ReadonlyArray<[string, string]>, edits: Readonly<Record<string, string | null>> = {}) => {
    const out: Record<string, string> = Object.fromEntries(pairs);
    for (const [name, value] of Object.entries(edits)) {
      if (value === null) delete out[name];
      else out[name] = value;
    }
    return out;
  };
  return { headers: apply(v.outputs.headers, change.headers), body: Buffer.from(change.body ?? v.outputs.body, 'base64'), trailers: apply(v.outputs.trailers, change.trailers) };
}

/** The side whose X-Road type a receiver of `type` answers with: the provider's for requests, the consumer's for responses. */
export const receivingSide = (type: 'request' | 'response') => (type === 'request' ? 'Server.ServerProxy' : 'Server.ClientProxy') as 'Server.ServerProxy' | 'Server.ClientProxy';
