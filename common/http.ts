import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Starts listening and resolves with the bound port (port 0 picks a free one). */
export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Stops accepting, ends idle keep-alive sockets, and resolves once the server has closed. */
export function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}

/** `http://host:port` with IPv6 hosts bracketed. */
export function baseUrl(host: string, port: number, scheme = 'http'): string {
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * One POST with node:http(s), for command-line clients: unlike fetch it reaches any port (fetch
 * refuses a list of "bad ports", 1 among them) and its errors carry the code and address a
 * person needs (`ECONNREFUSED 127.0.0.1:4100`), which `describeNetworkError` prints.
 */
export function postBuffer(url: string, headers: Record<string, string>, body: Uint8Array, timeoutMs = 30_000): Promise<{ status: number; text: string }> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(target, { method: 'POST', headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(body);
  });
}

/** `ECONNREFUSED 127.0.0.1:4100` for a socket error, else its message. */
export function describeNetworkError(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (!e.code) return (err as Error).message;
  return e.address ? `${e.code} ${e.address}${e.port ? `:${e.port}` : ''}` : e.code;
}

/** A GET answer, read whole (within `maxBodyBytes`). */
export interface GetAnswer {
  readonly status: number;
  readonly text: string;
  /** The body's bytes as they came (`text` is their lenient UTF-8 reading). */
  readonly body: Buffer;
}

/**
 * One bounded GET with node:http(s), for pollers (central's monitor): like postBuffer it reaches
 * any port, where fetch refuses WHATWG "bad ports" (10080 among them: DEMOBANK's admin port at
 * `--port-offset 1000`). Redirects are not followed; the whole exchange is bounded by `timeoutMs`
 * (an error named TimeoutError, code ETIMEDOUT) and the body by `maxBodyBytes` (an error named TooLargeError);
 * `signal` aborts it (an AbortError). `checkHead` may refuse an answer from its status and headers
 * before its body is read (its error is the one thrown).
 */
export function getText(
  url: string,
  o: { timeoutMs: number; maxBodyBytes: number; headers?: Record<string, string>; signal?: AbortSignal; checkHead?: (res: IncomingMessage) => Error | undefined },
): Promise<GetAnswer> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    let settled = false;
    // The first outcome wins: destroying the request also errors the response, with a vaguer reason.
    const settle = (err: Error | undefined, answer?: GetAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        req.destroy();
        reject(err);
      } else resolve(answer!);
    };
    const req = send(target, { method: 'GET', headers: o.headers ?? {}, ...(o.signal ? { signal: o.signal } : {}) }, (res) => {
      const refusal = o.checkHead?.(res);
      if (refusal) return settle(refusal);
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (d: Buffer) => {
        size += d.length;
        if (size > o.maxBodyBytes) return settle(Object.assign(new Error(`answer larger than ${o.maxBodyBytes} bytes`), { name: 'TooLargeError' }));
        chunks.push(d);
      });
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        settle(undefined, { status: res.statusCode ?? 0, text: body.toString('utf8'), body });
      });
      res.on('error', (err) => settle(err));
    });
    const timer = setTimeout(() => settle(Object.assign(new Error(`no answer within ${o.timeoutMs} ms`), { name: 'TimeoutError', code: 'ETIMEDOUT' })), o.timeoutMs);
    req.on('error', (err) => settle(err));
    req.end();
  });
}
