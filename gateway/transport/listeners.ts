import type { EventEmitter } from 'node:events';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { checkingIntervalMs, listenerOptions } from '../../common/listen.js';
import { XRoadError } from '../../protocol/errors.js';
import type { GatewayConfig } from '../config.js';

type Limits = GatewayConfig['limits'];

/**
 * The gateway's listeners: Node's HTTP limits from `limits:` (headers and request timeouts,
 * header size), and an X-Road error for what Node refuses before a handler runs — oversized or
 * malformed heads, and clients that do not finish their headers or their body in time.
 */
export function gatewayListenerOptions(limits: Limits, extraRequestMs = 0) {
  return {
    ...listenerOptions({ headersTimeoutMs: limits.headersTimeoutMs, requestTimeoutMs: limits.requestTimeoutMs + extraRequestMs, maxConnections: limits.maxConnections }),
    maxHeaderSize: limits.maxHeaderBytes,
    noDelay: true,
  };
}

/**
 * What the peer listener adds to `requestTimeoutMs`. A peer's upload is its client's upload
 * passed on: the consumer gateway must time its client out first and answer it `Timeout`, not
 * see its provider hang up mid-body. One checking interval of the consumer plus a second.
 */
export const peerRequestGraceMs = (limits: Limits) => 2 * checkingIntervalMs(limits) + 1000;

/** The error answered to a client whose request Node refused (`err` from 'clientError'). */
function refusal(err: Error & { code?: string }, side: 'consumer' | 'peer', limits: Limits, headersArrived: boolean): XRoadError {
  const who = side === 'consumer' ? 'Client' : 'Server.ServerProxy';
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return headersArrived
      ? new XRoadError(who, 'Timeout', `the request did not arrive in full within ${limits.requestTimeoutMs} ms (limits.requestTimeoutMs)`)
      : new XRoadError(who, 'Timeout', `the request headers did not arrive within ${limits.headersTimeoutMs} ms (limits.headersTimeoutMs)`);
  }
  if (err.code === 'HPE_HEADER_OVERFLOW')
    return new XRoadError(
      side === 'consumer' ? 'Client' : who,
      side === 'consumer' ? 'InvalidHttpHeader' : 'InvalidRequest',
      `the request headers are larger than this security server accepts (limits.maxHeaderBytes, ${limits.maxHeaderBytes} bytes)`,
    );
  // The client half-closed (FIN) before its body ended: it can send no more.
  if (err.code === 'HPE_INVALID_EOF_STATE') return new XRoadError(who, 'InvalidRequest', 'the connection was closed before the request body ended');
  // Node's parser refuses a second, differing Content-Length before any handler sees it.
  if (err.code === 'HPE_UNEXPECTED_CONTENT_LENGTH') {
    return new XRoadError(who, side === 'consumer' ? 'InvalidHttpHeader' : 'InvalidMessage', 'Content-Length was sent more than once; send it exactly once');
  }
  return new XRoadError(who, 'InvalidRequest', 'the request is not valid HTTP');
}

/** The refusal written for a request whose handler was still running (a stalled or cut-off body), so its record says what the client was told. */
const answeredFor = new WeakMap<ServerResponse, XRoadError>();
export const refusalAnswered = (res: ServerResponse): XRoadError | undefined => answeredFor.get(res);

/**
 * Answers Node's refusals with an X-Road error and closes the connection. A handler may still
 * be running for a request whose body stalled: its answer is written here, on the raw socket,
 * as Node itself does, and the handler's own later attempt finds the socket gone (it reads what
 * was answered with `refusalAnswered`). A refusal no handler saw — a malformed or oversized
 * head — goes to `onUnhandled`, to be counted and recorded. `server` is an http or https server.
 */
export function answerRefusals(server: EventEmitter, side: 'consumer' | 'peer', limits: Limits, onUnhandled?: (error: XRoadError) => void): void {
  const answering = new WeakMap<Duplex, ServerResponse>();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    answering.set(req.socket, res);
    res.once('finish', () => answering.get(req.socket) === res && answering.delete(req.socket));
  });
  server.on('clientError', (err: Error & { code?: string }, socket: Duplex) => {
    const res = answering.get(socket);
    if (!socket.writable || res?.headersSent) {
      socket.destroy();
      return;
    }
    const error = refusal(err, side, limits, res !== undefined);
    if (res) answeredFor.set(res, error);
    else onUnhandled?.(error);
    // Closed once written: what the client still sends is not read, and a stalled body never ends.
    socket.end(refusalResponse(error, 'none'), () => socket.destroy());
    setTimeout(() => socket.destroy(), 1000).unref();
  });
}

/** An X-Road error as a whole HTTP response that closes its connection. */
function refusalResponse(error: XRoadError, detail: string): string {
  const body = JSON.stringify(error.toBody(detail));
  const head = [
    `HTTP/1.1 ${error.httpStatus} ${STATUS_CODES[error.httpStatus]}`,
    'Content-Type: application/json; charset=utf-8',
    `X-Road-Error: ${error.type}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
  ];
  return `${head.join('\r\n')}\r\n\r\n${body}`;
}

/** How long a refused upload's connection stays half-closed, unread, before it is destroyed. */
const LINGER_MS = 1000;

/**
 * Answers the refusal of a request whose client is still sending its body, and closes the
 * connection without reading the rest (neither drained nor waited for). It is destroyed a
 * moment after the answer, not at once: closing with unread data sends a reset, which can make
 * the client's system discard the answer before the client has read it.
 */
export function closeWithRefusal(socket: Duplex, error: XRoadError, detail: string): void {
  // Already answered and closed by the listener (a cut-off body), or gone.
  if (!socket.writable) return void socket.destroy();
  socket.pause();
  socket.end(refusalResponse(error, detail));
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}
