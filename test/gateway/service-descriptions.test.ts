import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerGatewayServices } from '../../cli/gateway-services.js';
import { close, listen } from '../../common/http.js';
import type { GlobalConf } from '../../protocol/globalconf.js';
import { call } from '../support/http.js';
import { CLIENT, startTestNetwork, type TestNetwork } from '../support/network.js';

/**
 * Services of the provider's owner from OpenAPI documents, end to end (issue 19): an uploaded
 * 3.1 document and a fetched 3.0 one give their endpoints, go to central in a signed serviceAdd
 * and are "in progress" until the provider's polled configuration carries them; the consumer
 * calls the new service and reads its document with getOpenAPI; a partial template, a remote
 * `$ref`, a `file:` URL, a redirect and 10 MB + 1 are refused, leaving gateway.yaml as it was;
 * a refresh shows its diff and is refused while a right names a removed endpoint.
 */

const ORDERS = 'CAMDX/GOV/MOI/KYC/orders';
const PAYMENTS = 'CAMDX/GOV/MOI/KYC/payments';

const path = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string' } });
const ORDERS_31 = `openapi: 3.1.0
info: { title: orders, version: '1' }
paths:
  /orders:
    get: { responses: { '200': { description: the orders } } }
    post: { responses: { '201': { description: created } } }
  /orders/{orderId}:
    get:
      parameters: [{ name: orderId, in: path, required: true, schema: { type: string } }]
      responses: { '200': { description: one order } }
`;
/** The next version: GET /orders/{orderId} gone, DELETE added. */
const ORDERS_31_V2 = ORDERS_31.replace('    get:\n      parameters', '    delete:\n      parameters');
const PAYMENTS_30 = JSON.stringify({
  openapi: '3.0.3',
  info: { title: 'payments', version: '1' },
  paths: { '/payments': { get: { responses: { 200: { description: 'list' } } } }, '/payments/{id}': { put: { parameters: [path('id')], responses: { 204: { description: 'stored' } } } } },
});
const PARTIAL = JSON.stringify({ openapi: '3.1.0', info: { title: 'files', version: '1' }, paths: { '/files/{id}.json': { get: { parameters: [path('id')], responses: { 200: { description: 'a file' } } } } } });
const remoteRef = (url: string) =>
  JSON.stringify({ openapi: '3.1.0', info: { title: 'ref', version: '1' }, paths: { '/orders': { get: { responses: { 200: { description: 'x', content: { 'application/json': { schema: { $ref: url } } } } } } } } });

let n: TestNetwork;
/** The documents' web server: what it was asked for, in order. */
let docs: Server;
let docsUrl: string;
const asked: string[] = [];

beforeAll(async () => {
  docs = createServer((req, res) => {
    asked.push(req.url!);
    if (req.url === '/payments.json') return void res.writeHead(200, { 'content-type': 'application/json' }).end(PAYMENTS_30);
    if (req.url === '/moved') return void res.writeHead(302, { location: '/payments.json' }).end();
    // Chunked, without Content-Length: the fetch must count the bytes to stop.
    if (req.url === '/huge') return void res.writeHead(200, { 'content-type': 'application/yaml' }).end(Buffer.alloc(10 * 1024 * 1024 + 1, 0x20));
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"type":"object"}');
  });
  docsUrl = `http://127.0.0.1:${await listen(docs, 0, '127.0.0.1')}`;
  n = await startTestNetwork();
}, 90_000);
afterAll(async () => {
  await n?.close();
  if (docs) await close(docs);
});

async function api(method: string, path: string, body?: unknown) {
  const res = await n.provider.admin(path, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & { endpoints?: unknown[] } };
}
const described = async (id: string) => ((await api('GET', '/service-descriptions')).body as unknown as Array<{ serviceId: string; status: string; endpoints: unknown[] }>).find((d) => d.serviceId === id);

/** Polls until `probe` answers something `done` accepts (configurations are polled every second); returns the last answer. */
async function until<T>(probe: () => Promise<T>, done: (v: T) => boolean, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (done(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
}
const gatewayYaml = () => readFileSync(n.provider.config);
const publishedConf = async (): Promise<GlobalConf> => JSON.parse(Buffer.from((await (await fetch(`${n.central.running.url}/globalconf`)).text()).split('.')[1]!, 'base64url').toString('utf8')) as GlobalConf;
const auditLines = () => readFileSync(join(n.provider.dir, 'console-audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string; target: string; detail?: Record<string, unknown> });

describe('a service from an OpenAPI document', () => {
  it('an uploaded 3.1 document gives its endpoints, "in progress" until the configuration carries it; the consumer calls it and gets its document with getOpenAPI', async () => {
    const added = await api('POST', '/service-descriptions', { serviceId: ORDERS, baseUrl: n.echo.url, document: ORDERS_31 });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    const endpoints = [{ method: 'GET', path: '/orders' }, { method: 'POST', path: '/orders' }, { method: 'GET', path: '/orders/*' }];
    expect(added.body).toMatchObject({ serviceId: ORDERS, url: n.echo.url, endpoints });
    // Central applies it at once; the provider's next poll (every second) carries it. Only a poll
    // landing between the two could say "published" already.
    expect(['in progress', 'published']).toContain((added.body as { status: string }).status);
    expect(gatewayYaml().toString()).toContain(n.echo.url);
    expect((await until(() => described(ORDERS), (d) => d?.status === 'published'))?.status).toBe('published');

    const right = await n.central.admin.call<{ id: number }>('POST', '/access-rights', { subject: CLIENT, service: ORDERS, method: 'GET', path: '/orders/*' });
    expect(right.id).toBeGreaterThan(0);
    const called = await until(() => call(`${n.consumer.consumerUrl}/r1/${ORDERS}/orders/42`, { headers: [['X-Road-Client', CLIENT]] }), (r) => r.status === 200);
    expect(called.status, called.body.toString()).toBe(200);
    expect(called.headers['x-echo-url']).toBe('/orders/42');

    const doc = await call(`${n.consumer.consumerUrl}/r1/CAMDX/GOV/MOI/KYC/getOpenAPI?serviceCode=orders`, { headers: [['X-Road-Client', CLIENT]] });
    expect(doc.status).toBe(200);
    expect(doc.body.toString()).toBe(ORDERS_31);
  });

  it('a 3.0 document fetched once from a URL gives its endpoints', async () => {
    const before = asked.length;
    const added = await api('POST', '/service-descriptions', { serviceId: PAYMENTS, baseUrl: n.echo.url, url: `${docsUrl}/payments.json` });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    expect(added.body.endpoints).toEqual([{ method: 'GET', path: '/payments' }, { method: 'PUT', path: '/payments/*' }]);
    expect(asked.slice(before)).toEqual(['/payments.json']);
    const published = await until(publishedConf, (c) => c.services.some((s) => s.id === PAYMENTS));
    expect(published.services.find((s) => s.id === PAYMENTS)?.openApi).toBe(PAYMENTS_30);
  });

  const refusals: Array<[string, () => Record<string, unknown>, string, RegExp]> = [
    ['a partial path template', () => ({ document: PARTIAL }), 'document', /paths\.\/files\/\{id\}\.json: '\{id\}\.json' is a partial path template/],
    ['a $ref to another server', () => ({ document: remoteRef(`${docsUrl}/schemas/order.json`) }), 'document', /external reference 'http:\/\/127\.0\.0\.1:\d+\/schemas\/order\.json' is not resolved/],
    ['a file: URL', () => ({ url: 'file:///etc/passwd' }), 'url', /only http and https URLs are fetched, not file/],
    ['a redirect', () => ({ url: `${docsUrl}/moved` }), 'url', /HTTP 302 redirecting to \/payments\.json; redirects are not followed/],
    ['10 MB + 1 byte', () => ({ url: `${docsUrl}/huge` }), 'url', /larger than 10485760 bytes/],
  ];
  it.each(refusals)('%s is refused naming it, gateway.yaml stays as it was byte for byte, and the refusal is audited', async (_name, source, field, message) => {
    const yaml = gatewayYaml();
    const before = asked.length;
    const refused = await api('POST', '/service-descriptions', { serviceId: 'CAMDX/GOV/MOI/KYC/refused', baseUrl: n.echo.url, ...source() });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: 'invalid', field });
    expect(refused.body.message).toMatch(message);
    expect(gatewayYaml().equals(yaml)).toBe(true);
    expect(await described('CAMDX/GOV/MOI/KYC/refused')).toBeUndefined();
    // Only a URL given as the source is fetched; a $ref's target never is.
    expect(asked.slice(before).filter((p) => p.startsWith('/schemas'))).toEqual([]);
    expect(auditLines().at(-1)).toMatchObject({ action: 'POST /api/v1/service-descriptions', target: 'CAMDX/GOV/MOI/KYC/refused', detail: { status: 400, outcome: 'refused', field } });
  });

  it('a refresh shows its diff, is refused while a right names a removed endpoint, and applies once the right is revoked', async () => {
    const refresh = (apply: boolean) => api('POST', `/service-descriptions/${encodeURIComponent(ORDERS)}/refresh`, { document: ORDERS_31_V2, apply });
    const shown = await refresh(false);
    expect(shown.status, JSON.stringify(shown.body)).toBe(200);
    const right = { subject: CLIENT, method: 'GET', path: '/orders/*' };
    expect(shown.body).toEqual({
      added: [{ method: 'DELETE', path: '/orders/*' }],
      removed: [{ method: 'GET', path: '/orders/*' }],
      kept: [{ method: 'GET', path: '/orders' }, { method: 'POST', path: '/orders' }],
      rightsOnRemoved: [{ right, endpoint: { method: 'GET', path: '/orders/*' } }],
      applied: false,
    });

    const yaml = gatewayYaml();
    const version = (await publishedConf()).version;
    const refused = await refresh(true);
    expect(refused.status).toBe(409);
    expect(refused.body.message).toMatch(/CAMDX\/COM\/DEMOBANK\/ONBOARDING \(GET \/orders\/\*, on GET \/orders\/\*\).*remove those rights first/);
    expect(gatewayYaml().equals(yaml)).toBe(true);
    expect((await publishedConf()).version).toBe(version);

    const rights = await n.central.admin.call<Array<{ id: number; service: string }>>('GET', '/access-rights');
    for (const r of rights.filter((r) => r.service === ORDERS)) await n.central.admin.call('DELETE', `/access-rights/${r.id}`);
    // Once the provider's configuration no longer has the right, nothing blocks.
    expect((await until(() => refresh(false), (r) => (r.body.rightsOnRemoved as unknown[]).length === 0)).body.rightsOnRemoved).toEqual([]);
    const applied = await refresh(true);
    expect(applied.status, JSON.stringify(applied.body)).toBe(200);
    expect(applied.body).toMatchObject({ applied: true });
    expect(['in progress', 'published']).toContain((applied.body as { status: string }).status);
    const next = [{ method: 'GET', path: '/orders' }, { method: 'POST', path: '/orders' }, { method: 'DELETE', path: '/orders/*' }];
    expect(await until(() => described(ORDERS), (d) => d?.status === 'published')).toMatchObject({ status: 'published', endpoints: next });
    expect((await publishedConf()).services.find((s) => s.id === ORDERS)).toMatchObject({ endpoints: next, openApi: ORDERS_31_V2 });
  });

  it('`camdx gateway service list` prints each service with its status and endpoints', async () => {
    const out: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true));
    try {
      const program = new Command('camdx').exitOverride();
      registerGatewayServices(program.command('gateway'));
      await program.parseAsync(['node', 'camdx', 'gateway', 'service', 'list', '--config', n.provider.config]);
    } finally {
      write.mockRestore();
    }
    const text = out.join('');
    expect(text).toContain(`${PAYMENTS}: published`);
    expect(text).toMatch(new RegExp(`${ORDERS}: published \\(request \\d+\\), base URL ${n.echo.url}\\n  GET /orders\\n  POST /orders\\n  DELETE /orders/\\*\\n`));
  });
});
