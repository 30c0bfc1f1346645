import { createServer } from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { close, listen } from '../../common/http.js';
import { limitConnections, LISTENER_LIMITS, listenerOptions } from '../../common/listen.js';
import { startMoiService, type RunningMoi } from '../../members/moi/server.js';
import { startDemoBank } from '../../sim/demo-bank.js';
import { startTestCamdigikey, type TestCamdigikey } from '../support/camdigikey.js';
import { startTestCentral, type TestCentral } from '../support/central.js';
import { startEcho, type EchoService } from '../support/echo.js';
import { capturingLogger } from '../support/pki.js';
import { slowHeaders, stalledUpload, statusOf, type Endpoint } from '../support/slow.js';
import { tempDir } from '../support/tmp.js';

describe('hardened listener options', () => {
  it('cut slow headers, stalled bodies and connections past the cap, with short limits', async () => {
    const limits = { headersTimeoutMs: 300, requestTimeoutMs: 600, maxConnections: 3 };
    const server = limitConnections(createServer(listenerOptions(limits), (req, res) => req.on('end', () => res.end('ok')).resume()), limits);
    const port = await listen(server, 0, '127.0.0.1');
    try {
      const [headers, body] = await Promise.all([slowHeaders({ port }, { boundMs: 3000 }), stalledUpload({ port }, 'POST / HTTP/1.1\r\nHost: x\r\n', { bodyBytes: 100, sentBytes: 10, boundMs: 3000 })]);
      expect(headers.afterMs).toBeLessThan(300 + 1000);
      expect(statusOf(headers.answer).status).toBe(408);
      expect(body.afterMs).toBeLessThan(600 + 1000);
      expect(body.afterMs).toBeGreaterThanOrEqual(600 - 50);
      // Three held connections; the fourth is closed as it arrives.
      const held = await Promise.all([0, 1, 2].map(() => new Promise<net.Socket>((resolve) => { const s = net.connect(port, '127.0.0.1', () => resolve(s)); })));
      await new Promise((r) => setTimeout(r, 50));
      const fourth = await slowHeaders({ port }, { boundMs: 3000 });
      expect(fourth.afterMs).toBeLessThan(200);
      expect(fourth.answer).toBe('');
      for (const s of held) s.destroy();
    } finally {
      await close(server);
    }
  });

  it('refuses a headers timeout longer than the request timeout', () => {
    expect(() => listenerOptions({ headersTimeoutMs: 2000, requestTimeoutMs: 1000, maxConnections: 1 })).toThrow(/headersTimeoutMs/);
  });
});

describe('every other listener of the project runs with them', () => {
  const dir = tempDir();
  let central: TestCentral;
  let camdigikey: TestCamdigikey;
  let moi: RunningMoi;
  let echo: EchoService;
  let bank: { url: string; stop(): Promise<void> };

  beforeAll(async () => {
    central = await startTestCentral();
    camdigikey = await startTestCamdigikey(dir.path, { url: central.pki.url, adminTokenFile: central.pki.pki.layout.adminToken });
    moi = await startMoiService({ stateDir: dir.path, port: 0, log: capturingLogger().log, population: { seed: 'listen', size: 10 } });
    echo = await startEcho();
    bank = await startDemoBank({ host: '127.0.0.1', port: 0, origin: 'http://127.0.0.1', camdigikey: camdigikey.client(), kycUrl: 'http://127.0.0.1:1', xroadClient: 'CAMDX/COM/DEMOBANK/ONBOARDING', log: capturingLogger().log });
  }, 120_000);
  afterAll(async () => {
    await bank?.stop();
    await echo?.close();
    await moi?.close();
    await camdigikey?.close();
    await central?.close();
    dir.cleanup();
  });

  it('each cuts a client sending slow headers within headersTimeoutMs + 1 s', async () => {
    const port = (url: string) => Number(new URL(url).port);
    const listeners: Record<string, Endpoint> = {
      pki: { port: port(central.pki.url) },
      central: { port: central.running.port },
      'camdigikey http': { port: port(camdigikey.running.httpUrl) },
      'camdigikey https': { port: port(camdigikey.running.httpsUrl), tls: {} },
      moi: { port: moi.port },
      'demo bank': { port: port(bank.url) },
      echo: { port: port(echo.url) },
    };
    const cuts = await Promise.all(Object.entries(listeners).map(async ([name, e]) => [name, await slowHeaders(e, { boundMs: LISTENER_LIMITS.headersTimeoutMs + 5000 })] as const));
    for (const [name, cut] of cuts) {
      expect(cut.afterMs, name).toBeLessThan(LISTENER_LIMITS.headersTimeoutMs + 1000);
      expect(statusOf(cut.answer).status, name).toBe(408);
    }
  }, 30_000);
});
