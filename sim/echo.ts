import { createServer, type IncomingMessage, type Server } from 'node:http';
import { limitConnections, listenerOptions } from '../common/listen.js';

export interface EchoRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly rawHeaders: string[];
  readonly bodyBytes: number;
}

/**
 * A small provider information system for trying services through gateways: it answers with
 * the body it received (status 200, or the one asked for in `x-echo-status`) and headers that
 * describe the request. Bodies over `keepBytes` are counted, not kept, and answered with
 * `{"bytes": N}` — so gigabyte transfers cost it no memory.
 */
export function createEchoServer(onRequest?: (r: EchoRequest) => void, keepBytes = 64 * 1024): Server {
  return limitConnections(
    createServer(listenerOptions(), (req, res) => {
      let bytes = 0;
      const keep: Buffer[] = [];
      req.on('data', (d: Buffer) => {
        bytes += d.length;
        if (bytes <= keepBytes) keep.push(d);
      });
      req.on('end', () => {
        onRequest?.({ method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders, bodyBytes: bytes });
        const status = Number(req.headers['x-echo-status'] ?? 200);
        const body = bytes <= keepBytes ? Buffer.concat(keep) : Buffer.from(JSON.stringify({ bytes }));
        res.writeHead(Number.isInteger(status) && status >= 200 && status <= 599 ? status : 200, [
          'Content-Type',
          String(req.headers['content-type'] ?? 'application/octet-stream'),
          'X-Echo-Method',
          req.method!,
          'X-Echo-Url',
          req.url!,
          'X-Echo-Client',
          String(req.headers['x-road-client'] ?? ''),
          'X-Echo-Bytes',
          String(bytes),
          'X-Multi',
          'one',
          'X-Multi',
          'two',
          'Set-Cookie',
          'a=1; Path=/',
          'Content-Length',
          String(body.length),
        ]);
        res.end(body);
      });
    }),
  );
}

/** What `camdx echo` answers: the request as it arrived, for a person reading a curl's output. */
export interface EchoDescription {
  readonly method: string;
  /** The request target as received (path and query, not normalised). */
  readonly path: string;
  /** Node's lower-case header names; repeated headers joined as Node joins them. */
  readonly headers: IncomingMessage['headers'];
  readonly bodyBytes: number;
}

/**
 * The stand-in API of `camdx echo`: answers every request with JSON describing it, so the
 * walk-through shows what a provider's system receives through the gateways (which headers
 * travel, what path). The body is counted, never kept.
 */
export function createJsonEchoServer(): Server {
  return limitConnections(
    createServer(listenerOptions(), (req, res) => {
      let bodyBytes = 0;
      req.on('data', (d: Buffer) => (bodyBytes += d.length));
      req.on('end', () => {
        const description: EchoDescription = { method: req.method!, path: req.url!, headers: req.headers, bodyBytes };
        const text = `${JSON.stringify(description)}\n`;
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      });
    }),
  );
}
