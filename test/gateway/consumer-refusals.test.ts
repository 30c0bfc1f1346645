import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { close, listen } from '../../common/http.js';
import { HEAD_LIMITS } from '../../gateway/consumer/limits.js';
import { POOL_SIZE } from '../../gateway/consumer/pools.js';
import { decodeRequestHead, encodeHead, type RequestHead } from '../../gateway/message/format.js';
import { call, errorOf } from '../support/http.js';
import { CLIENT, SERVICE, startTestNetwork, type TestNetwork } from '../support/network.js';
import { statusOf } from '../support/slow.js';

/**
 * Issue 17, the consumer's side (one network for all, to keep the suite short):
 * 1. an exchange ends however its client leaves — mid-body (a half-close) or while its answer is
 *    awaited — and frees its pooled connection to the provider's gateway, which sees the
 *    connection end and ends its own call to the service;
 * 4. what the provider's gateway would refuse is refused by the consumer, before signing, as the
 *    client's mistake (`Client.*`, 400) naming the limit;
 * 5. a request refused before its service is resolved — by Node's parser, for its identifiers,
 *    its client, or an expired global configuration — is counted in
 *    `camdx_gateway_requests_total` (label values callers cannot choose) and leaves a record;
 * 7. a body over `limits.maxBodyBytes` is refused from its declared length, and a refused upload
 *    is not read on to its end: the connection closes.
 */

const HANG = 'CAMDX/GOV/MOI/KYC/hang';
const MAX_BODY = 1024 * 1024;
let n: TestNetwork;
// A service that takes every request and never answers it.
const held: http.IncomingMessage[] = [];
const hang = http.createServer((req) => {
  held.push(req);
  req.resume();
});

beforeAll(async () => {
  const port = await listen(hang, 0, '127.0.0.1');
  n = await startTestNetwork({
    extraServices: { [HANG]: `http://127.0.0.1:${port}` },
    // A short wait for a pooled connection: a pool still taken shows as a refusal, not a hang.
    consumerConfig: { limits: { poolAcquireTimeoutMs: 1500, maxBodyBytes: MAX_BODY } },
    // Central is stopped in the last test: the configuration then expires within seconds.
    confExpirySeconds: 10,
  });
}, 120_000);
afterAll(async () => {
  await n?.close();
  hang.closeAllConnections();
  await close(hang);
});

const consumerPort = () => Number(new URL(n.consumer.consumerUrl).port);

const valid = () => call(`${n.serviceUrl}/echo/x`, { method: 'POST', headers: [['X-Road-Client', CLIENT]], body: 'x' });

/** A raw client: the head, `sent` of `declared` body bytes, then (if asked) a half-close; resolves with what it was answered. */
function rawClient(o: { service: string; declared: number; sent: number; halfCloseAfterMs?: number }): { answer: Promise<string>; socket: net.Socket } {
  const socket = net.connect(consumerPort(), '127.0.0.1');
  socket.write(`POST /r1/${o.service}/x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Road-Client: ${CLIENT}\r\nContent-Length: ${o.declared}\r\n\r\n${'x'.repeat(o.sent)}`);
  if (o.halfCloseAfterMs !== undefined) setTimeout(() => socket.end(), o.halfCloseAfterMs);
  let answer = '';
  socket.on('data', (d: Buffer) => (answer += d.toString()));
  socket.on('error', () => undefined);
  return { socket, answer: new Promise((resolve) => socket.once('close', () => resolve(answer))) };
}

const metric = async (url: string, line: RegExp) =>
  (await (await fetch(`${url}/metrics`)).text())
    .split('\n')
    .filter((l) => line.test(l))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
const inFlight = (url: string) => metric(url, /^camdx_gateway_in_flight_requests\{/);

async function until(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) if (await check()) return true;
  return check();
}

describe('row 1: a client that leaves', () => {
  it(`while its answer is awaited frees its pooled connection (all ${POOL_SIZE}); the provider ends its call to the service`, async () => {
    const clients = Array.from({ length: POOL_SIZE }, () => rawClient({ service: HANG, declared: 1, sent: 1 }));
    try {
      // Every exchange holds a pooled connection and waits at the service...
      expect(await until(async () => held.length >= POOL_SIZE, 15_000)).toBe(true);
      // ...until its client drops the connection.
      for (const c of clients) c.socket.destroy();
      await Promise.all(clients.map((c) => c.answer));
      const res = await valid();
      expect(res.status, res.body.toString()).toBe(200);
      expect(await until(async () => held.every((r) => r.socket.destroyed), 5000)).toBe(true);
      expect(await until(async () => (await inFlight(n.consumer.adminUrl)) + (await inFlight(n.provider.adminUrl)) === 0, 5000)).toBe(true);
      const records = (await (await n.consumer.admin(`/records?service=${encodeURIComponent(HANG)}`)).json()) as Array<{ faultCode: string | null }>;
      expect(records.map((r) => r.faultCode)).toEqual(Array(POOL_SIZE).fill('Client.InvalidRequest'));
    } finally {
      // Whatever happened, the next tests get the pool back: the service drops what it holds.
      for (const r of held) r.socket.destroy();
    }
  }, 40_000);

  it(`mid-body, with a half-close, is answered 400 and recorded as the client's doing (${POOL_SIZE} of them)`, async () => {
    const clients = Array.from({ length: POOL_SIZE }, () => rawClient({ service: SERVICE, declared: 100_000, sent: 1000, halfCloseAfterMs: 300 }));
    const answers = await Promise.all(clients.map((c) => c.answer));
    const res = await valid();
    expect(res.status, res.body.toString()).toBe(200);
    expect(await until(async () => (await inFlight(n.consumer.adminUrl)) + (await inFlight(n.provider.adminUrl)) === 0, 5000)).toBe(true);
    // Not a fault of either gateway: no NetworkError of the consumer, no InternalError of the provider.
    expect(await metric(n.consumer.adminUrl, /^camdx_gateway_requests_total\{.*fault="Server\./)).toBe(0);
    expect(await metric(n.provider.adminUrl, /^camdx_gateway_requests_total\{.*fault="Server\.ServerProxy\.InternalError"/)).toBe(0);
    for (const a of answers) expect(statusOf(a)).toEqual({ status: 400, xroadError: 'Client.InvalidRequest' });
    expect(answers[0]).toContain('closed before the request body ended');
  }, 30_000);
});

describe('row 4: the head bounds the consumer checks are the provider’s', () => {
  const head = (h: Partial<RequestHead>): string => encodeHead({ method: 'GET', path: '/x', query: '', headers: [], ...h });
  const accepted = (text: string) => {
    try {
      decodeRequestHead(text, 'Server.ServerProxy');
      return true;
    } catch {
      return false;
    }
  };
  it.each([
    ['method', (over: boolean) => head({ method: over ? 'M-SEARCH' : 'A'.repeat(16) })],
    ['path', (over: boolean) => head({ path: `/${'a'.repeat(HEAD_LIMITS.pathChars - 1 + (over ? 1 : 0))}` })],
    ['query', (over: boolean) => head({ query: 'q'.repeat(HEAD_LIMITS.queryChars + (over ? 1 : 0)) })],
    ['header count', (over: boolean) => head({ headers: Array.from({ length: HEAD_LIMITS.headers + (over ? 1 : 0) }, (_, i) => [`x-h${i}`, 'v'] as [string, string]) })],
    ['header name', (over: boolean) => head({ headers: [['x'.repeat(HEAD_LIMITS.nameChars + (over ? 1 : 0)), 'v']] })],
    ['header value', (over: boolean) => head({ headers: [['x-v', 'v'.repeat(HEAD_LIMITS.valueChars + (over ? 1 : 0))]] })],
  ])('%s: at the limit accepted, one over refused', (_name, make) => {
    expect(accepted(make(false))).toBe(true);
    expect(accepted(make(true))).toBe(false);
  });
});

describe('row 4: client mistakes the provider would refuse', () => {
  const many = Array.from({ length: 257 }, (_, i) => [`X-H${i}`, 'v'] as [string, string]);
  const large = Array.from({ length: 5 }, (_, i) => [`X-Large${i}`, 'l'.repeat(10_000)] as [string, string]);
  const cases: Array<[string, string, string, Array<[string, string]>, string, RegExp]> = [
    ['an odd method (M-SEARCH)', 'M-SEARCH', '/echo/x', [], 'Client.InvalidRequest', /method M-SEARCH/],
    ['a 16 KB path', 'GET', `/echo/${'p'.repeat(16 * 1024)}`, [], 'Client.InvalidRequest', /at most 8192/],
    ['a 9,000-character query', 'GET', `/echo/x?${'q'.repeat(9000)}`, [], 'Client.InvalidRequest', /query .* at most 8192/],
    ['257 headers', 'GET', '/echo/x', many, 'Client.InvalidHttpHeader', /at most 256/],
    ['a 17 KiB header value', 'GET', '/echo/x', [['X-Big', 'b'.repeat(17 * 1024)]], 'Client.InvalidHttpHeader', /at most 16384 per value/],
    ['50 KB of headers (too large once encoded)', 'GET', '/echo/x', large, 'Client.InvalidHttpHeader', /limits\.maxHeaderBytes/],
  ];
  it.each(cases)('%s: refused before anything is signed or sent', async (_name, method, path, headers, type, message) => {
    const before = n.echo.calls.length;
    const res = await call(`${n.serviceUrl}${path}`, { method, headers: [['X-Road-Client', CLIENT], ...headers] });
    expect(res.status, res.body.toString().slice(0, 300)).toBe(400);
    expect(errorOf(res).type).toBe(type);
    expect(errorOf(res).message).toMatch(message);
    expect(n.echo.calls.length).toBe(before);
  });
});

/** A raw upload of up to `boundBytes`, as fast as the connection takes it; stops when the server closes the connection. */
function upload(head: string, chunk: (data: Buffer) => Buffer, boundBytes: number): Promise<{ answer: string; written: number; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(consumerPort(), '127.0.0.1');
    let answer = '';
    let written = 0;
    let closed = false;
    const data = Buffer.alloc(64 * 1024, 'u');
    const finish = () => resolve({ answer, written, closed });
    // A server that neither reads nor closes would stall the upload: give up after a bound.
    const bound = setTimeout(() => {
      socket.destroy();
      finish();
    }, 10_000);
    socket.on('data', (d: Buffer) => (answer += d.toString()));
    socket.on('error', () => undefined);
    socket.once('close', () => {
      closed = written < boundBytes;
      clearTimeout(bound);
      finish();
    });
    const pump = () => {
      while (written < boundBytes && !socket.destroyed) {
        written += data.length;
        if (!socket.write(chunk(data))) return void socket.once('drain', pump);
      }
      // Everything sent without the server closing: it read all of it.
      if (written >= boundBytes) {
        clearTimeout(bound);
        setTimeout(() => {
          socket.destroy();
          finish();
        }, 200);
      }
    };
    socket.write(head);
    pump();
  });
}

describe('row 7: bodies over limits.maxBodyBytes', () => {
  const head = (framing: string) => `POST /r1/${SERVICE}/echo/x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Road-Client: ${CLIENT}\r\n${framing}\r\n\r\n`;
  const bound = 64 * MAX_BODY;

  it('a declared length of 5 GB is refused from the header, and the connection closed, not read', async () => {
    const before = n.echo.calls.length;
    const r = await upload(head('Content-Length: 5000000000'), (d) => d, bound);
    expect(r.closed).toBe(true);
    expect(r.answer).toMatch(/\r\nConnection: close\r\n/i);
    expect(statusOf(r.answer)).toEqual({ status: 400, xroadError: 'Client.MaxRequestSizeExceeded' });
    expect(r.answer).toMatch(/declared as 5000000000 bytes, over 1048576 \(limits\.maxBodyBytes\)/);
    expect(n.echo.calls.length).toBe(before);
  }, 20_000);

  it('a chunked body that passes the limit mid-stream is refused and the connection closed, not read to its end', async () => {
    const r = await upload(head('Transfer-Encoding: chunked'), (d) => Buffer.concat([Buffer.from(`${d.length.toString(16)}\r\n`), d, Buffer.from('\r\n')]), bound);
    expect(r.closed).toBe(true);
    expect(r.answer).toMatch(/\r\nConnection: close\r\n/i);
    expect(statusOf(r.answer)).toEqual({ status: 400, xroadError: 'Client.MaxRequestSizeExceeded' });
  }, 20_000);

  it('a short refused request keeps its connection', async () => {
    const socket = net.connect(consumerPort(), '127.0.0.1');
    socket.write(`POST /r1/CAMDX/GOV/MOI/KYC/unknown/x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Road-Client: ${CLIENT}\r\nContent-Length: 5\r\n\r\nshort`);
    const answer = await new Promise<string>((resolve) => socket.once('data', (d: Buffer) => resolve(d.toString())));
    socket.destroy();
    expect(statusOf(answer)).toEqual({ status: 400, xroadError: 'Client.UnknownService' });
    expect(answer).toMatch(/\r\nConnection: keep-alive\r\n/i);
  });
});

interface Series {
  readonly labels: Record<string, string>;
  readonly value: number;
}
async function requestSeries(): Promise<Series[]> {
  const text = await (await fetch(`${n.consumer.adminUrl}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('camdx_gateway_requests_total{'))
    .map((l) => ({ labels: Object.fromEntries([...l.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!])), value: Number(l.slice(l.lastIndexOf(' ') + 1)) }));
}
const counted = (series: Series[], fault: string) => series.filter((s) => s.labels.fault === fault).reduce((sum, s) => sum + s.value, 0);
const records = async (from: number) => (await (await n.consumer.admin(`/records?from=${from}&limit=1000`)).json()) as Array<{ faultCode: string | null; client: string; service: string; messageId: string }>;

/** A raw request written as given; resolves with the answer once the server closes. */
function raw(text: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(consumerPort(), '127.0.0.1', () => socket.end(text));
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString()));
    socket.on('error', () => undefined);
    socket.once('close', () => resolve(answer));
  });
}

const REFUSALS: Array<[string, () => Promise<string>]> = [
  ['Client.InvalidServiceIdentifier', async () => errorOf(await call(`${n.consumer.consumerUrl}/r1/not-a-service`, { headers: [['X-Road-Client', CLIENT]] })).type],
  ['Client.InvalidClientIdentifier', async () => errorOf(await call(`${n.serviceUrl}/echo/x`)).type],
  ['Client.InvalidClientIdentifier', async () => errorOf(await call(`${n.serviceUrl}/echo/x`, { headers: [['X-Road-Client', 'not/a/client']] })).type],
  ['Client.UnknownSubsystem', async () => errorOf(await call(`${n.serviceUrl}/echo/x`, { headers: [['X-Road-Client', `CAMDX/COM/NOBODY${Math.random().toString(36).slice(2, 8)}/X`]] })).type],
  ['Client.InvalidRequest', async () => statusOf(await raw('NOT HTTP AT ALL\r\n\r\n')).xroadError!],
  ['Client.InvalidHttpHeader', async () => statusOf(await raw(`GET /r1/x HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(70 * 1024)}\r\n\r\n`)).xroadError!],
];

describe('row 5: refusals before the service is resolved', () => {
  it('are each counted, under label values callers cannot choose, and recorded', async () => {
    const from = Date.now();
    const before = await requestSeries();
    for (const [type, refuse] of REFUSALS) expect(await refuse()).toBe(type);
    // The unknown-client refusal again, with other made-up clients: no new label values.
    for (let i = 0; i < 5; i++) expect(await REFUSALS[3]![1]()).toBe('Client.UnknownSubsystem');
    const after = await requestSeries();
    const sent = new Map<string, number>();
    for (const [type] of REFUSALS) sent.set(type, (sent.get(type) ?? 0) + 1);
    sent.set('Client.UnknownSubsystem', sent.get('Client.UnknownSubsystem')! + 5);
    for (const [type, count] of sent) expect(counted(after, type) - counted(before, type), type).toBe(count);
    const labelValues = new Set(after.flatMap((s) => [s.labels.client, s.labels.service]));
    expect([...labelValues].filter((v) => !v!.startsWith('CAMDX/')).sort()).toEqual(['unregistered', 'unresolved']);
    expect([...labelValues].filter((v) => v!.includes('NOBODY'))).toEqual([]);

    // Records are committed in the turn after the answer.
    let found: Awaited<ReturnType<typeof records>> = [];
    for (let i = 0; i < 20 && found.length < 11; i++, await new Promise((r) => setTimeout(r, 100))) found = (await records(from)).filter((r) => r.faultCode !== null);
    const faults = found.map((r) => r.faultCode!).sort();
    expect(faults).toEqual([...sent].flatMap(([type, count]) => Array<string>(count).fill(type)).sort());
    // What was known is kept: the client named by an unknown-client refusal, nothing for a head Node refused.
    expect(found.filter((r) => r.faultCode === 'Client.UnknownSubsystem').every((r) => r.client.includes('NOBODY'))).toBe(true);
    expect(found.filter((r) => r.faultCode === 'Client.InvalidRequest').map((r) => [r.client, r.service])).toEqual([['unresolved', 'unresolved']]);
  });

  it('OutdatedGlobalConf refusals are counted and recorded', async () => {
    await n.central.stop();
    const { globalConf } = (await (await fetch(`${n.consumer.adminUrl}/health`)).json()) as { globalConf: { expiresAt: string } };
    await new Promise((r) => setTimeout(r, Date.parse(globalConf.expiresAt) - Date.now() + 200));
    const from = Date.now();
    const before = counted(await requestSeries(), 'Server.ClientProxy.OutdatedGlobalConf');
    for (let i = 0; i < 10; i++) expect(errorOf(await call(`${n.serviceUrl}/echo/x`, { method: 'POST', headers: [['X-Road-Client', CLIENT]], body: 'x' })).type).toBe('Server.ClientProxy.OutdatedGlobalConf');
    expect(counted(await requestSeries(), 'Server.ClientProxy.OutdatedGlobalConf') - before).toBe(10);
    await new Promise((r) => setTimeout(r, 200));
    const found = (await records(from)).filter((r) => r.faultCode === 'Server.ClientProxy.OutdatedGlobalConf');
    expect(found).toHaveLength(10);
    expect(found.every((r) => r.client === CLIENT && r.service === 'CAMDX/GOV/MOI/KYC/echo')).toBe(true);
  }, 30_000);
});
