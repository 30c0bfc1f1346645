import { randomBytes } from 'node:crypto';
import { CamdxError, XRoadError, type ErrorSide } from '../../protocol/errors.js';
import { manifestLeaf, SaltedDigest, saltedDigest } from '../../protocol/message-hashes.js';
import { HEAD_LIMITS, isManifest, isRequestHead, isResponseHead } from './peer-shapes.js';
import { checkQuery, normaliseRequestPath, PathError } from '../../protocol/paths.js';

/**
 * The message format between security servers. A message travels as one HTTP/1.1 exchange
 * over mutually authenticated TLS (POST /camdx/v1/message; the response is the answer):
 *
 *   headers   Content-Type        application/octet-stream
 *             Trailer             the three trailer names below
 *             X-CamDX-Head        the request line and end-to-end headers (or status and
 *                                 headers), base64url JSON — what the other side replays
 *             X-CamDX-Salt        16 random bytes (base64), announced before the body so the
 *                                 receiver digests the body as it streams; signed in the manifest
 *             X-CamDX-Ocsp-Sign   OCSP response for the signing certificate (DER, base64)
 *             X-CamDX-Ocsp-Auth   OCSP response for the sender's TLS certificate (requests)
 *             X-CamDX-Client      unsigned routing hints (requests): the client, the service
 *             X-CamDX-Service     and the message id, for the receiver's log and errors
 *             X-CamDX-Id          before the signature arrives; checked against the manifest
 *   body      the payload, streamed unchanged
 *   trailers  X-CamDX-Manifest    ids, parties, the salt, salted SHA-512 digests of the head
 *                                 and of the body, and (responses) the request's hash
 *             X-CamDX-Hash-Chain  the manifest's path to the batch's Merkle root
 *             X-CamDX-Signature   the signature document over that root (xmldsig.ts), base64
 *
 * The digests are known only when the body has passed, so they travel as trailers; the sender
 * never holds the body, and the receiver keeps it (spooled) until everything has verified.
 * An error answer carries none of these: it is an X-Road error body with `X-Road-Error`.
 * codec.ts writes and reads all of it.
 */
export const H = {
  head: 'x-camdx-head',
  salt: 'x-camdx-salt',
  ocspSign: 'x-camdx-ocsp-sign',
  ocspAuth: 'x-camdx-ocsp-auth',
  manifest: 'x-camdx-manifest',
  chain: 'x-camdx-hash-chain',
  signature: 'x-camdx-signature',
  /** Unsigned routing hints, checked against the manifest once it arrives. */
  client: 'x-camdx-client',
  service: 'x-camdx-service',
  id: 'x-camdx-id',
} as const;

export const MESSAGE_PATH = '/camdx/v1/message';
export const TRAILERS = [H.manifest, H.chain, H.signature].join(', ');

/**
 * The one rule set for headers at the edges. A gateway takes no header from an information
 * system (IS) that describes a connection or framing (RFC 9110 §7.6.1), names a host (the
 * "filtered headers" of the X-Road REST protocol, §4.3), is ours (`X-CamDX-*`), or is an X-Road
 * header a gateway sets itself. A peer's head holding any of them is not a message a gateway
 * makes: `checkPeerHeaders` refuses it rather than passing it on. Everything else — X-Road-UserId,
 * -Issue, -Represented-Party and user-defined headers — passes unchanged.
 */
const FRAMING = new Set(['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'content-length', 'expect']);
const ORIGIN_HOST = new Set(['host', 'user-agent', 'server']);
const SET_BY_GATEWAYS = new Set(['x-road-client', 'x-road-service', 'x-road-id', 'x-road-request-id', 'x-road-request-hash', 'x-road-security-server', 'x-road-error']);
/** Sent at most once: with two, the IS and a gateway could each read a different one. */
const SINGLE = new Set(['content-type', 'content-length', 'authorization', 'host']);
/** RFC 9110 token, and the value characters Node will write. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

export const isFilteredHeader = (lowerName: string): boolean =>
  FRAMING.has(lowerName) || ORIGIN_HOST.has(lowerName) || SET_BY_GATEWAYS.has(lowerName) || lowerName.startsWith('proxy-') || lowerName.startsWith('x-camdx-');

/** A header rule broken; the caller names the X-Road error, which depends on who sent it. */
export class HeaderError extends CamdxError<'HeaderRule'> {
  constructor(message: string, field?: string) {
    super('HeaderRule', message, field === undefined ? {} : { field });
  }
}

function checkSingle(pairs: ReadonlyArray<readonly [string, string]>): void {
  const seen = new Set<string>();
  for (const [name] of pairs) {
    const lower = name.toLowerCase();
    if (!SINGLE.has(lower)) continue;
    if (seen.has(lower)) throw new HeaderError(`${name} was sent more than once; send it at most once`);
    seen.add(lower);
  }
}

const pairsOf = (raw: readonly string[]): Array<[string, string]> => {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
};

/**
 * The headers of an IS's request or response that travel on, from Node's rawHeaders (order and
 * case kept): filtered headers and those `Connection` lists are dropped; a repeated
 * single header is a HeaderError.
 */
export function endToEndHeaders(raw: readonly string[]): Array<[string, string]> {
  const pairs = pairsOf(raw);
  checkSingle(pairs);
  const listed = new Set<string>();
  for (const [name, value] of pairs) if (name.toLowerCase() === 'connection') value.split(',').forEach((t) => listed.add(t.trim().toLowerCase()));
  return pairs.filter(([name]) => !isFilteredHeader(name.toLowerCase()) && !listed.has(name.toLowerCase()));
}

/** A peer's head must hold only what `endToEndHeaders` lets through, each single header once. */
export function checkPeerHeaders(headers: ReadonlyArray<readonly [string, string]>): void {
  for (const [name, value] of headers) {
    if (!HEADER_NAME.test(name) || !HEADER_VALUE.test(value)) throw new HeaderError('a header name or value has characters HTTP does not allow');
    if (isFilteredHeader(name.toLowerCase())) throw new HeaderError(`it carries ${name}, which only a gateway or the connection itself may set`);
  }
  checkSingle(headers);
}

export interface RequestHead {
  readonly method: string;
  /** The path after the service code, as received (percent-escapes kept). */
  readonly path: string;
  /** The raw query string without '?', or ''. */
  readonly query: string;
  readonly headers: ReadonlyArray<[string, string]>;
}

export interface ResponseHead {
  readonly status: number;
  readonly headers: ReadonlyArray<[string, string]>;
}

/** What a message head may carry. The consumer checks a client's request against these before signing (consumer/limits.ts). */
export { HEAD_LIMITS };

export const encodeHead = (head: RequestHead | ResponseHead): string => Buffer.from(JSON.stringify(head)).toString('base64url');

/** A part of a peer's message missing or malformed; `field` names the header or trailer. */
export class MessageFormatError extends CamdxError<'MessageFormat'> {
  constructor(message: string, field?: string) {
    super('MessageFormat', message, field === undefined ? {} : { field });
  }
}

function decodeJson(text: string | undefined, what: string, field: string): unknown {
  if (!text || !/^[A-Za-z0-9_-]+$/.test(text)) throw new MessageFormatError(`${what} is missing or not base64url`, field);
  try {
    return JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw new MessageFormatError(`${what} is not JSON`, field);
  }
}

/**
 * A message head that breaks the header or path rules although it is well-formed JSON: a
 * gateway never makes one, so the peer is modified or broken, whatever its signature says.
 * X-Road's invalid_message; the side is the one of whoever caught it, unless `side` is given.
 */
function invalidMessage(what: string, reason: string, side: ErrorSide | undefined): CamdxError {
  const message = `the ${what} from the other security server is refused: ${reason}`;
  return side ? new XRoadError(side, 'InvalidMessage', message, { field: H.head }) : new CamdxError('InvalidMessage', message, { field: H.head });
}

/** A peer's request head. Malformed JSON is a MessageFormatError; a well-formed head that breaks the rules is `InvalidMessage`. */
export function decodeRequestHead(text: string | undefined, side?: ErrorSide): { head: RequestHead; bytes: Buffer } {
  const head = decodeJson(text, 'the request head', H.head);
  if (!isRequestHead(head)) throw new MessageFormatError('the request head is malformed', H.head);
  try {
    checkPeerHeaders(head.headers);
    normaliseRequestPath(head.path);
    checkQuery(head.query);
  } catch (err) {
    if (err instanceof HeaderError || err instanceof PathError) throw invalidMessage('request', err.message, side);
    throw err;
  }
  return { head, bytes: Buffer.from(text!, 'base64url') };
}

/** A peer's response head: the header rules, and a final status 200–599. */
export function decodeResponseHead(text: string | undefined, side?: ErrorSide): { head: ResponseHead; bytes: Buffer } {
  const head = decodeJson(text, 'the response head', H.head);
  if (!isResponseHead(head)) throw new MessageFormatError('the response head is malformed', H.head);
  if (head.status < 200 || head.status > 599) throw invalidMessage('response', `status ${head.status} is not a final HTTP status (200-599)`, side);
  try {
    checkPeerHeaders(head.headers);
  } catch (err) {
    if (err instanceof HeaderError) throw invalidMessage('response', err.message, side);
    throw err;
  }
  return { head, bytes: Buffer.from(text!, 'base64url') };
}

/** What a signature commits to for one message. Digests only: never header values or bodies. */
export interface Manifest {
  readonly v: 1;
  readonly type: 'request' | 'response';
  /** X-Road-Id: the message id chosen by the client (or the consumer gateway). */
  readonly id: string;
  /** X-Road-Request-Id: unique per exchange, chosen by the consumer gateway. */
  readonly requestId: string;
  readonly client: string;
  readonly service: string;
  readonly signedAt: string;
  /** Random per message, so a logged digest of a short body cannot be matched by precomputed guesses. */
  readonly salt: string;
  readonly headDigest: string;
  readonly bodyDigest: string;
  readonly bodyBytes: number;
  /** Responses: base64 of the request's leaf hash, binding the answer to its question. */
  readonly requestHash?: string;
}

export function decodeManifest(text: string | undefined): { manifest: Manifest; bytes: Buffer } {
  const manifest = decodeJson(text, 'the manifest', H.manifest);
  if (!isManifest(manifest)) throw new MessageFormatError('the manifest is malformed', H.manifest);
  return { manifest, bytes: Buffer.from(text!, 'base64url') };
}

export function encodeManifest(manifest: Manifest): { text: string; bytes: Buffer } {
  const bytes = Buffer.from(JSON.stringify(manifest));
  return { text: bytes.toString('base64url'), bytes };
}

// Salts come from a pool refilled 256 at a time: one CSPRNG call instead of one per message.
let saltPool = Buffer.alloc(0);
let saltOffset = 0;
export const newSalt = (): Buffer => {
  if (saltOffset + 16 > saltPool.length) {
    saltPool = randomBytes(4096);
    saltOffset = 0;
  }
  saltOffset += 16;
  return Buffer.from(saltPool.subarray(saltOffset - 16, saltOffset));
};

export { manifestLeaf, SaltedDigest, saltedDigest };
