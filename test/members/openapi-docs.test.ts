import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { centralLayout } from '../../central/settings.js';
import { freePort } from '../../common/ports.js';
import { matchMethod, matchPath, type MethodPattern } from '../../protocol/paths.js';
import { loopback, networkLayout, specOf } from '../../sim/network.js';
import { OPENAPI_FILES, openApiDocument } from '../../sim/openapi-docs.js';
import { provisionGateway } from '../../sim/provision.js';
import { CAMDIGIKEY_ENDPOINTS, CAMDIGIKEY_SERVICE, KYC_ENDPOINTS, KYC_SERVICE, MEMBERS, simPorts } from '../../sim/topology.js';
import { call } from '../support/http.js';
import { CLIENT, startTestNetwork, type TestNetwork } from '../support/network.js';

/** The documents of the shipped services: valid OpenAPI 3.1, true to the topology and the code, and served by getOpenAPI. */

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
type Doc = { paths: Record<string, Record<string, unknown>> };
const load = (code: keyof typeof OPENAPI_FILES) => parse(readFileSync(OPENAPI_FILES[code], 'utf8')) as Doc;
const operations = (doc: Doc) => Object.entries(doc.paths).flatMap(([path, item]) => METHODS.filter((m) => m in item).map((m) => ({ method: m.toUpperCase(), path })));

async function validate(text: string) {
  const validator = new Validator();
  const result = await validator.validate(text);
  return { valid: result.valid, version: validator.version, errors: result.errors };
}

describe('OpenAPI documents of kyc and camdigikey', () => {
  it('are OpenAPI 3.1 documents the validator accepts (and it refuses a broken one)', async () => {
    for (const code of ['kyc', 'camdigikey'] as const) {
      expect(await validate(openApiDocument(code)), code).toMatchObject({ valid: true, version: '3.1' });
    }
    const broken = openApiDocument('kyc').replace("'200':\n          description: The comparison.\n", "'200':\n");
    expect(broken).not.toBe(openApiDocument('kyc'));
    expect((await validate(broken)).valid).toBe(false);
  });

  it("kyc's operations are exactly its endpoints in sim/topology.ts", () => {
    const byKey = (a: { method: string; path: string }, b: { method: string; path: string }) => `${a.method} ${a.path}`.localeCompare(`${b.method} ${b.path}`);
    expect(operations(load('kyc')).sort(byKey)).toEqual(KYC_ENDPOINTS.map((e) => ({ method: e.method, path: e.path })).sort(byKey));
  });

  it('each camdigikey path matches exactly one of its endpoints, and the ten are those service.ts and server.ts dispatch', () => {
    const ops = operations(load('camdigikey'));
    expect(ops).toHaveLength(10);
    for (const op of ops) {
      const matching = CAMDIGIKEY_ENDPOINTS.filter((e) => matchMethod(e.method as MethodPattern, op.method) && matchPath(e.path, op.path));
      expect(matching, `${op.method} ${op.path}`).toHaveLength(1);
    }
    // The code's own list: the enveloped POSTs the service's switch dispatches, and the one GET the server routes.
    const service = readFileSync(join(import.meta.dirname, '../../members/camdigikey/service.ts'), 'utf8');
    const server = readFileSync(join(import.meta.dirname, '../../members/camdigikey/server.ts'), 'utf8');
    const prefix = '/api/v3.0/authentication/';
    const dispatched = [...service.matchAll(/case '(service-account\/[^']+)':/g)].map((m) => `POST ${prefix}${m[1]}`);
    const gets = [...server.matchAll(/api\.get\('\/([^']+)'/g)].map((m) => `GET ${prefix}${m[1]}`);
    expect(dispatched).toHaveLength(9);
    expect(ops.map((o) => `${o.method} ${o.path}`).sort()).toEqual([...dispatched, ...gets].sort());
  });
});

describe('getOpenAPI through a gateway, with the services registered as the simulation provisions them', () => {
  let n: TestNetwork;
  beforeAll(async () => {
    n = await startTestNetwork();
    const ctx = { central: n.central.admin, centralUrl: n.central.running.url, pkiUrl: n.central.pki.url, anchorFile: centralLayout(n.central.stateDir).anchor };
    const net = networkLayout(n.central.stateDir, loopback(), simPorts());
    const moi = specOf(MEMBERS.find((m) => m.key === 'moi')!, loopback(), simPorts(), net);
    // State from before this version: kyc registered without a document; provisioning adds it.
    await n.central.admin.call('POST', '/services', { id: KYC_SERVICE, endpoints: KYC_ENDPOINTS });
    await provisionGateway(ctx, { ...n.provider.spec, services: { ...n.provider.spec.services, ...moi.services } }, n.provider.dir);
    // TSC's gateway is provisioned (it registers camdigikey) but not started: the consumer's gateway answers getOpenAPI from the global configuration.
    const tsc = specOf(MEMBERS.find((m) => m.key === 'tsc')!, loopback(), simPorts(), net);
    const dir = join(n.central.stateDir, 'gateways', 'TSC');
    mkdirSync(dir, { recursive: true });
    await provisionGateway(ctx, { ...tsc, ports: { consumer: await freePort(), peer: await freePort(), admin: await freePort() } }, dir);
  }, 120_000);
  afterAll(() => n?.close());

  /** getOpenAPI on the consumer's gateway, once its global configuration (polled every second) has the service. */
  async function getOpenApi(serviceId: string) {
    const [instance, memberClass, member, subsystem, code] = serviceId.split('/');
    const url = `${n.consumer.consumerUrl}/r1/${instance}/${memberClass}/${member}/${subsystem}/getOpenAPI?serviceCode=${code}`;
    const deadline = Date.now() + 20_000;
    for (;;) {
      const res = await call(url, { headers: [['X-Road-Client', CLIENT]] });
      if (res.status === 200 || Date.now() > deadline) return res;
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  it.each([
    ['kyc', KYC_SERVICE],
    ['camdigikey', CAMDIGIKEY_SERVICE],
  ] as const)('answers the %s document, as shipped and valid', async (code, serviceId) => {
    const res = await getOpenApi(serviceId);
    expect(res.status, res.body.toString()).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/yaml/);
    expect(res.body.toString()).toBe(openApiDocument(code));
    expect((await validate(res.body.toString())).valid).toBe(true);
  });
});
