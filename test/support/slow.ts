import net from 'node:net';
import tls from 'node:tls';

/** Where a slow client connects: plain TCP, or TLS with the options given (a client certificate, say). */
export type Endpoint = { readonly port: number; readonly tls?: tls.ConnectionOptions };

export interface Cut {
  /** Milliseconds from the connection being ready to the server closing it; Infinity if it never did within the bound. */
  readonly afterMs: number;
  /** When the connection closed (ms since the epoch). */
  readonly at: number;
  /** What the server wrote before closing. */
  readonly answer: string;
}

function connect(e: Endpoint): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = e.tls ? tls.connect({ host: '127.0.0.1', port: e.port, rejectUnauthorized: false, ...e.tls }, () => resolve(socket)) : net.connect(e.port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves when the server ends the connection, or after `boundMs` (then the client hangs up itself). */
function untilCut(socket: net.Socket, started: number, boundMs: number, onGiveUp: () => void): Promise<Cut> {
  let answer = '';
  socket.on('data', (d: Buffer) => (answer += d.toString()));
  socket.on('error', () => undefined);
  return new Promise((resolve) => {
    const bound = setTimeout(() => {
      onGiveUp();
      socket.destroy();
      resolve({ afterMs: Infinity, at: Date.now(), answer });
    }, boundMs);
    socket.once('close', () => {
      clearTimeout(bound);
      onGiveUp();
      resolve({ afterMs: Date.now() - started, at: Date.now(), answer });
    });
  });
}

/**
 * A slowloris client: a request line, then one header byte every `everyMs`, never finishing the
 * headers. Each byte resets an idle timeout, so only a headers timeout ends it.
 */
export async function slowHeaders(e: Endpoint, o: { everyMs?: number; boundMs: number }): Promise<Cut> {
  const socket = await connect(e);
  const started = Date.now();
  socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
  const drip = setInterval(() => socket.writable && socket.write('a'), o.everyMs ?? 100);
  return untilCut(socket, started, o.boundMs, () => clearInterval(drip));
}

/** An upload that sends its head and the first `sentBytes` of a `Content-Length` body, then nothing. */
export async function stalledUpload(e: Endpoint, head: string, o: { bodyBytes: number; sentBytes: number; boundMs: number }): Promise<Cut> {
  const socket = await connect(e);
  const started = Date.now();
  socket.write(`${head}Content-Length: ${o.bodyBytes}\r\n\r\n${'x'.repeat(o.sentBytes)}`);
  return untilCut(socket, started, o.boundMs, () => undefined);
}

/** The status and `X-Road-Error` of a raw HTTP answer. */
export function statusOf(answer: string): { status: number; xroadError: string | undefined } {
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0), xroadError: /\r\nX-Road-Error: ([^\r]+)/i.exec(answer)?.[1] };
}
