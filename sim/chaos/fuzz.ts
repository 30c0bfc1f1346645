import { KYC_SERVICE } from '../topology.js';
import { seededRandom } from '../../members/population/random.js';

/**
 * A seeded corpus of malformed and odd requests for a consumer port: the same seed gives the
 * same bytes, so a failure found once can be sent again. Each case says whether it is a client
 * mistake (then the answer must not be a 5xx naming a `Server.*` fault: the gateway would be
 * blaming itself, or its peer, for the caller's error) or merely unusual (any answer will do, as
 * long as it comes and nothing crashes).
 */

export type FuzzCategory = 'identifier' | 'path' | 'method' | 'header' | 'framing';
export const FUZZ_CATEGORIES: readonly FuzzCategory[] = ['identifier', 'path', 'method', 'header', 'framing'];

export interface FuzzCase {
  readonly n: number;
  readonly category: FuzzCategory;
  /** What was done to the base request, in a few words (no random bytes). */
  readonly mutation: string;
  readonly consumer: 'demobank' | 'moc';
  /** The whole request as sent on the wire. */
  readonly bytes: Buffer;
  readonly clientMistake: boolean;
  /** The request is deliberately incomplete: the sender hangs up shortly after writing it. */
  readonly incomplete: boolean;
}

interface Draft {
  method: string;
  target: string;
  version: string;
  headers: Array<[string, string]>;
  body: Buffer;
  /** Set by framing mutations that write the head themselves. */
  raw?: Buffer;
  /** Recompute Content-Length from the body (off when a mutation sets framing itself). */
  length: boolean;
}

type Pick = <T>(items: readonly T[]) => T;
type Mutation = { name: string; mistake: boolean; incomplete?: boolean; apply(d: Draft, pick: Pick, rnd: () => number): void };

const CLIENTS = { demobank: 'CAMDX/COM/DEMOBANK/ONBOARDING', moc: 'CAMDX/GOV/MOC/BIZREG' } as const;
const SERVICE_PARTS = KYC_SERVICE.split('/');
const JUNK = ['!', '$', '%41', '%C3%A9', '%E2%80%AE', '..', '~', "'", '(', ';', '=', '@', ':', '%20', '%25', 'X'.repeat(300), '\u00e9'];
const setHeader = (d: Draft, name: string, value: string) => {
  d.headers = d.headers.filter(([n]) => n.toLowerCase() !== name.toLowerCase());
  d.headers.push([name, value]);
};
const dropHeader = (d: Draft, name: string) => (d.headers = d.headers.filter(([n]) => n.toLowerCase() !== name.toLowerCase()));
/** The service identifier's parts with one of them, drawn once, replaced (undefined: dropped). */
const withPart = (rnd: () => number, replace: (part: string) => string | undefined) => {
  const at = Math.floor(rnd() * SERVICE_PARTS.length);
  return SERVICE_PARTS.flatMap((p, i) => (i === at ? (replace(p) ?? []) : [p]));
};
const serviceTarget = (parts: readonly string[], rest = '/api/2.0/kyc/info') => `/r1/${parts.join('/')}${rest}`;

const IDENTIFIER: Mutation[] = [
  { name: 'service part replaced by junk', mistake: true, apply: (d, pick, rnd) => void (d.target = serviceTarget(withPart(rnd, () => pick(JUNK)))) },
  { name: 'service part dropped', mistake: true, apply: (d, _p, rnd) => void (d.target = serviceTarget(withPart(rnd, () => undefined))) },
  { name: 'service part empty', mistake: true, apply: (d, _p, rnd) => void (d.target = serviceTarget(withPart(rnd, () => ''))) },
  { name: 'unknown instance, class, member, subsystem or service', mistake: true, apply: (d, _p, rnd) => void (d.target = serviceTarget(withPart(rnd, (p) => `${p}Z`))) },
  { name: 'lower-case service identifier', mistake: true, apply: (d) => void (d.target = serviceTarget(SERVICE_PARTS.map((p) => p.toLowerCase()))) },
  { name: 'other protocol version', mistake: true, apply: (d, pick) => void (d.target = d.target.replace('/r1/', pick(['/r2/', '/r0/', '/R1/', '/', '/r1']))) },
  { name: 'bare /r1 prefix', mistake: true, apply: (d, pick) => void (d.target = pick(['/r1', '/r1/', '/r1/CAMDX', '/r1/CAMDX/GOV/MOI'])) },
  { name: 'X-Road-Client missing', mistake: true, apply: (d) => void dropHeader(d, 'X-Road-Client') },
  { name: 'X-Road-Client twice', mistake: true, apply: (d) => void d.headers.push(['X-Road-Client', CLIENTS.moc]) },
  {
    name: 'X-Road-Client malformed',
    mistake: true,
    apply: (d, pick) =>
      setHeader(d, 'X-Road-Client', pick(['CAMDX/COM/DEMOBANK', 'CAMDX/COM/DEMOBANK/ONBOARDING/EXTRA', '', '////', 'CAMDX/COM/DEMO BANK/X', 'camdx/com/demobank/onboarding', 'X'.repeat(500)])),
  },
  {
    name: 'X-Road-Client not a client of this server',
    mistake: true,
    apply: (d, pick) => setHeader(d, 'X-Road-Client', pick(['CAMDX/GOV/MOI/KYC', 'CAMDX/GOV/TSC/CAMDIGIKEY', 'CAMDX/COM/NOBODY/SUB'])),
  },
  {
    name: 'X-Road-Security-Server malformed or elsewhere',
    mistake: true,
    apply: (d, pick) => setHeader(d, 'X-Road-Security-Server', pick(['junk', 'CAMDX/GOV/MOI', 'CAMDX/GOV/TSC/SS1', 'CAMDX/GOV/MOI/SS9', ''])),
  },
];

const PATH: Mutation[] = [
  {
    name: 'dot segment',
    mistake: true,
    apply: (d, pick) => void (d.target = serviceTarget(SERVICE_PARTS, pick(['/api/../x', '/api/./2.0', '/api/%2e%2e/x', '/api/%2E/x', '/..', '/api/2.0/kyc/info/..']))),
  },
  { name: 'encoded separator', mistake: true, apply: (d, pick) => void (d.target = serviceTarget(SERVICE_PARTS, pick(['/api%2f2.0', '/api%2F2.0/kyc', '/api%5c2.0', '/api%00x']))) },
  { name: 'malformed escape', mistake: true, apply: (d, pick) => void (d.target = serviceTarget(SERVICE_PARTS, pick(['/api/%zz', '/api/%', '/api/%4', '/api/%G0']))) },
  { name: 'empty segment', mistake: true, apply: (d, pick) => void (d.target = serviceTarget(SERVICE_PARTS, pick(['//api', '/api//2.0', '/api/2.0//kyc/info']))) },
  { name: 'characters outside pchar', mistake: true, apply: (d, pick) => void (d.target = serviceTarget(SERVICE_PARTS, `/api/${pick(['"', '<', '>', '`', '{', '}', '|', '^', '[', ']'])}x`)) },
  {
    name: 'another valid path',
    mistake: false,
    apply: (d, pick) =>
      void (d.target = serviceTarget(SERVICE_PARTS, pick(['/api/2.0/kyc/ocr-idcard', '/x', '/api/2.0/kyc/info/', '/api/2.0/kyc/info?x=1&y=%20', '', '/~user/a-b_c.d', `/${'a'.repeat(2000)}`]))),
  },
  { name: 'odd query', mistake: false, apply: (d, pick) => void (d.target += pick(['?', '?a', '?a=%zz', '?a=1&a=2', '?%00', '#frag'])) },
];

const METHOD: Mutation[] = [
  { name: 'another method', mistake: false, apply: (d, pick) => void (d.method = pick(['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'])) },
  { name: 'unregistered method token', mistake: false, apply: (d, pick) => void (d.method = pick(['TRACE', 'PROPFIND', 'PURGE', 'MKCOL'])) },
  { name: 'not a method token', mistake: true, apply: (d, pick) => void (d.method = pick(['post', 'P0ST', 'GE(T', 'POST\u00e9', '', 'X'.repeat(100)])) },
];

const HEADER: Mutation[] = [
  { name: 'X-Road-Id too long', mistake: true, apply: (d) => setHeader(d, 'X-Road-Id', 'i'.repeat(300)) },
  { name: 'X-Road-Id empty', mistake: true, apply: (d) => setHeader(d, 'X-Road-Id', '') },
  { name: 'X-Road-Id twice', mistake: true, apply: (d) => void d.headers.push(['X-Road-Id', 'second']) },
  { name: 'header name not a token', mistake: true, apply: (d, pick) => void d.headers.push([pick(['X Bad', 'X-Bad(', 'X-Bad"', '', 'X-\u00e9']), '1']) },
  { name: 'header value with a control byte', mistake: true, apply: (d, pick) => void d.headers.push(['X-Ctl', `a${pick(['\u0001', '\u0000', '\u007f'])}b`]) },
  { name: 'headers larger than the limit', mistake: true, apply: (d) => void d.headers.push(['X-Big', 'b'.repeat(70 * 1024)]) },
  {
    name: 'unusual but valid headers',
    mistake: false,
    apply: (d, pick) =>
      void d.headers.push(
        pick([
          ['X-Foo', 'bar'],
          ['Accept', '*/*;q=0.1'],
          ['Content-Type', 'text/x-junk'],
          ['Expect', '100-continue'],
          ['Cookie', 'a=b'],
          ['X-Road-Request-Hash', 'forged'],
          ['Via', '1.1 nowhere'],
        ] as Array<[string, string]>),
      ),
  },
  { name: 'many headers', mistake: false, apply: (d, _p, rnd) => void d.headers.push(...Array.from({ length: 20 + Math.floor(rnd() * 80) }, (_, i) => [`X-H${i}`, String(i)] as [string, string])) },
  { name: 'Expect that cannot be met', mistake: true, apply: (d) => void d.headers.push(['Expect', 'something-else']) },
];

const head = (d: Draft, headers = d.headers) => `${d.method} ${d.target} ${d.version}\r\n${headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}`;
const FRAMING: Mutation[] = [
  {
    name: 'Content-Length and Transfer-Encoding both',
    mistake: true,
    apply: (d) => ((d.length = false), setHeader(d, 'Content-Length', String(d.body.length)), setHeader(d, 'Transfer-Encoding', 'chunked')),
  },
  { name: 'Content-Length not a number', mistake: true, apply: (d, pick) => ((d.length = false), setHeader(d, 'Content-Length', pick(['abc', '-1', '1e3', '0x10', '', ' 5 5']))) },
  {
    name: 'two different Content-Lengths',
    mistake: true,
    apply: (d) => ((d.length = false), setHeader(d, 'Content-Length', String(d.body.length)), d.headers.push(['Content-Length', String(d.body.length + 1)])),
  },
  {
    name: 'bad chunk size',
    mistake: true,
    apply: (d, pick) => (
      (d.length = false),
      dropHeader(d, 'Content-Length'),
      setHeader(d, 'Transfer-Encoding', 'chunked'),
      (d.body = Buffer.from(`${pick(['zz', '-1', 'fffffffffffffffff'])}\r\nabc\r\n0\r\n\r\n`))
    ),
  },
  {
    name: 'unknown transfer coding',
    mistake: true,
    apply: (d, pick) => ((d.length = false), dropHeader(d, 'Content-Length'), setHeader(d, 'Transfer-Encoding', pick(['gzip', 'chunked, gzip', 'identity', 'chunked;x']))),
  },
  { name: 'bare LF line endings', mistake: true, apply: (d) => void (d.raw = Buffer.concat([Buffer.from(head(d).replace(/\r\n/g, '\n') + `Content-Length: ${d.body.length}\n\n`), d.body])) },
  { name: 'folded header line', mistake: true, apply: (d) => void (d.raw = Buffer.concat([Buffer.from(`${head(d)}X-Fold: a\r\n b\r\nContent-Length: ${d.body.length}\r\n\r\n`), d.body])) },
  { name: 'header line without a colon', mistake: true, apply: (d) => void (d.raw = Buffer.concat([Buffer.from(`${head(d)}NoColonHere\r\nContent-Length: ${d.body.length}\r\n\r\n`), d.body])) },
  {
    name: 'garbage request line',
    mistake: true,
    apply: (d, pick) =>
      void (d.raw = Buffer.from(
        pick(['GARBAGE\r\n\r\n', '\u0016\u0003\u0001\u0000\u00a5\u0001\r\n\r\n', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', `${d.method} ${d.target}\r\n\r\n`, `${d.method} ${d.target} HTTP/9.9\r\n\r\n`]),
      )),
  },
  { name: 'HTTP/1.0 without Host', mistake: false, apply: (d) => ((d.version = 'HTTP/1.0'), dropHeader(d, 'Host')) },
  {
    name: 'more body than Content-Length',
    mistake: false,
    apply: (d) => ((d.length = false), setHeader(d, 'Content-Length', String(d.body.length)), (d.body = Buffer.concat([d.body, Buffer.from('EXTRA BYTES THAT ARE NOT A REQUEST\r\n\r\n')]))),
  },
  { name: 'body shorter than Content-Length', mistake: false, incomplete: true, apply: (d) => ((d.length = false), setHeader(d, 'Content-Length', String(d.body.length + 500))) },
  {
    name: 'chunked body without its last chunk',
    mistake: false,
    incomplete: true,
    apply: (d) => (
      (d.length = false),
      dropHeader(d, 'Content-Length'),
      setHeader(d, 'Transfer-Encoding', 'chunked'),
      (d.body = Buffer.from(`${d.body.length.toString(16)}\r\n${d.body.toString()}\r\n`))
    ),
  },
  { name: 'headers never finished', mistake: false, incomplete: true, apply: (d) => void (d.raw = Buffer.from(`${head(d)}X-Unfinished: `)) },
];

export const MUTATIONS: Readonly<Record<FuzzCategory, readonly Mutation[]>> = { identifier: IDENTIFIER, path: PATH, method: METHOD, header: HEADER, framing: FRAMING };

/** `count` cases from `seed`, the categories in turn; ids `<idPrefix>-<n>` so their records can be found. */
export function fuzzCorpus(seed: number, count: number, idPrefix: string): FuzzCase[] {
  const rnd = seededRandom(seed);
  const pick: Pick = (items) => items[Math.floor(rnd() * items.length)]!;
  const cases: FuzzCase[] = [];
  for (let n = 0; n < count; n++) {
    const category = FUZZ_CATEGORIES[n % FUZZ_CATEGORIES.length]!;
    const mutation = pick(MUTATIONS[category]);
    const consumer = rnd() < 0.5 ? 'demobank' : 'moc';
    const body = Buffer.from(JSON.stringify({ idNumber: '010000019', lastNameEn: 'HENG' }));
    const d: Draft = {
      method: 'POST',
      target: serviceTarget(SERVICE_PARTS),
      version: 'HTTP/1.1',
      headers: [
        ['Host', '127.0.0.1'],
        ['X-Road-Client', CLIENTS[consumer]],
        ['X-Road-Id', `${idPrefix}-${n}`],
        ['Content-Type', 'application/json'],
        ['Connection', 'close'],
      ],
      body,
      length: true,
    };
    mutation.apply(d, pick, rnd);
    if (d.length) setHeader(d, 'Content-Length', String(d.body.length));
    const bytes = d.raw ?? Buffer.concat([Buffer.from(`${head(d)}\r\n`, 'latin1'), d.body]);
    cases.push({ n, category, mutation: mutation.name, consumer, bytes, clientMistake: mutation.mistake, incomplete: mutation.incomplete === true });
  }
  return cases;
}
