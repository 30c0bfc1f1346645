import http, { type ClientRequest, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { CamdxError } from '../../protocol/errors.js';
import type { ServiceTls } from '../config.js';
import type { RequestHead } from '../message/format.js';

/** The provider's information system was not reached, or did not answer within its timeout (`timedOut`). */
export class ServiceUnreachable extends CamdxError<'ServiceUnreachable'> {
  constructor(
    message: string,
    readonly timedOut: boolean,
  ) {
    super('ServiceUnreachable', message);
  }
}

const keepAlive = { http: new http.Agent({ keepAlive: true, maxSockets: 256 }), https: new https.Agent({ keepAlive: true, maxSockets: 256 }) };

/** Where a service's provider system is, and how its https certificate is checked (`services.<id>` in gateway.yaml). */
export interface ServiceTarget {
  readonly url: string;
  readonly tls?: ServiceTls;
}

/**
 * An https system's own CA, or no verification, as options of its request: Node's agent keys
 * its pooled connections by them, so services with different settings never share one.
 */
function tlsOptionsOf(tls: ServiceTls | undefined): https.RequestOptions {
  if (!tls || (tls.verify && !tls.ca)) return {};
  return tls.verify ? { ca: tls.ca! } : { rejectUnauthorized: false };
}

/** OpenSSL's and Node's codes for a certificate the client refused: said as such, so an operator knows to set `tls`. */
const REFUSED_CERTIFICATE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/;

/**
 * Calls the provider's information system at `service` (a base URL, or one with its TLS
 * verification) with the verified request. The response must be digested and signed as it
 * streams back, which is why this is a plain request rather than http-proxy-middleware: a
 * proxy would write the answer straight to the consumer.
 *
 * `body` is called once per attempt, so the spooled request can be sent again. It is sent again
 * only in the one case where the service cannot have seen it: a pooled keep-alive connection the
 * service closed as idle just as the request went out (reset or hang-up on a reused socket
 * before any byte of an answer). Node's own documentation gives this retry for that race.
 */
export async function callService(
  service: string | ServiceTarget,
  head: RequestHead,
  path: string,
  xroadHeaders: Array<[string, string]>,
  body: () => Readable | Buffer,
  length: number,
  timeoutMs: number,
  /** Given a handle on the call, so the caller can end it when its own caller leaves. */
  started: (call: { destroy(): void }) => void = () => undefined,
): Promise<IncomingMessage> {
  const target: ServiceTarget = typeof service === 'string' ? { url: service } : service;
  const deadline = Date.now() + timeoutMs;
  let current: ClientRequest | undefined;
  let ended = false;
  started({
    destroy: () => {
      ended = true;
      current?.destroy();
    },
  });
  const track = (req: ClientRequest) => {
    current = req;
    if (ended) req.destroy();
  };
  try {
    return await attempt(target, head, path, xroadHeaders, body(), length, timeoutMs, track);
  } catch (err) {
    if (!(err instanceof StaleConnection) || ended) throw err;
    return attempt(target, head, path, xroadHeaders, body(), length, Math.max(1, deadline - Date.now()), track, true);
  }
}

/** A pooled connection the service had closed while idle: the request never reached it. */
class StaleConnection extends ServiceUnreachable {}

function attempt(
  service: ServiceTarget,
  head: RequestHead,
  path: string,
  xroadHeaders: Array<[string, string]>,
  body: Readable | Buffer,
  length: number,
  timeoutMs: number,
  started: (req: ClientRequest) => void,
  fresh = false,
): Promise<IncomingMessage> {
  const base = new URL(service.url);
  const target = `${base.pathname.replace(/\/+$/, '')}${path}${head.query ? `?${head.query}` : ''}` || '/';
  const transport = base.protocol === 'https:' ? https : http;
  const headers = [...head.headers, ...xroadHeaders, ['Host', base.host], ['Content-Length', String(length)]] as Array<[string, string]>;
  return new Promise((resolve, reject) => {
    const req = transport.request({
      protocol: base.protocol,
      host: base.hostname,
      port: base.port,
      method: head.method,
      path: target,
      headers: headers.flat() as unknown as http.OutgoingHttpHeaders,
      // The retry takes a connection of its own: the pool may hold more connections the service closed.
      ...(base.protocol === 'https:' ? tlsOptionsOf(service.tls) : {}),
      agent: fresh ? false : base.protocol === 'https:' ? keepAlive.https : keepAlive.http,
    });
    started(req);
    const timer = setTimeout(() => req.destroy(new ServiceUnreachable(`the service did not answer within ${timeoutMs} ms`, true)), timeoutMs);
    req.once('response', (res) => {
      clearTimeout(timer);
      resolve(res);
    });
    req.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (!Buffer.isBuffer(body)) body.destroy();
      if (err instanceof ServiceUnreachable) return reject(err);
      const stale = req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE');
      const message = REFUSED_CERTIFICATE.test(err.code ?? '')
        ? `the service's TLS certificate is refused: ${err.message} (${err.code}); its tls setting (a caFile, or verify: false) says how it is checked`
        : `the service is unreachable: ${err.message}`;
      reject(stale ? new StaleConnection(message, false) : new ServiceUnreachable(message, false));
    });
    if (Buffer.isBuffer(body)) req.end(body);
    else {
      body.once('error', (err) => req.destroy(err));
      body.pipe(req);
    }
  });
}
