import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeNetworkFile } from '../../sim/network-file.js';
import type { SimPorts } from '../../sim/topology.js';
import { call, errorOf, outcomeOf, untilOutcome } from '../support/http.js';
import { CLIENT, runGateway, startTestNetwork, type TestGateway, type TestNetwork } from '../support/network.js';
import { run } from '../support/run.js';

/**
 * Issue 17, rows 3 and 11: a gateway's own OCSP responses across an OCSP outage. They are kept
 * on disk (a restart during the outage carries on with them), a gateway without any retries with
 * back-off and passes within seconds of the responder's return (or at once after `camdx fault
 * ocsp up`), and `POST /ocsp/refresh` says when it failed.
 */
const BIN = join(import.meta.dirname, '../../bin/camdx.js');
let net: TestNetwork;

beforeAll(async () => {
  net = await startTestNetwork();
}, 60_000);
afterAll(() => net?.close());

const exchange = () => call(`${net.serviceUrl}/echo/ocsp`, { method: 'POST', headers: [['X-Road-Client', CLIENT], ['Content-Type', 'text/plain']], body: 'hello' });

async function ocspResponder(down: boolean): Promise<void> {
  const pki = net.central.pki;
  const token = readFileSync(pki.pki.layout.adminToken, 'utf8').trim();
  const res = await fetch(`${pki.url}/admin/faults/ocsp`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ down }) });
  expect(res.status).toBe(200);
}

/** Restarts the gateway as one that never held an OCSP response (its stored ones removed while it is stopped). */
async function restartWithoutStoredOcsp(g: TestGateway): Promise<void> {
  await g.child.stop();
  rmSync(join(g.dir, 'ocsp'), { recursive: true, force: true });
  g.child = await runGateway(g.config);
}

describe('own OCSP responses across an OCSP outage', () => {
  it('a gateway restarted while the responder is down carries on with its stored fresh responses', async () => {
    await ocspResponder(false);
    expect(await untilOutcome(exchange, 'ok', 10_000)).toBe('ok');
    await ocspResponder(true);
    try {
      await Promise.all([net.provider.restart(), net.consumer.restart()]);
      // A poll, not one call: two gateways just started on a loaded machine may miss the first connect timeout.
      expect(await untilOutcome(exchange, 'ok', 10_000)).toBe('ok');
    } finally {
      await ocspResponder(false);
    }
  }, 30_000);

  it('POST /ocsp/refresh answers 502 naming each certificate while the responder is down, 200 once it is back', async () => {
    await ocspResponder(true);
    try {
      const failed = await net.provider.admin('/ocsp/refresh', { method: 'POST' });
      expect(failed.status).toBe(502);
      const body = (await failed.json()) as { error: string; message: string };
      expect(body.error).toBe('ocsp-unavailable');
      expect(body.message).toMatch(/^OCSP refresh failed: .*auth: the OCSP responder \S+ answered HTTP 503/);
      expect(body.message).toMatch(/signing: the OCSP responder \S+ answered HTTP 503/);
    } finally {
      await ocspResponder(false);
    }
    expect((await net.provider.admin('/ocsp/refresh', { method: 'POST' })).status).toBe(200);
  });

  it('a provider started during the outage, its stored responses unusable: CertValidation, then calls pass within seconds of the responder returning', async () => {
    await ocspResponder(true);
    try {
      // Stored files are checked, not believed: one is a good response about another certificate, one is torn.
      await net.provider.child.stop();
      copyFileSync(join(net.consumer.dir, 'ocsp', 'auth.der'), join(net.provider.dir, 'ocsp', 'auth.der'));
      writeFileSync(join(net.provider.dir, 'ocsp', 'signing.der'), readFileSync(join(net.provider.dir, 'ocsp', 'signing.der')).subarray(0, 100));
      net.provider.child = await runGateway(net.provider.config);
      const res = await exchange();
      expect(errorOf(res).type).toBe('Server.ClientProxy.CertValidation');
      expect(errorOf(res).message).toContain('no OCSP response');
    } finally {
      await ocspResponder(false);
    }
    // Its back-off retries (1 s, 2 s, 4 s …) find the responder again; the old schedule waited 5 minutes.
    expect(await untilOutcome(exchange, 'ok', 15_000)).toBe('ok');
  }, 30_000);

  it("'camdx fault ocsp up' has each running gateway refresh at once", async () => {
    const gateway = (g: TestGateway) => ({ member: g.spec.member, client: CLIENT, consumerUrl: g.consumerUrl, adminUrl: g.adminUrl, config: g.config });
    writeNetworkFile(net.central.stateDir, {
      host: '127.0.0.1',
      portOffset: 0,
      ports: {} as SimPorts,
      urls: { central: net.central.running.url, console: net.central.running.consoleUrl, pki: net.central.pki.url, dashboard: '', camdigikey: '', moi: '', demoBank: '' },
      gateways: { moi: gateway(net.provider), demobank: gateway(net.consumer) },
    });
    await ocspResponder(true);
    let up;
    try {
      await restartWithoutStoredOcsp(net.provider);
    } finally {
      up = await run(process.execPath, [BIN, '--state-dir', net.central.stateDir, 'fault', 'ocsp', 'up']);
    }
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toContain('gateway moi: fresh OCSP responses');
    expect(up.stdout).toContain('gateway demobank: fresh OCSP responses');
    // No waiting: the refresh happened before the command returned.
    expect(outcomeOf(await exchange())).toBe('ok');
  }, 30_000);
});
