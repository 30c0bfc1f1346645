import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { HANG_MS } from './load.js';

/** What a raw request got: the first answer's status and X-Road type, or how the connection ended. */
export interface RawAnswer {
  readonly status: number | null;
  readonly type: string | null;
  /** The server closed (or reset) the connection without an answer. */
  readonly closed: boolean;
  readonly hang: boolean;
  readonly ms: number;
}

/** The status and X-Road-Error of the first HTTP answer in `text`, once its head is complete. */
export function parseAnswerHead(text: string): { status: number; type: string | null } | undefined {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const lines = text.slice(0, end).split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1];
  if (!status) return undefined;
  const type = lines.map((l) => /^x-road-error:\s*(.*)$/i.exec(l)?.[1]?.trim()).find((t) => t !== undefined) ?? null;
  return { status: Number(status), type };
}

/**
 * Writes `bytes` on a fresh connection and waits for the head of the answer, the connection's
 * end, or HANG_MS. An `incomplete` request is one the sender abandons: it hangs up after
 * `abandonMs` unless an answer came first.
 */
export function sendRaw(port: number, bytes: Buffer, o: { incomplete?: boolean; abandonMs?: number } = {}): Promise<RawAnswer> {
  const started = Date.now();
  return new Promise((resolve) => {
    let text = '';
    let done = false;
    const socket = net.connect(port, '127.0.0.1');
    const finish = (a: Omit<RawAnswer, 'ms'>) => {
      if (done) return;
      done = true;
      clearTimeout(hang);
      clearTimeout(abandon);
      socket.destroy();
      resolve({ ...a, ms: Date.now() - started });
    };
    const hang = setTimeout(() => finish({ status: null, type: null, closed: false, hang: true }), HANG_MS);
    const abandon = o.incomplete ? setTimeout(() => finish({ status: null, type: null, closed: false, hang: false }), o.abandonMs ?? 300) : undefined;
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      const head = parseAnswerHead(text);
      if (head) finish({ ...head, closed: false, hang: false });
    });
    socket.on('error', () => finish({ status: null, type: null, closed: true, hang: false }));
    socket.on('close', () => finish({ ...(parseAnswerHead(text) ?? { status: null, type: null }), closed: true, hang: false }));
  });
}

/** How a deliberately slow or hostile connection ended: cut by the server after `ms`, or still open at the bound. */
export interface Cut {
  readonly ms: number;
  readonly cut: boolean;
  /** Bytes the server wrote that start an HTTP answer with a 2xx status (it should never serve these). */
  readonly served: boolean;
}

function untilCut(socket: net.Socket, boundMs: number, started: number, onEnd: () => void = () => undefined): Promise<Cut> {
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  socket.on('error', () => undefined);
  return new Promise((resolve) => {
    const result = (cut: boolean) => ({ ms: Date.now() - started, cut, served: /^HTTP\/1\.[01] 2/.test(text) });
    const bound = setTimeout(() => {
      onEnd();
      socket.destroy();
      resolve(result(false));
    }, boundMs);
    socket.once('close', () => {
      clearTimeout(bound);
      onEnd();
      resolve(result(true));
    });
  });
}

/** Slowloris: a request line, then a header byte every 500 ms, never finishing. The server must cut it (headersTimeoutMs). */
export function slowHeaders(port: number, boundMs: number): Promise<Cut> {
  const started = Date.now();
  const socket = net.connect(port, '127.0.0.1', () => socket.write('POST /r1/CAMDX/GOV/MOI/KYC/kyc/x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: '));
  const drip = setInterval(() => socket.writable && socket.write('a'), 500);
  return untilCut(socket, boundMs, started, () => clearInterval(drip));
}

/** A self-signed client certificate from openssl (a Debian tool the tests use), or undefined without it. */
function selfSignedClient(): { key: string; cert: string } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'camdx-chaos-tls-'));
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=intruder', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(join(dir, 'k.pem'), 'utf8'), cert: readFileSync(join(dir, 'c.pem'), 'utf8') };
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const REQUEST = 'POST /message HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}';

export type HostileTls = { readonly name: string; open(port: number): net.Socket };

/**
 * Connections to a gateway's peer port that must all be refused: bytes that are not TLS, plain
 * HTTP, a TLS handshake without a client certificate or with a self-signed one, an old protocol
 * version, a handshake that stalls. Each then sends a message request, which must never be served.
 */
export function hostileTlsCases(): HostileTls[] {
  const intruder = selfSignedClient();
  const tlsOpen = (options: tls.ConnectionOptions) => (port: number) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options }, () => s.write(REQUEST));
    return s;
  };
  const tcp = (first: string | Buffer | undefined) => (port: number) => {
    const s = net.connect(port, '127.0.0.1', () => first !== undefined && s.write(first));
    return s;
  };
  return [
    { name: 'bytes that are not TLS', open: tcp(Buffer.from('\u0000\u00ff'.repeat(512), 'latin1')) },
    { name: 'plain HTTP on the TLS port', open: tcp(REQUEST) },
    { name: 'TLS without a client certificate', open: tlsOpen({}) },
    ...(intruder ? [{ name: 'TLS with a self-signed client certificate', open: tlsOpen(intruder) }] : []),
    { name: 'TLS 1.0', open: tlsOpen({ minVersion: 'TLSv1', maxVersion: 'TLSv1' }) },
    { name: 'a handshake that stalls (a partial ClientHello)', open: tcp(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01])) },
    { name: 'a connection that says nothing', open: tcp(undefined) },
  ];
}

export function hostileTls(c: HostileTls, port: number, boundMs: number): Promise<Cut> {
  const started = Date.now();
  return untilCut(c.open(port), boundMs, started);
}
