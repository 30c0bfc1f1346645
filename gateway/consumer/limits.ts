import type { IncomingMessage } from 'node:http';
import { XRoadError } from '../../protocol/errors.js';
import { HEAD_LIMITS } from '../message/format.js';

/**
 * What a client request must fit for the provider's gateway to accept the message made of it.
 * The consumer checks all of it before anything is signed or sent, and answers the client's
 * mistake as its own `Client.*` error naming the limit — instead of forwarding a message the
 * provider refuses as a server fault. The head bounds are the wire format's (HEAD_LIMITS in
 * message/format.ts); the head size bound is `limits.maxHeaderBytes`, which both gateways of an
 * instance run with.
 */
export { HEAD_LIMITS };

/** What Node adds to the head of a message to the provider, besides the headers we give it (request line, Host, Connection, Transfer-Encoding), with room to spare. */
const FRAMING_ALLOWANCE = 512;

const refuse = (code: 'InvalidRequest' | 'InvalidHttpHeader', message: string) => new XRoadError('Client', code, message);

/** Method, path, query and end-to-end headers of a service call, against HEAD_LIMITS. */
export function checkCarriable(method: string, path: string, query: string, endToEnd: ReadonlyArray<readonly [string, string]>): void {
  if (!HEAD_LIMITS.method.test(method)) throw refuse('InvalidRequest', `method ${method.slice(0, 20)} cannot be carried: security servers exchange methods of 1-16 upper-case letters`);
  if (path.length > HEAD_LIMITS.pathChars) throw refuse('InvalidRequest', `the path after the service code is ${path.length} characters; security servers carry at most ${HEAD_LIMITS.pathChars}`);
  if (query.length > HEAD_LIMITS.queryChars) throw refuse('InvalidRequest', `the query is ${query.length} characters; security servers carry at most ${HEAD_LIMITS.queryChars}`);
  if (endToEnd.length > HEAD_LIMITS.headers) throw refuse('InvalidHttpHeader', `${endToEnd.length} headers would travel to the provider; security servers carry at most ${HEAD_LIMITS.headers}`);
  for (const [name, value] of endToEnd) {
    if (name.length > HEAD_LIMITS.nameChars) throw refuse('InvalidHttpHeader', `a header name is ${name.length} characters; security servers carry at most ${HEAD_LIMITS.nameChars}`);
    if (value.length > HEAD_LIMITS.valueChars)
      throw refuse('InvalidHttpHeader', `header ${name.slice(0, 64)} has a value of ${value.length} characters; security servers carry at most ${HEAD_LIMITS.valueChars} per value`);
  }
}

/**
 * The head of the message to the provider — the client's head base64url-encoded (a third
 * larger) plus our OCSP responses — must fit the provider's `maxHeaderBytes`, or its Node
 * parser answers 431 to a message already signed.
 */
export function checkPeerHeadSize(headers: Readonly<Record<string, string>>, maxHeaderBytes: number): void {
  let bytes = FRAMING_ALLOWANCE;
  for (const [name, value] of Object.entries(headers)) bytes += name.length + value.length + 4;
  if (bytes > maxHeaderBytes) {
    throw refuse(
      'InvalidHttpHeader',
      `the request headers are too large to carry: encoded for the provider's security server they come to ${bytes} bytes, over ${maxHeaderBytes} (limits.maxHeaderBytes); send about a third less`,
    );
  }
}

/** A declared Content-Length over the limit is refused from the header, before any of the body is read. */
export function checkDeclaredLength(req: IncomingMessage, maxBodyBytes: number): void {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBodyBytes) throw new XRoadError('Client', 'MaxRequestSizeExceeded', `the request body is declared as ${declared} bytes, over ${maxBodyBytes} (limits.maxBodyBytes)`);
}

/** A refused request's unread body is drained (keeping the connection) only when it is declared this small; otherwise the connection closes. */
const DRAIN_AT_MOST_BYTES = 64 * 1024;

/** Whether the rest of a refused request's body should be read to keep its connection: a short declared body; never an undeclared (chunked) one. */
export function worthDraining(req: IncomingMessage): boolean {
  if (req.readableEnded) return true;
  const declared = req.headers['content-length'];
  return declared !== undefined && Number(declared) <= DRAIN_AT_MOST_BYTES;
}
