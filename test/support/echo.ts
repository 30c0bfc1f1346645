import { createServer, type Server } from 'node:http';
import { close, listen } from '../../common/http.js';

export interface EchoCall {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly rawHeaders: string[];
  readonly bodyBytes: number;
}

export interface EchoService {
  readonly url: string;
  readonly calls: EchoCall[];
  close(): Promise<void>;
}

/**
 * A provider information system for tests: answers with the request body, status 200 (or the
 * status asked for in `x-echo-status`), and headers describing what it received, and counts
 * every call. Bodies larger than 64 KiB are counted, not kept.
 */
export async function startEcho(): Promise<EchoService> {
  const calls: EchoCall[] = [];
  const server: Server = createServer((req, res) => {
    let bytes = 0;
    const keep: Buffer[] = [];
    req.on('data', (d: Buffer) => {
      bytes += d.length;
      if (bytes <= 64 * 1024) keep.push(d);
    });
    req.on('end', () => {
      calls.push({ method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders, bodyBytes: bytes });
      const status = Number(req.headers['x-echo-status'] ?? 200);
      const body = bytes <= 64 * 1024 ? Buffer.concat(keep) : Buffer.from(JSON.stringify({ bytes }));
      res.writeHead(status, [
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
  });
  const port = await listen(server, 0, '127.0.0.1');
  return { url: `http://127.0.0.1:${port}`, calls, close: () => close(server) };
}
