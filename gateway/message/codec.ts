import type { X509Certificate } from 'node:crypto';
import type { IncomingHttpHeaders, OutgoingMessage } from 'node:http';
import type { Readable, Writable } from 'node:stream';
import { manifestLeaf, saltedDigest } from '../../protocol/message-hashes.js';
import { base64OfDer, derOfBase64, textOfBase64 } from '../../protocol/recurring.js';
import type { SignedPart } from '../messagelog/log.js';
import { carry, type Carried } from '../transport/carry.js';
import { decodeRequestHead, decodeResponseHead, encodeHead, encodeManifest, H, TRAILERS, type Manifest, type RequestHead, type ResponseHead } from './format.js';
import type { SignedLeaf } from './signer.js';
import type { Expectation, MessageVerifier, VerifiedMessage } from './verifier.js';

/**
 * The one wire codec between security servers: it sends a signed message (head, salt, body
 * digested as it streams, manifest, Merkle leaf, batch signature, trailers) and receives and
 * verifies one. The consumer (request out, response in), the provider (request in, response
 * out) and test/support/peer.ts all use it; format.ts says what each header and trailer is.
 */

/** Unsigned routing hints a request carries, for the receiver's log and errors before its signature arrives. */
export interface Routing {
  readonly client: string;
  readonly service: string;
  readonly id: string;
}

/** What a sender knows before the body: the head, the salt, its OCSP responses and (requests) the routing hints. */
export interface MessageStart {
  readonly head: RequestHead | ResponseHead;
  readonly salt: Buffer;
  readonly ocspSign: Buffer;
  /** Requests: the OCSP response for the sender's TLS certificate. */
  readonly ocspAuth?: Buffer;
  readonly routing?: Routing;
}

/** The signed fields of a manifest besides the salt and the digests. */
export interface ManifestFields {
  readonly type: Manifest['type'];
  readonly id: string;
  readonly requestId: string;
  readonly client: string;
  readonly service: string;
  readonly signedAt: Date;
  /** Responses: the hash of the request they answer. */
  readonly requestHash?: string;
}

/** Who signs: a MessageSigner, or in tests any key and certificate. */
export interface Signer {
  readonly certificate: X509Certificate;
  sign(leaf: Buffer): Promise<SignedLeaf>;
}

/** A message started: its head encoded once, for the headers and for the manifest's digest. */
export interface StartedMessage {
  readonly start: MessageStart;
  readonly headText: string;
  readonly headers: Record<string, string>;
}

export interface Sealed {
  readonly manifest: Manifest;
  readonly manifestText: string;
  readonly leaf: Buffer;
  readonly signed: SignedLeaf;
  readonly trailers: Record<string, string>;
}

/** The headers of a message, in the order gateways write them. */
export function startMessage(start: MessageStart): StartedMessage {
  const headText = encodeHead(start.head);
  const headers: Record<string, string> = {
    'content-type': 'application/octet-stream',
    trailer: TRAILERS,
    [H.head]: headText,
    [H.salt]: start.salt.toString('base64'),
    [H.ocspSign]: base64OfDer(start.ocspSign),
  };
  if (start.ocspAuth) headers[H.ocspAuth] = base64OfDer(start.ocspAuth);
  if (start.routing) Object.assign(headers, { [H.client]: start.routing.client, [H.service]: start.routing.service, [H.id]: start.routing.id });
  return { start, headText, headers };
}

/** A message's manifest and its leaf, before the leaf is signed. */
export interface UnsignedMessage {
  readonly manifest: Manifest;
  readonly manifestText: string;
  readonly leaf: Buffer;
}

/** The manifest of a message whose body has passed, and its Merkle leaf. */
export function manifestOf(message: StartedMessage, fields: ManifestFields, body: Carried): UnsignedMessage {
  const { salt } = message.start;
  const manifest: Manifest = {
    v: 1,
    type: fields.type,
    id: fields.id,
    requestId: fields.requestId,
    client: fields.client,
    service: fields.service,
    signedAt: fields.signedAt.toISOString(),
    salt: salt.toString('base64'),
    headDigest: saltedDigest(salt, Buffer.from(message.headText, 'base64url')),
    bodyDigest: body.digest,
    bodyBytes: body.bytes,
    ...(fields.requestHash === undefined ? {} : { requestHash: fields.requestHash }),
  };
  const encoded = encodeManifest(manifest);
  return { manifest, manifestText: encoded.text, leaf: manifestLeaf(encoded.bytes) };
}

/** A signed leaf's trailers. */
export function sealWith(unsigned: UnsignedMessage, signed: SignedLeaf): Sealed {
  const trailers = { [H.manifest]: unsigned.manifestText, [H.chain]: signed.chain, [H.signature]: Buffer.from(signed.signature).toString('base64') };
  return { ...unsigned, signed, trailers };
}

/** Signs a message whose body has passed: the manifest, its leaf, the (batch) signature and the trailers. */
export async function seal(message: StartedMessage, fields: ManifestFields, body: Carried, signer: Signer): Promise<Sealed> {
  const unsigned = manifestOf(message, fields, body);
  return sealWith(unsigned, await signer.sign(unsigned.leaf));
}

/**
 * Streams a body from `source` into `sink` (whose headers `message.headers` already went out),
 * digesting it, and signs it; the manifest's signing time is taken when the body has passed.
 * The message is not ended: `endSigned` sends the trailers, once the caller is ready for the
 * other side to have it (a provider first makes its record durable). The caller maps the
 * carry's errors (BodyTooLarge, SourceClosed).
 */
export async function streamSigned(
  source: Readable,
  sink: OutgoingMessage,
  message: StartedMessage,
  fields: Omit<ManifestFields, 'signedAt'>,
  o: { signer: Signer; limit: number; clock: () => number },
): Promise<Sealed & { readonly bytes: number }> {
  const body = await carry(source, sink, { salt: message.start.salt, limit: o.limit, end: false });
  const sealed = await seal(message, { ...fields, signedAt: new Date(o.clock()) }, body, o.signer);
  return { ...sealed, bytes: body.bytes };
}

/** Ends a streamed message with its signature as trailers (and whatever a cork still holds, in one write). */
export function endSigned(sink: OutgoingMessage, sealed: Sealed): void {
  sink.addTrailers(sealed.trailers);
  sink.end();
  while (sink.writableCorked) sink.uncork();
}

/** What a signed part of an exchange leaves in the message log. */
export function signedPartOf(sealed: Sealed, signer: Signer, ocsp: Buffer): SignedPart {
  return {
    manifest: sealed.manifestText,
    chain: sealed.signed.chain,
    leaf: sealed.leaf.toString('hex'),
    signature: sealed.signed.signature,
    signatureHash: sealed.signed.signatureHash,
    batchSize: sealed.signed.batchSize,
    signerDer: signer.certificate.raw,
    ocspDer: ocsp,
  };
}

/** The message log's part for a message received and verified. */
export function verifiedPartOf(verified: VerifiedMessage, manifestText: string): SignedPart {
  return {
    manifest: manifestText,
    chain: verified.chain,
    leaf: verified.leaf.toString('hex'),
    signature: verified.signature,
    signatureHash: verified.signatureHash,
    batchSize: verified.statement.count,
    signerDer: verified.signer.raw,
    ocspDer: verified.ocsp,
  };
}

/** A received message's head, decoded and checked, with the salt it announced. */
export interface ReceivedHead<Head> {
  readonly head: Head;
  readonly headBytes: Buffer;
  readonly salt: Buffer;
}

const saltOf = (headers: IncomingHttpHeaders): Buffer => Buffer.from(String(headers[H.salt] ?? ''), 'base64');

/** A request's head: malformed is MessageFormat; against the header or path rules, InvalidMessage. */
export function readRequestHead(headers: IncomingHttpHeaders): ReceivedHead<RequestHead> {
  const { head, bytes } = decodeRequestHead(headers[H.head] as string | undefined);
  return { head, headBytes: bytes, salt: saltOf(headers) };
}

export function readResponseHead(headers: IncomingHttpHeaders): ReceivedHead<ResponseHead> {
  const { head, bytes } = decodeResponseHead(headers[H.head] as string | undefined);
  return { head, headBytes: bytes, salt: saltOf(headers) };
}

/** Carries a received body into `sink` (a spool), digesting it; the caller maps BodyTooLarge. */
export function receiveBody(source: Readable, sink: Writable, salt: Buffer, limit: number): Promise<Carried> {
  return carry(source, sink, { salt, limit, end: true });
}

const base64Text = (value: string | undefined): string | undefined => (value ? textOfBase64(value) : undefined);
const base64Der = (value: unknown): Buffer | undefined => (value ? derOfBase64(String(value)) : undefined);

/**
 * Verifies a received message from its headers, trailers and body digest: everything the
 * verifier checks (digests, chain, signature, certificate, identity, OCSP) and what `expect`
 * says it must be. Throws VerificationError with an X-Road code and no side.
 */
export function verifyReceived(
  verifier: MessageVerifier,
  parts: { headers: IncomingHttpHeaders; trailers: NodeJS.Dict<string> },
  head: ReceivedHead<unknown>,
  body: Carried,
  expect: Expectation,
): VerifiedMessage {
  return verifier.verify(
    {
      manifest: parts.trailers[H.manifest],
      chain: parts.trailers[H.chain],
      signature: base64Text(parts.trailers[H.signature]),
      headBytes: head.headBytes,
      salt: head.salt,
      bodyDigest: body.digest,
      bodyBytes: body.bytes,
      ocsp: base64Der(parts.headers[H.ocspSign]),
    },
    expect,
  );
}

/** A whole message held in memory: tests, test/support/peer.ts, the golden vectors. */
export interface WireMessage {
  headers: Record<string, string>;
  body: Buffer;
  trailers: Record<string, string>;
}

/** Encodes a message whose body is in memory, through the same start and seal as a streamed one. */
export async function encodeMessage(start: MessageStart, fields: ManifestFields, body: Buffer, signer: Signer): Promise<WireMessage & { sealed: Sealed }> {
  const message = startMessage(start);
  const sealed = await seal(message, fields, { digest: saltedDigest(start.salt, body), bytes: body.length }, signer);
  return { headers: { ...message.headers }, body, trailers: { ...sealed.trailers }, sealed };
}

/** `encodeMessage` with a signature made at once (`MessageSigner.signNow`): a forger's or a test's message, built synchronously. */
export function encodeMessageNow(start: MessageStart, fields: ManifestFields, body: Buffer, signNow: (leaf: Buffer) => SignedLeaf): WireMessage & { sealed: Sealed } {
  const message = startMessage(start);
  const unsigned = manifestOf(message, fields, { digest: saltedDigest(start.salt, body), bytes: body.length });
  const sealed = sealWith(unsigned, signNow(unsigned.leaf));
  return { headers: { ...message.headers }, body, trailers: { ...sealed.trailers }, sealed };
}

/** Decodes and verifies a message held in memory, with the checks a streamed one gets. */
export function verifyMessage(wire: WireMessage, type: Manifest['type'], verifier: MessageVerifier, expect: Expectation): VerifiedMessage & { head: RequestHead | ResponseHead } {
  const received = type === 'request' ? readRequestHead(wire.headers) : readResponseHead(wire.headers);
  const body = { digest: saltedDigest(received.salt, wire.body), bytes: wire.body.length };
  return { ...verifyReceived(verifier, { headers: wire.headers, trailers: wire.trailers }, received, body, expect), head: received.head };
}
