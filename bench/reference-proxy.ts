import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { pipeline } from 'node:stream';
import { readKeystore } from '../certs/pkcs12.js';
import { listen } from '../common/http.js';

/**
 * The benchmark's reference: what the gateway pair adds over bare transport. Two minimal
 * proxies in a chain — `front` takes plain HTTP and forwards over mutual TLS, `back` takes
 * mutual TLS and forwards plain HTTP — with the gateways' own keys (same key type) and
 * keep-alive pools of the gateways' size. Bodies stream through untouched; nothing is signed,
 * checked or logged.
 */
export interface ReferenceProxyOptions {
  readonly role: 'front' | 'back';
  readonly port: number;
  /** Where to forward (`https://…` for front, `http://…` for back). */
  readonly target: string;
  /** PKCS#12 keystore with the TLS key and chain, and its password file. */
  readonly keystore: string;
  /** PEM file of the CAs that issued the other side's certificate. */
  readonly ca: string;
  readonly maxSockets: number;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer', 'host']);

function forwardHeaders(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => !HOP_BY_HOP.has(k)));
}

export async function startReferenceProxy(o: ReferenceProxyOptions): Promise<{ port: number; close(): void }> {
  const ks = readKeystore(readFileSync(o.keystore), readFileSync(`${o.keystore}.password`, 'utf8').trim());
  const tlsIdentity = {
    key: ks.privateKey!.export({ type: 'pkcs8', format: 'pem' }) as string,
    cert: ks.certificates.map((c) => c.toString()).join(''),
    ca: readFileSync(o.ca, 'utf8'),
    minVersion: 'TLSv1.2' as const,
  };
  const target = new URL(o.target);
  const agent =
    target.protocol === 'https:'
      ? new https.Agent({ ...tlsIdentity, keepAlive: true, maxSockets: o.maxSockets, checkServerIdentity: () => undefined })
      : new http.Agent({ keepAlive: true, maxSockets: o.maxSockets });
  const transport = target.protocol === 'https:' ? https : http;

  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const upstream = transport.request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: forwardHeaders(req.headers), agent }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, forwardHeaders(answer.headers));
      pipeline(answer, res, () => undefined);
    });
    upstream.setNoDelay(true);
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    // Either side hanging up ends the other; a proxy this small must still not crash on it.
    pipeline(req, upstream, () => undefined);
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
  };
  const server =
    o.role === 'back'
      ? https.createServer({ ...tlsIdentity, requestCert: true, rejectUnauthorized: true, keepAliveTimeout: 60_000, noDelay: true }, handler)
      : http.createServer({ keepAliveTimeout: 60_000, noDelay: true }, handler);
  const port = await listen(server, o.port, '127.0.0.1');
  return { port, close: () => server.close() };
}
