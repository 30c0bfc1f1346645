import type { Server as NetServer } from 'node:net';

/**
 * The limits every HTTP(S) listener of the project runs with, so that a client that connects and
 * then sends its headers or its body slowly (or never) is cut off instead of holding a socket,
 * a file descriptor and a handler for ever. Node's defaults are not enough: it checks the
 * timeouts only every 30 s, and a server created with `requestTimeout: 0` never ends a stalled
 * upload.
 */
export interface ListenerLimits {
  /** The request line and headers must arrive within this time of the connection (or of the previous request). */
  readonly headersTimeoutMs: number;
  /** The whole request, body included, must arrive within this time. */
  readonly requestTimeoutMs: number;
  /** Connections held at once; more are closed as they arrive. */
  readonly maxConnections: number;
}

/** For the listeners that have no configuration of their own (central, PKI, CamDigiKey, MOI, Demo Bank, echo). */
export const LISTENER_LIMITS: ListenerLimits = { headersTimeoutMs: 10_000, requestTimeoutMs: 120_000, maxConnections: 1024 };

/**
 * How often Node looks for connections past their deadline: at most half a second, so a client
 * is cut within `headersTimeoutMs` + 0.5 s, and often enough for short (test) limits.
 */
export function checkingIntervalMs(limits: Pick<ListenerLimits, 'headersTimeoutMs' | 'requestTimeoutMs'>): number {
  return Math.max(25, Math.min(500, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 4)));
}

/**
 * Options for `http.createServer` / `https.createServer`. The TLS handshake gets the headers'
 * time too (a client that never finishes it would otherwise wait out Node's 120 s).
 */
export function listenerOptions(limits: ListenerLimits = LISTENER_LIMITS): { headersTimeout: number; requestTimeout: number; connectionsCheckingInterval: number; handshakeTimeout: number } {
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) throw new RangeError('headersTimeoutMs must not exceed requestTimeoutMs');
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: checkingIntervalMs(limits),
    handshakeTimeout: limits.headersTimeoutMs,
  };
}

/** A server created with `listenerOptions`, capped to `maxConnections`. */
export function limitConnections<S extends NetServer>(server: S, limits: ListenerLimits = LISTENER_LIMITS): S {
  server.maxConnections = limits.maxConnections;
  return server;
}
