import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, errorOf } from '../support/http.js';
import { CLIENT, SERVICE, startTestNetwork, type TestGateway, type TestNetwork } from '../support/network.js';
import { fetchOcsp } from '../support/ocsp.js';
import { craftRequest, sendToPeer } from '../support/peer.js';
import { run } from '../support/run.js';
import { gatewayKeystore } from '../../sim/provision.js';

/**
 * What a refusal leaves behind. A path can carry personal data (`/people/KH123…`), so an
 * AccessDenied names the endpoint pattern the path falls under, or `(no endpoint)` — in the
 * answer, the logs, the records and the archives; and ids a caller makes up never become
 * metric label values.
 */

let n: TestNetwork;
beforeAll(async () => {
  n = await startTestNetwork();
}, 120_000);
afterAll(() => n?.close());

const bin = join(import.meta.dirname, '../../bin/camdx.js');

/** Every file under `dir`, recursively. */
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

/** `/records` with the gateway's admin token when it has one. */
async function records(g: TestGateway): Promise<Array<{ messageId: string; faultCode: string | null; faultString: string | null; endpoint: string }>> {
  const tokenFile = join(g.dir, 'admin-token');
  const headers: Record<string, string> = existsSync(tokenFile) ? { authorization: `Bearer ${readFileSync(tokenFile, 'utf8').trim()}` } : {};
  const res = await fetch(`${g.consoleUrl}/api/v1/records`, { headers });
  expect(res.status).toBe(200);
  return (await res.json()) as Array<{ messageId: string; faultCode: string | null; faultString: string | null; endpoint: string }>;
}

describe('an AccessDenied names the endpoint, never the path', () => {
  const marker = `DENIEDPATH${randomBytes(8).toString('hex')}`;
  const cases: Array<[string, string, string, string]> = [
    ['msg-denied-endpoint', 'GET', `/admin/people/${marker}`, 'endpoint GET /admin/**'],
    ['msg-denied-nowhere', 'POST', `/nowhere/${marker}`, 'POST (no endpoint)'],
  ];

  it('in the answer, the logs, the records, the stored state and the archives of both gateways', async () => {
    for (const [id, method, path, named] of cases) {
      const res = await call(`${n.serviceUrl}${path}?q=${marker}`, { method, headers: [['X-Road-Client', CLIENT], ['X-Road-Id', id]] });
      const err = errorOf(res);
      expect(err.type).toBe('Server.ServerProxy.AccessDenied');
      expect(err.message).toBe(`${CLIENT} has no access right to ${named} of ${SERVICE}`);
    }
    await new Promise((r) => setTimeout(r, 300)); // let the message logs flush

    for (const g of [n.consumer, n.provider]) {
      const denied = (await records(g)).filter((r) => r.messageId.startsWith('msg-denied-'));
      expect(denied.map((r) => r.faultString).sort()).toEqual(cases.map(([, , , named]) => `${CLIENT} has no access right to ${named} of ${SERVICE}`).sort());
      // The refusal was logged (the test is not vacuous), without the path.
      expect(g.child.output()).toContain('Server.ServerProxy.AccessDenied');
      expect(g.child.output()).not.toContain(marker);
    }

    const found: string[] = [];
    for (const g of [n.consumer, n.provider]) {
      const archive = join(n.central.stateDir, `denied-${g.spec.ports.admin}.zip`);
      // Every record, stamped or not: the refusals were just made.
      const exported = await run(process.execPath, [bin, 'log', 'export', '--config', g.config, '--include-pending', '--out', archive]);
      expect(exported.code, exported.stderr).toBe(0);
      const entries = unzipSync(readFileSync(archive));
      expect(Buffer.from(entries['records.jsonl']!).toString()).toContain('(no endpoint)');
      for (const [name, content] of Object.entries(entries)) if (Buffer.from(content).includes(marker)) found.push(`${archive}!${name}`);
    }
    // Databases, their WAL, configuration, archives: nothing stored holds the path.
    for (const file of files(n.central.stateDir)) if (readFileSync(file).includes(marker)) found.push(file);
    expect(found).toEqual([]);
  });
});

describe('metric labels', () => {
  const serviceLabels = async (g: TestGateway) => {
    const text = await (await fetch(`${g.adminUrl}/metrics`)).text();
    return new Set(text.split('\n').filter((l) => l.startsWith('camdx_gateway_requests_total{')).map((l) => /service="([^"]*)"/.exec(l)?.[1]));
  };

  it('1,000 unknown service ids add one label value, `unregistered`', async () => {
    const before = await serviceLabels(n.consumer);
    const ids = Array.from({ length: 1000 }, (_, i) => (i % 2 ? `CAMDX/GOV/MOI/KYC/unknown${i}` : `CAMDX/GOV/NOBODY${i}/KYC/echo`));
    for (let i = 0; i < ids.length; i += 20) {
      const answers = await Promise.all(ids.slice(i, i + 20).map((id) => call(`${n.consumer.consumerUrl}/r1/${id}/x`, { headers: [['X-Road-Client', CLIENT]] })));
      for (const a of answers) expect(errorOf(a).type).toMatch(/^Client\.Unknown(Service|Member)$/);
    }
    const after = await serviceLabels(n.consumer);
    expect([...after].filter((l) => !before.has(l))).toEqual(['unregistered']);
  }, 60_000);

  it('on the provider too: validly signed calls of 50 unknown service ids add one label value', async () => {
    const before = await serviceLabels(n.provider);
    const ca = n.central.pki.pki.cas.get('camdx-ca')!.cert;
    const sign = gatewayKeystore(n.consumer.dir, 'sign');
    const auth = gatewayKeystore(n.consumer.dir, 'auth');
    const [signOcsp, authOcsp] = await Promise.all([fetchOcsp(n.central.pki.url, sign.cert, ca), fetchOcsp(n.central.pki.url, auth.cert, ca)]);
    for (let i = 0; i < 50; i++) {
      const msg = craftRequest({ signKey: sign.key, signCert: sign.cert, signOcsp, authOcsp, client: CLIENT, service: `CAMDX/GOV/MOI/KYC/unknown${i}`, head: { method: 'GET', path: '/x', query: '', headers: [] }, body: Buffer.alloc(0) });
      const res = await sendToPeer(`https://127.0.0.1:${n.provider.spec.ports.peer}`, { key: auth.key, chain: [auth.cert, ca] }, msg);
      expect(JSON.parse(res.body.toString())).toMatchObject({ type: 'Server.ServerProxy.UnknownService' });
    }
    const after = await serviceLabels(n.provider);
    expect([...after].filter((l) => !before.has(l))).toEqual(['unregistered']);
  }, 60_000);
});
