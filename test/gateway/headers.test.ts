import net from 'node:net';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { close, listen } from '../../common/http.js';
import { gatewayKeystore } from '../../sim/provision.js';
import { routeThroughMitm, startMitm, type Mitm } from '../support/mitm.js';
import { CLIENT, SERVICE, startTestNetwork, type TestNetwork } from '../support/network.js';
import { fetchOcsp } from '../support/ocsp.js';
import { craftRequest, resignHead, sendToPeer } from '../support/peer.js';

/**
 * The header and path rules at the edges (gateway/message/format.ts, protocol/paths.ts): what an
 * information system (IS) may send on, and what a modified peer gateway — holding its member's
 * real keys, so every signature verifies — cannot make the other side's IS receive.
 */

const HOSTILE = 'CAMDX/GOV/MOI/KYC/hostile';
/** What a provider's IS answers that a gateway must not pass on, one of each kind. */
const HOSTILE_ANSWER: Array<[string, string]> = [
  ['X-Road-Client', 'CAMDX/COM/DEMOBANK/OTHER'],
  ['X-Road-Service', 'CAMDX/GOV/MOI/KYC/forged'],
  ['X-Road-Id', 'forged-id'],
  ['X-Road-Request-Id', 'forged-request-id'],
  ['X-Road-Request-Hash', 'forged-hash'],
  ['X-Road-Security-Server', 'CAMDX/GOV/MOI/SS9'],
  ['X-Road-Error', 'Server.ServerProxy.Forged'],
  ['Server', 'internal-host.moi.example'],
  ['X-CamDX-Head', 'forged'],
  ['Connection', 'X-Hop'],
  ['X-Hop', 'leak'],
  ['X-Road-UserId', 'KH-answer'],
  ['X-Answer-Custom', 'kept as is'],
];

/** A provider IS that answers what the path asks for: hostile headers, duplicates, odd statuses. */
function hostileIs(): http.Server {
  return http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const url = req.url ?? '/';
      const body = 'hostile answer';
      const length: [string, string] = ['Content-Length', String(body.length)];
      const dup = /\/dup\/(.+)$/.exec(url)?.[1];
      const status = Number(/\/status\/(\d+)$/.exec(url)?.[1] ?? 200);
      const headers: Array<[string, string]> = dup ? [['Content-Type', 'text/plain'], [dup, 'one'], [dup, 'two']] : url.endsWith('/xroad') ? HOSTILE_ANSWER : [['Content-Type', 'text/plain']];
      // Node writes a second Content-Type as given; a second Content-Length replaces ours.
      res.writeHead(status, [...headers, ...(dup === 'Content-Length' ? [] : [length])].flat());
      res.end(body);
    });
  });
}

let n: TestNetwork;
let mitm: Mitm;
let hostile: http.Server;
const keys = (gw: 'consumer' | 'provider', which: 'sign' | 'auth') => {
  const ks = gatewayKeystore(n[gw].dir, which);
  return { key: ks.key, cert: ks.cert, chain: [ks.cert, n.central.pki.pki.cas.get('camdx-ca')!.cert] };
};
const ocspOf = (gw: 'consumer' | 'provider', which: 'sign' | 'auth') => fetchOcsp(n.central.pki.url, keys(gw, which).cert, n.central.pki.pki.cas.get('camdx-ca')!.cert);

beforeAll(async () => {
  hostile = hostileIs();
  const port = await listen(hostile, 0, '127.0.0.1');
  n = await startTestNetwork({ extraServices: { [HOSTILE]: `http://127.0.0.1:${port}` } });
  mitm = await startMitm({ asProvider: keys('provider', 'auth'), providerOcsp: () => ocspOf('provider', 'auth'), asConsumer: keys('consumer', 'auth'), providerUrl: `https://127.0.0.1:${n.provider.spec.ports.peer}` });
}, 120_000);
afterAll(async () => {
  await mitm?.close();
  await n?.close();
  if (hostile) await close(hostile);
});

interface Answer {
  status: number;
  rawHeaders: string[];
  body: string;
  /** The client's local port: the same port means the same IS socket. */
  socketPort: number;
}

/** One keep-alive socket, as an IS holding a connection to its gateway would. */
const isAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
afterAll(() => isAgent.destroy());

function send(path: string, headers: Array<[string, string]>, body = 'payload', method = 'POST'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const port = n.consumer.spec.ports.consumer;
    const raw = [['Host', `127.0.0.1:${port}`], ['X-Road-Client', CLIENT], ...headers, ['Content-Length', String(Buffer.byteLength(body))]].flat();
    const req = http.request({ host: '127.0.0.1', port, path, method, agent: isAgent, headers: raw as unknown as http.OutgoingHttpHeaders }, (res) => {
      const socketPort = (res.socket.address() as AddressInfo).port;
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks).toString(), socketPort }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Every value of header `name` in Node's rawHeaders, in order. */
const valuesOf = (raw: readonly string[], name: string) => raw.flatMap((v, i) => (i % 2 === 0 && v.toLowerCase() === name.toLowerCase() ? [raw[i + 1]!] : []));
const typeOf = (a: Answer) => (JSON.parse(a.body) as { type: string }).type;

describe('from an information system, only end-to-end headers travel', () => {
  it('the provider’s IS sees each X-Road header once, set by its gateway; UserId, Issue, Represented-Party and custom headers once, unchanged', async () => {
    const res = await send(`/r1/${SERVICE}/echo/h`, [
      ['X-Road-Id', 'msg-headers-in'],
      ['X-Road-UserId', 'KH123456789'],
      ['X-Road-Issue', 'ISSUE-42'],
      ['X-Road-Represented-Party', 'COM/REPRESENTED'],
      ['X-Custom', 'kept as is'],
      ['X-Road-Service', 'CAMDX/GOV/MOI/KYC/forged'],
      ['X-Road-Request-Id', 'forged'],
      ['X-Road-Request-Hash', 'forged'],
      ['X-Road-Error', 'Server.ServerProxy.Forged'],
      ['X-CamDX-Client', 'CAMDX/COM/DEMOBANK/OTHER'],
      ['User-Agent', 'leaks-the-client-host/1.0'],
      ['Proxy-Authorization', 'Basic c2VjcmV0'],
      ['Server', 'client-host'],
      ['Connection', 'keep-alive, X-Hop'],
      ['X-Hop', 'connection only'],
    ]);
    expect(res.status, res.body).toBe(200);
    const seen = n.echo.calls.at(-1)!.rawHeaders;
    expect(valuesOf(seen, 'X-Road-Client')).toEqual([CLIENT]);
    expect(valuesOf(seen, 'X-Road-Service')).toEqual([SERVICE]);
    expect(valuesOf(seen, 'X-Road-Id')).toEqual(['msg-headers-in']);
    expect(valuesOf(seen, 'X-Road-Request-Id')).toEqual([expect.stringMatching(/^[0-9a-f-]{36}$/)]);
    expect(valuesOf(seen, 'X-Road-Request-Hash')).toEqual([expect.stringMatching(/^[A-Za-z0-9+/]{86}==$/)]);
    expect(valuesOf(seen, 'X-Road-UserId')).toEqual(['KH123456789']);
    expect(valuesOf(seen, 'X-Road-Issue')).toEqual(['ISSUE-42']);
    expect(valuesOf(seen, 'X-Road-Represented-Party')).toEqual(['COM/REPRESENTED']);
    expect(valuesOf(seen, 'X-Custom')).toEqual(['kept as is']);
    for (const gone of ['X-Road-Error', 'X-CamDX-Client', 'User-Agent', 'Proxy-Authorization', 'Server', 'X-Hop']) expect(valuesOf(seen, gone), gone).toEqual([]);
    expect(valuesOf(seen, 'Host')).toHaveLength(1);
    expect(valuesOf(seen, 'Content-Length')).toEqual(['7']);
  });

  it('the client sees each X-Road header once, set by its own gateway, whatever the provider’s IS answers', async () => {
    const res = await send(`/r1/${HOSTILE}/xroad`, [['X-Road-Id', 'msg-headers-out']], '', 'GET');
    expect(res.status, res.body).toBe(200);
    expect(res.body).toBe('hostile answer');
    expect(valuesOf(res.rawHeaders, 'X-Road-Client')).toEqual([CLIENT]);
    expect(valuesOf(res.rawHeaders, 'X-Road-Service')).toEqual([HOSTILE]);
    expect(valuesOf(res.rawHeaders, 'X-Road-Id')).toEqual(['msg-headers-out']);
    expect(valuesOf(res.rawHeaders, 'X-Road-Request-Id')).toEqual([expect.stringMatching(/^[0-9a-f-]{36}$/)]);
    expect(valuesOf(res.rawHeaders, 'X-Road-Request-Hash')).toEqual([expect.stringMatching(/^[A-Za-z0-9+/]{86}==$/)]);
    for (const gone of ['X-Road-Security-Server', 'X-Road-Error', 'Server', 'X-CamDX-Head', 'X-Hop']) expect(valuesOf(res.rawHeaders, gone), gone).toEqual([]);
    expect(valuesOf(res.rawHeaders, 'X-Road-UserId')).toEqual(['KH-answer']);
    expect(valuesOf(res.rawHeaders, 'X-Answer-Custom')).toEqual(['kept as is']);
  });

  it.each(['Content-Type', 'Authorization', 'Host'])('a second %s from the client IS is Client.InvalidHttpHeader, and the service is not called', async (name) => {
    const before = n.echo.calls.length;
    const res = await send(`/r1/${SERVICE}/echo/dup`, [[name, 'one'], [name, 'two']]);
    expect(res.status).toBe(400);
    expect(typeOf(res)).toBe('Client.InvalidHttpHeader');
    expect(n.echo.calls.length).toBe(before);
  });

  it('a second, differing Content-Length from the client IS is Client.InvalidHttpHeader (refused by the parser, answered by the gateway)', async () => {
    const before = n.echo.calls.length;
    const port = n.consumer.spec.ports.consumer;
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.end(`POST /r1/${SERVICE}/echo/dup HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Road-Client: ${CLIENT}\r\nContent-Length: 3\r\nContent-Length: 7\r\n\r\nabcdefg`);
      });
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toMatch(/X-Road-Error: Client\.InvalidHttpHeader/i);
    expect(n.echo.calls.length).toBe(before);
  });

  it.each([['dup/Content-Type'], ['dup/Authorization'], ['dup/Host'], ['dup/Content-Length'], ['status/600']])('a provider IS answering with %s is Server.ServerProxy.ServiceFailed', async (what) => {
    const res = await send(`/r1/${HOSTILE}/${what}`, [], '', 'GET');
    expect(res.status).toBe(500);
    expect(typeOf(res)).toBe('Server.ServerProxy.ServiceFailed');
    expect(res.body).not.toContain('hostile answer');
  });
});


/** Each is something no honest gateway puts in a head; the last three break the once-only and syntax rules. */
const FORBIDDEN: Array<[string, string]> = [
  ['Connection', 'close'],
  ['Keep-Alive', 'timeout=5'],
  ['Proxy-Authorization', 'Basic c2VjcmV0'],
  ['TE', 'trailers'],
  ['Trailer', 'X-Smuggled'],
  ['Transfer-Encoding', 'chunked'],
  ['Upgrade', 'h2c'],
  ['Content-Length', '0'],
  ['Expect', '100-continue'],
  ['Host', 'internal.moi.example'],
  ['User-Agent', 'forged'],
  ['Server', 'forged'],
  ['X-CamDX-Client', 'CAMDX/COM/DEMOBANK/OTHER'],
  ['X-Road-Client', 'CAMDX/COM/DEMOBANK/OTHER'],
  ['X-Road-Service', 'CAMDX/GOV/MOI/KYC/forged'],
  ['X-Road-Id', 'forged-id'],
  ['X-Road-Request-Id', 'forged-request-id'],
  ['X-Road-Request-Hash', 'forged-hash'],
  ['X-Road-Security-Server', 'CAMDX/GOV/MOI/SS1'],
  ['X-Road-Error', 'Server.ServerProxy.Forged'],
  ['Content-Type', 'text/plain'], // a second one: the client's is already there
  ['Authorization', 'Bearer second'], // a second one
  ['X-Injected', 'a\r\nX-Road-Client: CAMDX/COM/DEMOBANK/OTHER'],
];

describe('from a modified peer gateway with its member’s real keys', () => {
  beforeAll(() => routeThroughMitm(n, mitm, true));
  afterAll(async () => {
    mitm.tamperRequest = undefined;
    mitm.tamperResponse = undefined;
    await routeThroughMitm(n, mitm, false);
  });

  it('a head re-signed unchanged goes through (the tool is sound)', async () => {
    mitm.tamperRequest = (m) => resignHead(m, keys('consumer', 'sign'), () => undefined);
    mitm.tamperResponse = (m) => resignHead(m, keys('provider', 'sign'), () => undefined);
    const res = await send(`/r1/${SERVICE}/echo/sound`, [['Content-Type', 'text/plain'], ['Authorization', 'Bearer first']]);
    mitm.tamperRequest = mitm.tamperResponse = undefined;
    expect(res.status, res.body).toBe(200);
    expect(res.body).toBe('payload');
  });

  it.each(FORBIDDEN)('a request head with %s is Server.ServerProxy.InvalidMessage; the IS is not called and the client’s socket stays intact', async (name, value) => {
    const before = n.echo.calls.length;
    mitm.tamperRequest = (m) => resignHead(m, keys('consumer', 'sign'), (head) => head.headers.push([name, value]));
    const refused = await send(`/r1/${SERVICE}/echo/attack`, [['Content-Type', 'text/plain'], ['Authorization', 'Bearer first']]);
    mitm.tamperRequest = undefined;
    expect(refused.status, refused.body).toBe(500);
    expect(typeOf(refused)).toBe('Server.ServerProxy.InvalidMessage');
    expect(n.echo.calls.length).toBe(before);
    const next = await send(`/r1/${SERVICE}/echo/after`, [['X-Road-UserId', 'KH1']], 'next call');
    expect(next.socketPort).toBe(refused.socketPort);
    expect(next.status).toBe(200);
    expect(next.body).toBe('next call');
    expect(n.echo.calls.length).toBe(before + 1);
    expect(valuesOf(n.echo.calls.at(-1)!.rawHeaders, 'X-Road-UserId')).toEqual(['KH1']);
  });

  const responseAttacks: Array<[string, (head: { headers: Array<[string, string]> } & Record<string, unknown>) => void]> = [
    ...FORBIDDEN.map(([name, value]): [string, (head: { headers: Array<[string, string]> }) => void] => [name, (head) => head.headers.push([name, value])]),
    ...[100, 101, 199, 600, 999].map((status): [string, (head: Record<string, unknown>) => void] => [`status ${status}`, (head) => (head.status = status)]),
  ];

  it.each(responseAttacks)('a response head with %s is Server.ClientProxy.InvalidMessage; the client’s socket stays intact', async (_what, edit) => {
    mitm.tamperResponse = (m) => resignHead(m, keys('provider', 'sign'), (head) => {
      // The echo's answer carries Content-Type; the duplicate cases add a second one.
      if (!head.headers.some(([k]) => k.toLowerCase() === 'authorization')) head.headers.push(['Authorization', 'Bearer first']);
      edit(head);
    });
    const refused = await send(`/r1/${SERVICE}/echo/answer`, [['Content-Type', 'text/plain']], 'answer body');
    mitm.tamperResponse = undefined;
    expect(refused.status, refused.body).toBe(500);
    expect(typeOf(refused)).toBe('Server.ClientProxy.InvalidMessage');
    expect(refused.body).not.toContain('answer body');
    const next = await send(`/r1/${SERVICE}/echo/after`, [], 'next call');
    expect(next.socketPort).toBe(refused.socketPort);
    expect(next.status).toBe(200);
    expect(next.body).toBe('next call');
  });
});

describe('signed paths the provider refuses alike', () => {
  it.each(['/echo/a/..;/b', '/echo/..;/admin/x', '/echo/a/%252e%252e/b', '/echo/%41', '/echo/a#b', '/echo/.;x/admin', '/echo/;x/b', '/echo//b'])(
    'a signed %s is Server.ServerProxy.InvalidMessage and never reaches the IS',
    async (path) => {
      const before = n.echo.calls.length;
      const sign = keys('consumer', 'sign');
      const msg = craftRequest({
        signKey: sign.key,
        signCert: sign.cert,
        signOcsp: await ocspOf('consumer', 'sign'),
        authOcsp: await ocspOf('consumer', 'auth'),
        client: CLIENT,
        service: SERVICE,
        head: { method: 'POST', path, query: '', headers: [] },
        body: Buffer.from('x'),
      });
      const res = await sendToPeer(`https://127.0.0.1:${n.provider.spec.ports.peer}`, keys('consumer', 'auth'), msg);
      expect(res.status).toBe(500);
      expect(JSON.parse(res.body.toString())).toMatchObject({ type: 'Server.ServerProxy.InvalidMessage' });
      expect(n.echo.calls.length).toBe(before);
    },
  );

  it.each(['/a/..;/b', '/a/%252e%252e/b', '/%41', '/a#b', '/echo/..;/admin/x'])('the consumer refuses %s from its client as Client.InvalidRequest', async (path) => {
    const before = n.echo.calls.length;
    const res = await send(`/r1/${SERVICE}${path}`, []);
    expect(res.status).toBe(400);
    expect(typeOf(res)).toBe('Client.InvalidRequest');
    expect(n.echo.calls.length).toBe(before);
  });
});
