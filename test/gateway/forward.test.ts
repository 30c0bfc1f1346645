import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { callService, ServiceUnreachable } from '../../gateway/provider/forward.js';

/**
 * The service side of the keep-alive race: a pooled connection the service closes as idle just
 * as the gateway sends on it. Here the service drops a connection's second request unanswered,
 * which is what the gateway sees in that race.
 */
function service(mode: 'drop-reused' | 'drop-all') {
  const seen: string[] = [];
  const requestsOn = new WeakMap<Socket, number>();
  let connections = 0;
  const server = http.createServer((req, res) => {
    const n = (requestsOn.get(req.socket) ?? 0) + 1;
    requestsOn.set(req.socket, n);
    if (mode === 'drop-all' || n > 1) return req.socket.destroy();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push(Buffer.concat(chunks).toString());
      res.end('ok');
    });
  });
  server.on('connection', () => connections++);
  servers.push(server);
  return new Promise<{ url: string; seen: string[]; connections: () => number }>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, connections: () => connections })),
  );
}

const servers: http.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.closeAllConnections(), s.close();
});

const head = { method: 'POST', path: '/', query: '', headers: [['Content-Type', 'text/plain']] as Array<[string, string]> };
const call = (url: string, text: string, started?: (c: { destroy(): void }) => void) =>
  callService(url, head, '/', [], () => Readable.from([Buffer.from(text)]), Buffer.byteLength(text), 5_000, started);

describe('calling the service', () => {
  it('sends the request again, on a new connection, when the pooled one was closed by the service', async () => {
    const svc = await service('drop-reused');
    const first = await call(svc.url, 'first');
    first.resume();
    await new Promise((r) => first.once('end', r));
    const second = await call(svc.url, 'second body');
    expect(second.statusCode).toBe(200);
    second.resume();
    await new Promise((r) => second.once('end', r));
    expect(svc.seen).toEqual(['first', 'second body']);
    expect(svc.connections()).toBe(2);
  });

  it('does not send again when a new connection is dropped: the service may have seen it', async () => {
    const svc = await service('drop-all');
    await expect(call(svc.url, 'once')).rejects.toThrow(ServiceUnreachable);
    expect(svc.connections()).toBe(1);
  });

  it('does not send again once the caller has ended the call', async () => {
    const svc = await service('drop-reused');
    const first = await call(svc.url, 'first');
    first.resume();
    await new Promise((r) => first.once('end', r));
    let handle: { destroy(): void } | undefined;
    const pending = call(svc.url, 'second', (c) => (handle = c));
    handle!.destroy();
    await expect(pending).rejects.toThrow(ServiceUnreachable);
    expect(svc.seen).toEqual(['first']);
  });
});
