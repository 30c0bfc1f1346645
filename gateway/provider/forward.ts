import http, { type ClientRequest, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import type { RequestHead } from '../message/format.js';

export class ServiceUnreachable extends Error {
  constructor(
    message: string,
    readonly timedOut: boolean,
  ) {
    super(message);
  }
}

const keepAlive = { http: new http.Agent({ keepAlive: true, maxSockets: 256 }), https: new https.Agent({ keepAlive: true, maxSockets: 256 }) };

/**
 * Calls the provider's information system at `baseUrl` with the verified request. The response
 * must be digested and signed as it streams back, which is why this is a plain request rather
 * than http-proxy-middleware: a proxy would write the answer straight to the consumer.
 */
export function callService(
  baseUrl: string,
  head: RequestHead,
  path: string,
  xroadHeaders: Array<[string, string]>,
  body: Readable | Buffer,
  length: number,
  timeoutMs: number,
  /** Given the request to the service, so the caller can end it when its own caller leaves. */
  started: (req: ClientRequest) => void = () => undefined,
): Promise<IncomingMessage> {
  const base = new URL(baseUrl);
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
      agent: base.protocol === 'https:' ? keepAlive.https : keepAlive.http,
    });
    started(req);
    const timer = setTimeout(() => req.destroy(new ServiceUnreachable(`the service did not answer within ${timeoutMs} ms`, true)), timeoutMs);
    req.once('response', (res) => {
      clearTimeout(timer);
      resolve(res);
    });
    req.once('error', (err) => {
      clearTimeout(timer);
      reject(err instanceof ServiceUnreachable ? err : new ServiceUnreachable(`the service is unreachable: ${err.message}`, false));
    });
    if (Buffer.isBuffer(body)) req.end(body);
    else {
      body.once('error', (err) => req.destroy(err));
      body.pipe(req);
    }
  });
}
