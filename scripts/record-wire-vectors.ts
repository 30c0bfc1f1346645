/**
 * Records the golden evidence of issue 21 from the code as it is, before the gateway exchange is
 * refactored: `npx tsx scripts/record-wire-vectors.ts [--out DIR] [--no-outcomes]`.
 *
 *   vectors.json    a request and its response each signed alone, and a batch of three requests
 *                   under one signature: inputs (head, salt, body, OCSP, manifest fields, times)
 *                   and the bytes today's handlers write (headers in order, body, trailers)
 *   mutations.json  each vector with one part broken, and the X-Road type today's receiver gives
 *   outcomes.json   a success and a failure at each step through two real gateways
 *                   (test/support/exchange-outcomes.ts): type, status, records, metric increments
 *
 * The fixture PKI (a P-256 CA, CAMDX/GOV/MOI's signing certificate and key, OCSP responses at a
 * fixed time) is made once, into test/fixtures/wire-v1/, and reused ever after: every run signs
 * with it. Only the ECDSA SignatureValue differs between runs (k is random), so recording again
 * over the committed files changes them; record into `--out /tmp/somewhere` to compare instead.
 *
 * It uses only exports of gateway/message/{format,merkle,xmldsig,verifier}.ts and gateway/errors.ts
 * that exist at a1678c5 — the refactor keeps them — so it runs on the refactored code too.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCertificate, issuerKeyOf, selfIssuer } from '../certs/certificate.js';
import { generateKeyPair, privateKeyToPem } from '../certs/keys.js';
import { buildOcspRequest } from '../certs/ocsp/client.js';
import { OcspResponder } from '../certs/ocsp/responder.js';
import { toPem } from '../certs/pem.js';
import { getProfile } from '../certs/profiles.js';
import type { PkiStore } from '../certs/store.js';
import { asXRoadError } from '../gateway/errors.js';
import {
  decodeRequestHead,
  decodeResponseHead,
  encodeHead,
  encodeManifest,
  H,
  manifestLeaf,
  saltedDigest,
  TRAILERS,
  type Manifest,
  type RequestHead,
  type ResponseHead,
} from '../gateway/message/format.js';
import { buildTree, encodeProof } from '../gateway/message/merkle.js';
import type { Expectation, MessageVerifier } from '../gateway/message/verifier.js';
import { XmlBatchSigner } from '../gateway/message/xmldsig.js';
import {
  FIXED_NOW,
  FIXTURE_MEMBER,
  fixtureVerifier,
  loadFixturePki,
  OCSP_THIS_UPDATE,
  PKI_FILES,
  receivingSide,
  WIRE_V1,
  wireOf,
  type FixturePki,
  type Mutation,
  type VectorName,
  type WireVector,
} from '../test/support/wire-fixtures.js';

const RECORDED_FROM = 'a1678c5';

// ---- the fixture PKI, made once -------------------------------------------------------------

const FIXED_SERIALS = { ca: '4a17c0de00000000000000000000ca01', sign: '4a17c0de0000000000000000000051a1', auth: '4a17c0de00000000000000000000a071' };
const ISSUED_AT = new Date('2020-01-01T00:05:00.000Z');
/** 2020-01-01 (with the 5-minute backdate) to 2045-01-01; the CA outlives its certificates. */
const LEAF_DAYS = 9132;
const CA_DAYS = 9500;
const MOI = { C: 'KH', O: 'Ministry of Interior' };

function createFixturePki(dir: string): void {
  const caKeys = generateKeyPair('P-256');
  const caSubject = { C: 'KH', O: 'CamDX', CN: 'CamDX wire-v1 fixture CA' };
  const caDer = buildCertificate(
    { profile: getProfile('root-ca'), subject: caSubject, publicKey: caKeys.publicKey, now: ISSUED_AT, validityDays: CA_DAYS },
    Buffer.from(FIXED_SERIALS.ca, 'hex'),
    selfIssuer(caSubject, caKeys.privateKey),
  );
  const issuer = issuerKeyOf(caDer, caKeys.privateKey);
  const ocspUrl = 'http://127.0.0.1:4100/ocsp';
  const signKeys = generateKeyPair('P-256');
  const signDer = buildCertificate(
    { profile: getProfile('member-signing'), subject: { ...MOI, serialNumber: FIXTURE_MEMBER, CN: 'MOI' }, publicKey: signKeys.publicKey, ocspUrl, now: ISSUED_AT, validityDays: LEAF_DAYS },
    Buffer.from(FIXED_SERIALS.sign, 'hex'),
    issuer,
  );
  const authKeys = generateKeyPair('P-256');
  const authDer = buildCertificate(
    {
      profile: getProfile('server-auth'),
      subject: { ...MOI, serialNumber: `${FIXTURE_MEMBER}/SS1`, CN: 'SS1' },
      publicKey: authKeys.publicKey,
      altNames: { dns: [], ip: ['127.0.0.1'] },
      ocspUrl,
      now: ISSUED_AT,
      validityDays: LEAF_DAYS,
    },
    Buffer.from(FIXED_SERIALS.auth, 'hex'),
    issuer,
  );
  const ca = new X509Certificate(caDer);
  // The project's own responder, answering 'good' for everything, signing as the CA itself at the fixed time.
  const store = { getCertificate: () => ({ status: 'good' }) } as unknown as PkiStore;
  const responder = new OcspResponder(new Map([['camdx-ca', { cert: ca }]]), new Map([['camdx-ca', { cert: ca, der: caDer, key: caKeys.privateKey }]]), store, {
    clock: () => OCSP_THIS_UPDATE,
    validitySeconds: 3600,
  });
  const ocspFor = (der: Buffer) => responder.respond(buildOcspRequest(new X509Certificate(der), ca, null));
  mkdirSync(dir, { recursive: true });
  const write = (name: string, data: string | Buffer) => writeFileSync(join(dir, name), data);
  write(PKI_FILES.caCert, toPem(caDer, 'CERTIFICATE'));
  write(PKI_FILES.caKey, privateKeyToPem(caKeys.privateKey));
  write(PKI_FILES.signCert, toPem(signDer, 'CERTIFICATE'));
  write(PKI_FILES.signKey, privateKeyToPem(signKeys.privateKey));
  write(PKI_FILES.authCert, toPem(authDer, 'CERTIFICATE'));
  write(PKI_FILES.ocspSign, ocspFor(signDer));
  write(PKI_FILES.ocspAuth, ocspFor(authDer));
}

// ---- messages, built as consumer/exchange.ts and provider/server.ts build them ----------------

interface Draft {
  readonly name: VectorName;
  readonly head: RequestHead | ResponseHead;
  readonly body: Buffer;
  readonly routing?: { client: string; service: string; id: string };
  readonly fields: WireVector['inputs']['fields'];
  readonly documentSignedAt: string;
}

const saltOf = (name: string) => createHash('sha256').update(`camdx wire-v1 salt ${name}`).digest().subarray(0, 16);

/** The headers in the order consumer/exchange.ts (peerHeaders) and provider/server.ts (writeHead) write them. */
function headersOf(d: Draft, pki: FixturePki): Array<[string, string]> {
  const headers: Array<[string, string]> = [
    ['content-type', 'application/octet-stream'],
    ['trailer', TRAILERS],
    [H.head, encodeHead(d.head)],
    ['x-camdx-salt', saltOf(d.name).toString('base64')],
    [H.ocspSign, pki.ocspSign.toString('base64')],
  ];
  if (d.routing) headers.push([H.ocspAuth, pki.ocspAuth.toString('base64')], [H.client, d.routing.client], [H.service, d.routing.service], [H.id, d.routing.id]);
  return headers;
}

/** The manifest with its fields in the handlers' order (requestHash last, responses only). */
function manifestOf(d: Draft): Manifest {
  const salt = saltOf(d.name);
  const f = d.fields;
  return {
    v: 1,
    type: f.type,
    id: f.id,
    requestId: f.requestId,
    client: f.client,
    service: f.service,
    signedAt: f.signedAt,
    salt: salt.toString('base64'),
    headDigest: saltedDigest(salt, Buffer.from(encodeHead(d.head), 'base64url')),
    bodyDigest: saltedDigest(salt, d.body),
    bodyBytes: d.body.length,
    ...(f.requestHash ? { requestHash: f.requestHash } : {}),
  };
}

/** Signs the drafts together as MessageSigner does: one document over their Merkle root, a chain each. */
function sealBatch(drafts: readonly Draft[], pki: FixturePki, expectOf: (d: Draft) => Expectation): WireVector[] {
  const encoded = drafts.map((d) => encodeManifest(manifestOf(d)));
  const leaves = encoded.map((e) => manifestLeaf(e.bytes));
  const tree = buildTree(leaves);
  const xml = new XmlBatchSigner(pki.signKey, pki.signCert).sign({ root: tree.root, count: drafts.length, signedAt: new Date(drafts[0]!.documentSignedAt) });
  return drafts.map((d, i) => ({
    name: d.name,
    type: d.fields.type,
    inputs: {
      head: d.head,
      salt: saltOf(d.name).toString('base64'),
      body: d.body.toString('base64'),
      ocspSign: pki.ocspSign.toString('base64'),
      ...(d.routing ? { ocspAuth: pki.ocspAuth.toString('base64'), routing: d.routing } : {}),
      fields: d.fields,
      documentSignedAt: d.documentSignedAt,
      batch: drafts.map((x) => x.name),
    },
    outputs: {
      headers: headersOf(d, pki),
      body: d.body.toString('base64'),
      trailers: [
        [H.manifest, encoded[i]!.text],
        [H.chain, encodeProof(tree.proofs[i]!)],
        [H.signature, Buffer.from(xml).toString('base64')],
      ],
      manifest: JSON.parse(encoded[i]!.bytes.toString('utf8')) as Record<string, unknown>,
      leaf: leaves[i]!.toString('base64'),
      signatureDocument: xml,
    },
    expect: expectOf(d),
  }));
}

const CLIENT = `${FIXTURE_MEMBER}/PORTAL`;
const SERVICE = `${FIXTURE_MEMBER}/KYC/echo`;

function request(name: VectorName, head: RequestHead, body: Buffer, n: number, at: string, documentAt = at): Draft {
  const id = `wire-v1-${name}`;
  const requestId = `00000000-0000-4000-8000-00000000000${n}`;
  return {
    name,
    head,
    body,
    routing: { client: CLIENT, service: SERVICE, id },
    fields: { type: 'request', id, requestId, client: CLIENT, service: SERVICE, signedAt: at },
    documentSignedAt: documentAt,
  };
}

const asProvider = (d: Draft): Expectation => ({ type: 'request', client: d.routing!.client, service: d.routing!.service, id: d.routing!.id });

function buildVectors(pki: FixturePki): WireVector[] {
  const single = request(
    'request',
    {
      method: 'POST',
      path: '/echo/kyc/info',
      query: 'lang=km&v=2',
      headers: [
        ['Content-Type', 'application/json'],
        ['X-Road-UserId', 'KH/officer-17'],
        ['Accept', '*/*'],
      ],
    },
    Buffer.from('{"idNumber":"010000019","name":"សុខ សុភា"}'),
    1,
    '2025-03-01T08:01:00.123Z',
  );
  const [requestVector] = sealBatch([single], pki, asProvider);
  const response: Draft = {
    name: 'response',
    head: {
      status: 200,
      headers: [
        ['Content-Type', 'application/json; charset=utf-8'],
        ['X-Multi', 'one'],
        ['X-Multi', 'two'],
        ['Set-Cookie', 'a=1; Path=/'],
      ],
    },
    body: Buffer.from('{"error":0,"data":{"score":1,"incorrectFields":[]}}'),
    fields: { ...single.fields, type: 'response', signedAt: '2025-03-01T08:01:00.456Z', requestHash: requestVector!.outputs.leaf },
    documentSignedAt: '2025-03-01T08:01:00.456Z',
  };
  const [responseVector] = sealBatch([response], pki, (d) => ({
    type: 'response',
    signerMember: FIXTURE_MEMBER,
    id: d.fields.id,
    client: d.fields.client,
    service: d.fields.service,
    requestHash: d.fields.requestHash!,
  }));
  const binary = Buffer.from(Array.from({ length: 1024 }, (_, i) => (i * 37 + 11) & 0xff));
  const batch = sealBatch(
    [
      request('batch-0', { method: 'GET', path: '/echo/a', query: 'x=1', headers: [] }, Buffer.alloc(0), 2, '2025-03-01T08:01:01.001Z', '2025-03-01T08:01:01.010Z'),
      request('batch-1', { method: 'POST', path: '/echo/b', query: '', headers: [['Content-Type', 'application/octet-stream']] }, binary, 3, '2025-03-01T08:01:01.002Z', '2025-03-01T08:01:01.010Z'),
      request(
        'batch-2',
        {
          method: 'PUT',
          path: '/echo/c%20d',
          query: '',
          headers: [
            ['Content-Type', 'text/plain; charset=utf-8'],
            ['X-Road-Issue', 'ticket 9'],
          ],
        },
        Buffer.from('ព្រះរាជាណាចក្រកម្ពុជា\n'),
        4,
        '2025-03-01T08:01:01.003Z',
        '2025-03-01T08:01:01.010Z',
      ),
    ],
    pki,
    asProvider,
  );
  return [requestVector!, responseVector!, ...batch];
}

// ---- bad input, judged by today's receiver ---------------------------------------------------

/**
 * What provider/server.ts (requests) and consumer/exchange.ts (responses) do with a message once
 * the TLS peer is checked: decode the head, digest the body with the announced salt, verify.
 */
function receiveToday(wire: ReturnType<typeof wireOf>, type: 'request' | 'response', verifier: MessageVerifier, expect: Expectation): void {
  const side = receivingSide(type);
  const { bytes: headBytes } = type === 'request' ? decodeRequestHead(wire.headers[H.head], side) : decodeResponseHead(wire.headers[H.head], side);
  const salt = Buffer.from(String(wire.headers['x-camdx-salt'] ?? ''), 'base64');
  const t = wire.trailers;
  verifier.verify(
    {
      manifest: t[H.manifest],
      chain: t[H.chain],
      signature: t[H.signature] ? Buffer.from(t[H.signature], 'base64').toString('utf8') : undefined,
      headBytes,
      salt,
      bodyDigest: saltedDigest(salt, wire.body),
      bodyBytes: wire.body.length,
      ocsp: wire.headers[H.ocspSign] ? Buffer.from(wire.headers[H.ocspSign], 'base64') : undefined,
    },
    expect,
  );
}

/** `bytes` with the byte at `at` (default: the middle one) XOR 0x01: always a different value. */
const flipped = (bytes: Buffer, at = Math.floor(bytes.length / 2)) => {
  const out = Buffer.from(bytes);
  out[at]! ^= 0x01;
  return out;
};
const flipBase64 = (text: string, encoding: 'base64' | 'base64url', at?: number) => flipped(Buffer.from(text, encoding), at).toString(encoding);

/** The changes made to each vector; each breaks one thing. */
function changesFor(v: WireVector, all: readonly WireVector[], pki: FixturePki): Record<string, Mutation['change']> {
  const header = (name: string) => v.outputs.headers.find(([n]) => n === name)![1];
  const trailer = (name: string) => v.outputs.trailers.find(([n]) => n === name)![1];
  const doc = v.outputs.signatureDocument;
  const offsetOf = (pattern: RegExp) => {
    const m = pattern.exec(doc)!;
    return m.index + m[0].length - Math.ceil(m[1]!.length / 2);
  };
  const chain = trailer(H.chain);
  const ocsp = Buffer.from(header(H.ocspSign), 'base64');
  const serial = Buffer.from(pki.signCert.serialNumber, 'hex');
  const manifestBytes = Buffer.from(trailer(H.manifest), 'base64url');
  const headText = header(H.head);
  const standard = Buffer.from(headText, 'base64url').toString('base64');
  const extra = encodeManifest({ ...(v.outputs.manifest as unknown as Manifest), extra: 1 } as Manifest);
  const extraDoc = new XmlBatchSigner(pki.signKey, pki.signCert).sign({ root: manifestLeaf(extra.bytes), count: 1, signedAt: new Date(v.inputs.documentSignedAt) });
  const changes: Record<string, Mutation['change']> = {
    head: { headers: { [H.head]: flipBase64(headText, 'base64url') } },
    'head-not-base64url': { headers: { [H.head]: /[+/=]/.test(standard) ? standard : `${standard}=` } },
    salt: { headers: { 'x-camdx-salt': flipBase64(header('x-camdx-salt'), 'base64', 8) } },
    body: { body: (v.outputs.body === '' ? Buffer.of(0) : flipped(Buffer.from(v.outputs.body, 'base64'))).toString('base64') },
    manifest: { trailers: { [H.manifest]: flipBase64(trailer(H.manifest), 'base64url') } },
    // Still a well-formed manifest, with the same salt and digests: only the leaf no longer leads to the signed root.
    'manifest-id': { trailers: { [H.manifest]: flipped(manifestBytes, manifestBytes.indexOf(`"id":"${v.inputs.fields.id}"`) + 6 + v.inputs.fields.id.length - 1).toString('base64url') } },
    // Signed, and still refused: a manifest holds exactly the fields the format names.
    'manifest-extra-field': { trailers: { [H.manifest]: extra.text, [H.chain]: '', [H.signature]: Buffer.from(extraDoc).toString('base64') } },
    // A batch member's chain with one byte of its first hash flipped; a lone message's empty chain given a step it never had.
    chain: {
      trailers: {
        [H.chain]: chain === '' ? `L:${Buffer.alloc(64, 7).toString('base64')}` : chain.replace(/^([LR]):([^,]+)/, (_, side: string, hash: string) => `${side}:${flipBase64(hash, 'base64')}`),
      },
    },
    signature: { trailers: { [H.signature]: flipBase64(trailer(H.signature), 'base64') } },
    'signature-value': { trailers: { [H.signature]: flipped(Buffer.from(doc), offsetOf(/<ds:SignatureValue>([^<]+)/)).toString('base64') } },
    'signature-root': { trailers: { [H.signature]: flipped(Buffer.from(doc), offsetOf(/<cdx:Root [^>]*>([^<]+)/)).toString('base64') } },
    // A byte of the signed response data (the certificate's serial in it); then one in the attached responder certificate, outside what the responder signs.
    ocsp: { headers: { [H.ocspSign]: flipped(ocsp, ocsp.indexOf(serial) + serial.length - 1).toString('base64') } },
    'ocsp-responder-certificate': { headers: { [H.ocspSign]: flipped(ocsp, ocsp.indexOf(pki.ca.raw) + Math.floor(pki.ca.raw.length / 2)).toString('base64') } },
    'ocsp-missing': { headers: { [H.ocspSign]: null } },
    'missing-manifest': { trailers: { [H.manifest]: null } },
    'missing-chain': { trailers: { [H.chain]: null } },
    'missing-signature': { trailers: { [H.signature]: null } },
  };
  if (v.type === 'response') changes['bound-to-another-request'] = { expect: { requestHash: all.find((x) => x.name === 'batch-0')!.outputs.leaf } };
  return changes;
}

function recordMutations(vectors: readonly WireVector[], pki: FixturePki): Record<string, Mutation> {
  const verifier = fixtureVerifier(pki);
  const out: Record<string, Mutation> = {};
  for (const v of vectors) {
    // The vector itself must pass, or its mutations prove nothing.
    receiveToday(wireOf(v), v.type, verifier, v.expect);
    for (const [what, change] of Object.entries(changesFor(v, vectors, pki))) {
      let type = 'accepted';
      let reason = 'accepted';
      try {
        receiveToday(wireOf(v, change), v.type, verifier, { ...v.expect, ...change.expect });
      } catch (err) {
        const fault = asXRoadError(err, receivingSide(v.type));
        ({ type, message: reason } = fault);
      }
      out[`${v.name}/${what}`] = { vector: v.name, type, reason, change };
    }
  }
  return out;
}

// ---- main -------------------------------------------------------------------------------------

const writeJson = (dir: string, name: string, value: unknown) => writeFileSync(join(dir, name), `${JSON.stringify(value, null, 2)}\n`);

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const outAt = args.indexOf('--out');
  const out = outAt >= 0 ? args[outAt + 1]! : WIRE_V1;
  if (!existsSync(join(WIRE_V1, PKI_FILES.signCert))) createFixturePki(WIRE_V1);
  mkdirSync(out, { recursive: true });
  const pki = loadFixturePki();
  const vectors = buildVectors(pki);
  writeJson(out, 'vectors.json', { recordedFrom: RECORDED_FROM, clock: new Date(FIXED_NOW).toISOString(), vectors });
  writeJson(out, 'mutations.json', { recordedFrom: RECORDED_FROM, mutations: recordMutations(vectors, pki) });
  if (!args.includes('--no-outcomes')) {
    // Loaded only when wanted: it brings up a whole network.
    const { runOutcomeScenarios } = await import('../test/support/exchange-outcomes.js');
    writeJson(out, 'outcomes.json', { recordedFrom: RECORDED_FROM, outcomes: await runOutcomeScenarios() });
  }
  console.log(`wire vectors recorded in ${out}`);
}

await main();
