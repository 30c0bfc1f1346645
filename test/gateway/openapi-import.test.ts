import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { baseUrl, close, listen } from '../../common/http.js';
import { applyAllowed, endpointDiff } from '../../gateway/services/endpoint-diff.js';
import { fetchDocument } from '../../gateway/services/fetch-document.js';
import { importOpenApi, OpenApiImportError, OPENAPI_MAX_BYTES } from '../../gateway/services/openapi-import.js';
import { matchPath } from '../../protocol/paths.js';
import { CAMDIGIKEY_ENDPOINTS, KYC_ENDPOINTS } from '../../sim/topology.js';

const ok = { '200': { description: 'ok' } };
const info = { title: 'orders', version: '1' };
const idParam = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string' } });

/** The refusal an import or fetch ends in, as `field: message`. */
async function refusal(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (err) {
    if (err instanceof OpenApiImportError) return `${err.field}: ${err.message}`;
    throw err;
  }
  throw new Error('expected a refusal, but it succeeded');
}

const importDoc = (doc: object) => importOpenApi(JSON.stringify(doc), 'test');

describe('importOpenApi', () => {
  it('turns a 3.0 YAML document into endpoints: whole-segment {param} as *, servers[] not prepended', async () => {
    const doc = {
      openapi: '3.0.3',
      info,
      servers: [{ url: 'https://orders.example/v1' }],
      paths: {
        '/orders': { get: { responses: ok }, post: { responses: ok } },
        '/orders/{orderId}': { parameters: [idParam('orderId')], get: { responses: ok }, delete: { responses: ok } },
        '/orders/{orderId}/lines/{line}': { parameters: [idParam('orderId'), idParam('line')], patch: { responses: ok }, head: { responses: ok }, options: { responses: ok }, put: { responses: ok } },
        '/health/': { 'x-internal': true, summary: 'no operations here', get: { responses: ok } },
      },
    };
    const imported = await importOpenApi(toYaml(doc), 'test');
    expect(imported.version).toBe('3.0');
    expect(imported.document).toBe(toYaml(doc));
    expect(imported.endpoints).toEqual([
      { method: 'GET', path: '/orders' },
      { method: 'POST', path: '/orders' },
      { method: 'GET', path: '/orders/*' },
      { method: 'DELETE', path: '/orders/*' },
      { method: 'PUT', path: '/orders/*/lines/*' },
      { method: 'OPTIONS', path: '/orders/*/lines/*' },
      { method: 'HEAD', path: '/orders/*/lines/*' },
      { method: 'PATCH', path: '/orders/*/lines/*' },
      { method: 'GET', path: '/health/' },
    ]);
  });

  it('turns a 3.1 JSON document into endpoints, following an internal path-item $ref', async () => {
    const doc = {
      openapi: '3.1.0',
      info,
      paths: { '/files/{name}': { $ref: '#/components/pathItems/file' }, '/files': { get: { responses: ok } } },
      components: { pathItems: { file: { parameters: [idParam('name')], get: { responses: ok }, put: { responses: ok } } } },
      webhooks: { ping: { post: { responses: ok } } },
    };
    const imported = await importDoc(doc);
    expect(imported.version).toBe('3.1');
    expect(imported.endpoints).toEqual([
      { method: 'GET', path: '/files/*' },
      { method: 'PUT', path: '/files/*' },
      { method: 'GET', path: '/files' },
    ]);
  });

  it.each(['/files/{id}.json', '/a/x{id}', '/a/{x}{y}'])('refuses the partial template %s, naming it, never widening it to *', async (path) => {
    const parameters = [...path.matchAll(/\{(\w+)\}/g)].map((m) => idParam(m[1]!));
    const doc = { openapi: '3.0.3', info, paths: { '/ok': { get: { responses: ok } }, [path]: { parameters, get: { responses: ok } } } };
    expect(await refusal(importDoc(doc))).toMatch(new RegExp(`^document: test: paths\\.${path.replace(/[{}.]/g, '\\$&')}: '[^']+' is a partial path template`));
  });

  it("refuses a literal '*' path segment, which an endpoint would read as a wildcard", async () => {
    const doc = { openapi: '3.0.3', info, paths: { '/a/*': { get: { responses: ok } } } };
    expect(await refusal(importDoc(doc))).toContain("paths./a/*: a literal '*' segment");
  });

  it("refuses an invalid document with the parser's location", async () => {
    const doc = { openapi: '3.0.3', info, paths: { '/orders': { get: { responses: 'none' } } } };
    expect(await refusal(importDoc(doc))).toBe('document: test: paths./orders.get.responses: TYPE must be object');
    const missing = { openapi: '3.1.0', info, paths: { '/a': { get: { responses: { '200': { $ref: '#/components/responses/gone' } } } } } };
    expect(await refusal(importDoc(missing))).toContain('#/components/responses/gone');
  });

  it.each([
    ['Swagger 2.0', { swagger: '2.0', info, paths: {} }, 'a Swagger 2.0 document is not accepted'],
    ['OpenAPI 3.2', { openapi: '3.2.0', info, paths: {} }, 'OpenAPI 3.2.0 is not accepted'],
    ['a JSON object without "openapi"', { name: 'orders', paths: {} }, 'no "openapi" version field'],
    ['a JSON list', [1, 2], 'not an OpenAPI document'],
  ])('refuses %s', async (_name, doc, message) => {
    expect(await refusal(importDoc(doc))).toContain(message);
  });

  it('refuses text that is neither YAML nor JSON, and duplicate keys', async () => {
    expect(await refusal(importOpenApi('openapi: [3.0.3', 'test'))).toContain('not YAML or JSON');
    expect(await refusal(importOpenApi('openapi: 3.0.3\nopenapi: 3.1.0\n', 'test'))).toContain('not YAML or JSON');
  });

  it("refuses a document over central's 512 KiB, naming its size and the limit", async () => {
    const doc = { openapi: '3.0.3', info: { ...info, description: '' }, paths: { '/a': { get: { responses: ok } } } };
    const base = JSON.stringify(doc).length;
    const fits = JSON.stringify({ ...doc, info: { ...info, description: 'x'.repeat(OPENAPI_MAX_BYTES - base) } });
    expect(Buffer.byteLength(fits)).toBe(OPENAPI_MAX_BYTES);
    expect((await importOpenApi(fits, 'test')).endpoints).toEqual([{ method: 'GET', path: '/a' }]);
    const over = fits.replace('"x', '"xx');
    expect(await refusal(importOpenApi(over, 'test'))).toBe(`document: test: the document is ${OPENAPI_MAX_BYTES + 1} bytes; central stores at most ${OPENAPI_MAX_BYTES} bytes (512 KiB) per service`);
  });

  it.each([
    ['MOI', 'members/moi/openapi.yaml'],
    ['CamDigiKey', 'members/camdigikey/openapi.yaml'],
  ])("imports %s's shipped document", async (_name, file) => {
    const imported = await importOpenApi(readFileSync(file, 'utf8'), file);
    expect(imported.version).toBe('3.1');
    expect(imported.endpoints.length).toBeGreaterThan(0);
  });

  it("gives MOI's document exactly the KYC endpoints of the topology", async () => {
    const imported = await importOpenApi(readFileSync('members/moi/openapi.yaml', 'utf8'), 'moi');
    expect(imported.endpoints).toEqual(KYC_ENDPOINTS);
  });

  it("gives CamDigiKey's document endpoints that are each within the topology's, covering every one of them", async () => {
    const imported = await importOpenApi(readFileSync('members/camdigikey/openapi.yaml', 'utf8'), 'camdigikey');
    const covers = (pattern: { method: string; path: string }, e: { method: string; path: string }) => pattern.method === e.method && matchPath(pattern.path, e.path);
    for (const e of imported.endpoints) expect(CAMDIGIKEY_ENDPOINTS.some((p) => covers(p, e)), `${e.method} ${e.path}`).toBe(true);
    for (const p of CAMDIGIKEY_ENDPOINTS) expect(imported.endpoints.some((e) => covers(p, e)), `${p.method} ${p.path}`).toBe(true);
  });
});

/** A listener on 127.0.0.1 that counts requests and answers with `handler`. */
function testListener(handler: (req: IncomingMessage, res: ServerResponse) => void): { server: Server; requests: number; url: string } {
  const state = { server: createServer(), requests: 0, url: '' };
  state.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    state.requests++;
    handler(req, res);
  });
  return state;
}

describe('external $refs', () => {
  const target = testListener((_req, res) => res.end(JSON.stringify({ description: 'from afar' })));
  beforeAll(async () => {
    target.url = baseUrl('127.0.0.1', await listen(target.server, 0, '127.0.0.1'));
  });
  afterAll(() => close(target.server));

  it.each([
    ['a response', (url: string) => ({ paths: { '/a': { get: { responses: { '200': { $ref: `${url}/response.json` } } } } } }), 'paths./a.get.responses.200.$ref'],
    ['a path item', (url: string) => ({ paths: { '/a': { $ref: `${url}/path.json#/a` } } }), 'paths./a.$ref'],
    ['a schema, relative', () => ({ paths: {}, components: { schemas: { order: { $ref: 'order.json' } } } }), 'components.schemas.order.$ref'],
  ])('refuses a $ref in %s, naming its location; the listener saw no request', async (_name, paths, where) => {
    const doc = { openapi: '3.1.0', info, ...paths(target.url) };
    expect(await refusal(importDoc(doc))).toMatch(new RegExp(`^document: test: ${where.replace(/[.$/]/g, '\\$&')}: the external reference '[^']+' is not resolved`));
    expect(target.requests).toBe(0);
  });
});

describe('fetchDocument', () => {
  const TEN_MIB = 10 * 1024 * 1024;
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  /** Streams `bytes` spaces in chunks, without Content-Length, so only counting while reading can stop it. */
  const stream = (res: ServerResponse, bytes: number) => {
    let left = bytes;
    const more = () => {
      while (left > 0) {
        const piece = chunk.subarray(0, Math.min(left, chunk.length));
        left -= piece.length;
        if (!res.write(piece)) return void res.once('drain', more);
      }
      res.end();
    };
    more();
  };
  const docs = testListener((req, res) => {
    if (req.url === '/openapi.yaml') return void res.end('openapi: 3.0.3\n');
    if (req.url === '/moved') return void res.writeHead(302, { location: 'http://127.0.0.1:1/elsewhere.yaml' }).end();
    if (req.url === '/missing') return void res.writeHead(404).end('no');
    if (req.url === '/exactly-10mib') return stream(res, TEN_MIB);
    if (req.url === '/10mib-plus-1') return stream(res, TEN_MIB + 1);
    if (req.url === '/declared-too-big') return void res.writeHead(200, { 'content-length': String(TEN_MIB + 1) }).write('openapi');
    if (req.url === '/latin1') return void res.end(Buffer.from([0x6f, 0xe9, 0x0a]));
    // '/silent': never answers
  });
  beforeAll(async () => {
    docs.url = baseUrl('127.0.0.1', await listen(docs.server, 0, '127.0.0.1'));
  });
  afterAll(() => {
    docs.server.closeAllConnections();
    return close(docs.server);
  });

  it('fetches a document once', async () => {
    const before = docs.requests;
    expect(await fetchDocument(`${docs.url}/openapi.yaml`)).toBe('openapi: 3.0.3\n');
    expect(docs.requests - before).toBe(1);
  });

  it('refuses a redirect, naming its Location, and does not follow it', async () => {
    const before = docs.requests;
    expect(await refusal(fetchDocument(`${docs.url}/moved`))).toBe('url: the server answered HTTP 302 redirecting to http://127.0.0.1:1/elsewhere.yaml; redirects are not followed, give the final URL');
    expect(docs.requests - before).toBe(1);
  });

  it('refuses a non-2xx answer with its status', async () => {
    expect(await refusal(fetchDocument(`${docs.url}/missing`))).toBe('url: the server answered HTTP 404');
  });

  it('accepts exactly 10 MiB and refuses 10 MiB + 1 byte, counted while streaming', async () => {
    expect((await fetchDocument(`${docs.url}/exactly-10mib`)).length).toBe(TEN_MIB);
    expect(await refusal(fetchDocument(`${docs.url}/10mib-plus-1`))).toBe(`url: the document is larger than ${TEN_MIB} bytes, the most that is fetched`);
  });

  it('refuses a Content-Length over the limit before reading the body', async () => {
    expect(await refusal(fetchDocument(`${docs.url}/declared-too-big`))).toBe(`url: the document is ${TEN_MIB + 1} bytes; at most ${TEN_MIB} bytes are fetched`);
  });

  it.each(['file:///etc/passwd', 'ftp://127.0.0.1/openapi.yaml', 'data:text/plain,openapi'])('refuses %s', async (url) => {
    expect(await refusal(fetchDocument(url))).toMatch(/^url: only http and https URLs are fetched, not (file|ftp|data)$/);
  });

  it('refuses text that is not UTF-8, and a server that does not answer in time', async () => {
    expect(await refusal(fetchDocument(`${docs.url}/latin1`))).toBe('url: the document is not UTF-8 text');
    expect(await refusal(fetchDocument(`${docs.url}/silent`, { timeoutMs: 200 }))).toBe('url: no complete answer within 200 ms');
  });
});

describe('endpointDiff', () => {
  const current = [
    { method: 'GET', path: '/orders' },
    { method: 'GET', path: '/orders/{id}' },
    { method: 'DELETE', path: '/orders/*' },
    { method: 'POST', path: '/legacy' },
    { method: 'GET', path: '/old' },
  ] as const;
  const next = [
    { method: 'GET', path: '/orders' },
    { method: 'GET', path: '/orders/*' },
    { method: 'PUT', path: '/orders/*' },
  ] as const;

  it('lists added, removed and kept endpoints, treating {param} and * as the same segment', () => {
    const diff = endpointDiff(current, next, []);
    expect(diff.added).toEqual([{ method: 'PUT', path: '/orders/*' }]);
    expect(diff.removed).toEqual([
      { method: 'DELETE', path: '/orders/*' },
      { method: 'POST', path: '/legacy' },
      { method: 'GET', path: '/old' },
    ]);
    expect(diff.kept).toEqual([
      { method: 'GET', path: '/orders' },
      { method: 'GET', path: '/orders/*' },
    ]);
    expect(applyAllowed(diff)).toEqual({ allowed: true });
  });

  it('finds the rights that name a removed endpoint and refuses to apply while they remain', () => {
    const rights = [
      { subject: 'CAMDX/COM/BANK/APP', method: 'DELETE', path: '/orders/{id}' }, // names removed DELETE /orders/*
      { subject: 'CAMDX/COM/BANK/APP', method: '*', path: '/legacy' }, // names removed POST /legacy
      { subject: 'CAMDX/COM/SHOP/WEB', method: 'GET', path: '/orders/*' }, // kept
      { subject: 'CAMDX/COM/SHOP/WEB', method: '*', path: '/orders/*' }, // still names GET and PUT /orders/*
      { subject: 'CAMDX/COM/SHOP/WEB', method: '*', path: '/**' }, // names no endpoint in particular
    ] as const;
    const diff = endpointDiff(current, next, rights);
    expect(diff.rightsOnRemoved).toEqual([
      { right: rights[0], endpoint: { method: 'DELETE', path: '/orders/*' } },
      { right: rights[1], endpoint: { method: 'POST', path: '/legacy' } },
    ]);
    expect(applyAllowed(diff)).toEqual({
      allowed: false,
      message:
        'the refresh removes endpoints that 2 access right(s) name: CAMDX/COM/BANK/APP (DELETE /orders/{id}, on DELETE /orders/*); CAMDX/COM/BANK/APP (* /legacy, on POST /legacy); remove those rights first',
    });
  });
});
