import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerMonitor } from '../../central/dashboard/monitor.js';
import { close, listen } from '../../common/http.js';
import { silentLogger } from '../../common/log.js';
import { claimPort, freePort, portFree, releasePort } from '../../common/ports.js';
import { startTestCentral, type TestCentral } from '../support/central.js';

/**
 * WHATWG fetch's "bad ports" that an unprivileged process can bind. 10080 first: DEMOBANK's admin
 * port under `--port-offset 1000` (9080 + 1000), which the dashboard showed down for good.
 */
const BAD_PORTS = [10080, 6000, 6665, 6666, 6667, 6668, 6669, 6697, 5060, 5061, 4190, 3659, 2049, 1719, 1720, 1723];

/** The first bad port that no other process (of this project or any) holds, claimed for this one. */
async function claimBadPort(): Promise<number> {
  for (const port of BAD_PORTS) {
    if (!claimPort(port)) continue;
    if (await portFree(port)) return port;
    releasePort(port);
  }
  throw new Error(`every port of ${BAD_PORTS.join(', ')} is in use`);
}

let t: TestCentral;
let admin: Server;
let port: number;

beforeAll(async () => {
  t = await startTestCentral();
  await t.admin.call('POST', '/members', { id: 'CAMDX/COM/DEMOBANK', name: 'Demo Bank Plc' });
  port = await claimBadPort();
  // A gateway admin port in miniature: healthy, with metrics.
  admin = createServer((req, res) => {
    if (req.url === '/health') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', globalConf: { version: 4, outdated: false } }));
    if (req.url === '/metrics') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('camdx_gateway_globalconf_version 4\n');
    res.writeHead(404).end();
  });
  await listen(admin, port, '127.0.0.1');
});
afterAll(async () => {
  if (admin?.listening) await close(admin);
  if (port) releasePort(port);
  await t?.close();
});

describe('the server monitor on any port', () => {
  it(`shows a healthy server on a port fetch refuses (a WHATWG bad port such as 10080) as up`, async () => {
    const id = 'CAMDX/COM/DEMOBANK/SS1';
    await t.admin.call('POST', '/servers', { id, address: `127.0.0.1:${await freePort()}`, monitoringUrl: `http://127.0.0.1:${port}` });
    const m = new ServerMonitor(t.running.registry, silentLogger, { intervalMs: 60_000, timeoutMs: 2000 });
    await m.pollOnce();
    expect(m.healthOf(id)).toMatchObject({ state: 'up', reason: null, globalConfVersion: 4 });
    expect(m.upStates()).toEqual([{ server: id, up: true }]);
  });
});
