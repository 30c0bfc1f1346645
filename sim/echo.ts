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
  return limitConnections(createServer(listenerOptions(), (req, res) => {
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
        'Content-Type', String(req.headers['content-type'] ?? 'application/octet-stream'),
        'X-Echo-Method', req.method!,
        'X-Echo-Url', req.url!,
        'X-Echo-Client', String(req.headers['x-road-client'] ?? ''),
        'X-Echo-Bytes', String(bytes),
        'X-Multi', 'one',
        'X-Multi', 'two',
        'Set-Cookie', 'a=1; Path=/',
        'Content-Length', String(body.length),
      ]);
      res.end(body);
    });
  }));
}
