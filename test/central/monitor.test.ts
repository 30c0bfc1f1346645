import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerMonitor } from '../../central/dashboard/monitor.js';
import { parseSamples } from '../../central/dashboard/prom-text.js';
import { close, listen } from '../../common/http.js';
import { freePort } from '../../common/ports.js';
import { silentLogger } from '../../common/log.js';
import { GatewayMetrics } from '../../gateway/opmon/metrics.js';
import { startTestCentral, type TestCentral } from '../support/central.js';

/**
 * The poller behind the dashboard, against admin ports that serve a real GatewayMetrics
 * registry (the gateway's own prom-client metrics) and misbehaving ones.
 */
interface AdminPort {
  readonly url: string;
  metrics: GatewayMetrics;
  health: { status: number; body: unknown };
  close(): Promise<void>;
}

async function adminPort(server: string, behaviour: 'normal' | 'hang' | 'huge' | 'redirect' = 'normal'): Promise<AdminPort> {
  const port: AdminPort = {
    url: '',
    metrics: new GatewayMetrics({ server }),
    health: { status: 200, body: { status: 'ok', server, globalConf: { version: 7, outdated: false } } },
    close: async () => undefined,
  };
  const http: Server = createServer((req, res) => {
    if (behaviour === 'hang') return; // accepts, never answers
    if (behaviour === 'redirect') return void res.writeHead(302, { location: 'http://169.254.169.254/' }).end();
    if (behaviour === 'huge') return void res.end(`# filler\n`.repeat(300_000));
    if (req.url === '/metrics') return void port.metrics.registry.metrics().then((text) => res.writeHead(200, { 'content-type': port.metrics.registry.contentType }).end(text));
    if (req.url === '/health') return void res.writeHead(port.health.status, { 'content-type': 'application/json' }).end(JSON.stringify(port.health.body));
    res.writeHead(404).end();
  });
  const bound = await listen(http, 0, '127.0.0.1');
  return Object.assign(port, {
    url: `http://127.0.0.1:${bound}`,
    close: () => {
      http.closeAllConnections();
      return close(http);
    },
  });
}

const CLIENT = 'CAMDX/COM/DEMOBANK/ONBOARDING';
const SERVICE = 'CAMDX/GOV/MOI/KYC/kyc';
let t: TestCentral;
let now = 1_000_000;
const ports: AdminPort[] = [];
const monitor = (options: { timeoutMs?: number; maxBodyBytes?: number } = {}) => new ServerMonitor(t.running.registry, silentLogger, { intervalMs: 60_000, timeoutMs: 1000, ...options }, () => now);
const register = async (code: string, url: string) => {
  const id = `CAMDX/GOV/MOI/${code}`;
  await t.admin.call('POST', '/servers', { id, address: `127.0.0.1:${await freePort()}`, monitoringUrl: url });
  return id;
};

beforeAll(async () => {
  t = await startTestCentral();
  await t.admin.call('POST', '/members', { id: 'CAMDX/GOV/MOI', name: 'Ministry of Interior' });
});
afterAll(async () => {
  await Promise.all(ports.map((p) => p.close()));
  await t?.close();
});

describe('the server monitor', () => {
  it('reads health and per-second rates by client → service and by error type', async () => {
    const consumer = await adminPort('CAMDX/COM/DEMOBANK/SS1');
    const provider = await adminPort('CAMDX/GOV/MOI/SS1');
    ports.push(consumer, provider);
    const consumerId = await register('C1', consumer.url);
    const providerId = await register('P1', provider.url);
    const m = monitor();
    await m.pollOnce(); // a baseline
    expect(m.healthOf(consumerId)).toMatchObject({ state: 'up', reason: null, globalConfVersion: 0 });

    // 10 fine and 2 denied in 2 s, seen by both gateways; plus one pair only a provider saw.
    consumer.metrics.requests.inc({ side: 'Client', client: CLIENT, service: SERVICE, status: '200', fault: '' }, 10);
    consumer.metrics.requests.inc({ side: 'Client', client: CLIENT, service: SERVICE, status: '500', fault: 'Server.ServerProxy.AccessDenied' }, 2);
    provider.metrics.requests.inc({ side: 'Producer', client: CLIENT, service: SERVICE, status: '200', fault: '' }, 10);
    provider.metrics.requests.inc({ side: 'Producer', client: CLIENT, service: SERVICE, status: '500', fault: 'Server.ServerProxy.AccessDenied' }, 2);
    provider.metrics.requests.inc({ side: 'Producer', client: 'CAMDX/GOV/MOC/BIZREG', service: SERVICE, status: '200', fault: '' }, 4);
    provider.metrics.unstamped.set(12);
    provider.metrics.ocspGood.set({ certificate: 'auth' }, 1);
    provider.metrics.ocspGood.set({ certificate: 'signing' }, 0);
    now += 2000;
    await m.pollOnce();

    const h = m.history();
    expect(h.times).toEqual([now - 2000, now]);
    // Counted once per exchange: from the consumer's side where it reports, else the provider's.
    expect(h.traffic).toEqual([
      { client: CLIENT, service: SERVICE, values: [0, 6] },
      { client: 'CAMDX/GOV/MOC/BIZREG', service: SERVICE, values: [0, 2] },
    ]);
    expect(h.errors).toEqual([{ fault: 'Server.ServerProxy.AccessDenied', values: [0, 1] }]);
    expect(m.healthOf(providerId)).toMatchObject({ state: 'up', unstampedSignatures: 12, ocspGood: false, checkedAt: now, lastUpAt: now });

    // Counters that went back (a restarted gateway) count from zero, never negative.
    provider.metrics = new GatewayMetrics({ server: 'CAMDX/GOV/MOI/SS1' });
    provider.metrics.requests.inc({ side: 'Producer', client: 'CAMDX/GOV/MOC/BIZREG', service: SERVICE, status: '200', fault: '' }, 3);
    now += 1000;
    await m.pollOnce();
    expect(m.history().traffic.find((s) => s.client === 'CAMDX/GOV/MOC/BIZREG')!.values).toEqual([0, 2, 3]);
    expect(m.history().traffic.find((s) => s.client === CLIENT)!.values).toEqual([0, 6, 0]);

    await t.admin.call('PATCH', `/servers/${consumerId}`, { monitoringUrl: null });
    await t.admin.call('PATCH', `/servers/${providerId}`, { monitoringUrl: null });
    await m.pollOnce();
    expect(m.healthOf(consumerId)).toBeUndefined();
  });

  it('keeps only the last historyPoints points', async () => {
    const m = new ServerMonitor(t.running.registry, silentLogger, { historyPoints: 3 }, () => now);
    for (let i = 0; i < 5; i++) {
      now += 1000;
      await m.pollOnce();
    }
    expect(m.history().times).toEqual([now - 2000, now - 1000, now]);
  });

  it('tells degraded from down, within the timeout, and never follows redirects or reads unbounded answers', async () => {
    const degraded = await adminPort('CAMDX/GOV/MOI/D1');
    degraded.health = { status: 503, body: { status: 'degraded', globalConf: { version: 3, outdated: true } } };
    degraded.metrics.confVersion.set(3);
    const hanging = await adminPort('CAMDX/GOV/MOI/H1', 'hang');
    const huge = await adminPort('CAMDX/GOV/MOI/B1', 'huge');
    const redirect = await adminPort('CAMDX/GOV/MOI/R1', 'redirect');
    ports.push(degraded, hanging, huge, redirect);
    const ids = {
      degraded: await register('D1', degraded.url),
      hanging: await register('H1', hanging.url),
      huge: await register('B1', huge.url),
      redirect: await register('R1', redirect.url),
      closed: await register('X1', `http://127.0.0.1:${await freePort()}`),
    };
    const m = monitor({ timeoutMs: 1500, maxBodyBytes: 1024 * 1024 });
    const started = Date.now();
    const round = m.pollOnce();
    // The round is waiting on the hanging server; central still answers at once.
    const asked = Date.now();
    expect((await fetch(`${t.running.consoleUrl}/dashboard/data`)).status).toBe(200);
    expect(Date.now() - asked).toBeLessThan(1000);
    await round;
    expect(Date.now() - started).toBeLessThan(4000);
    expect(m.healthOf(ids.degraded)).toMatchObject({ state: 'degraded', reason: 'health: HTTP 503 (degraded), global configuration outdated', globalConfVersion: 3 });
    expect(m.healthOf(ids.hanging)).toMatchObject({ state: 'down', reason: 'no answer within 1500 ms' });
    expect(m.healthOf(ids.closed)).toMatchObject({ state: 'down', reason: 'unreachable (ECONNREFUSED)' });
    expect(m.healthOf(ids.huge)).toMatchObject({ state: 'down', reason: 'answer larger than 1048576 bytes' });
    expect(m.healthOf(ids.redirect)).toMatchObject({ state: 'degraded', reason: 'health: HTTP 302' });
    expect(m.upStates().every((s) => !s.up)).toBe(true);
    for (const id of Object.values(ids)) await t.admin.call('DELETE', `/servers/${id}`);
  });

  it('polls in the background once started, and stops promptly even with a request in flight', async () => {
    const ok = await adminPort('CAMDX/GOV/MOI/OK2');
    ports.push(ok);
    const okId = await register('OK2', ok.url);
    const m = new ServerMonitor(t.running.registry, silentLogger, { intervalMs: 50, timeoutMs: 30_000 });
    m.start();
    const deadline = Date.now() + 5000;
    while ((m.healthOf(okId)?.state !== 'up' || m.history().times.length < 3) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(m.healthOf(okId)?.state).toBe('up');
    expect(m.history().times.length).toBeGreaterThanOrEqual(3);

    // A server that never answers holds the next round (timeout 30 s); stop() aborts it.
    const hanging = await adminPort('CAMDX/GOV/MOI/H2', 'hang');
    ports.push(hanging);
    const hangingId = await register('H2', hanging.url);
    await new Promise((r) => setTimeout(r, 200));
    const points = m.history().times.length;
    const stopping = Date.now();
    await m.stop();
    expect(Date.now() - stopping).toBeLessThan(1000);
    await new Promise((r) => setTimeout(r, 150));
    expect(m.history().times.length).toBe(points);
    for (const id of [okId, hangingId]) await t.admin.call('DELETE', `/servers/${id}`);
  });
});

describe('the Prometheus text parser', () => {
  const wanted = new Set(['a_total', 'b']);
  it('reads names, escaped label values, special values; skips comments, other names and malformed lines', () => {
    const text = [
      '# HELP a_total x',
      '# TYPE a_total counter',
      'a_total{side="Client",client="C/\\"quoted\\"",fault="",path="a\\\\b\\nc"} 3',
      'a_total 4 1700000000000',
      'b{x="1",} +Inf',
      'b{x="2"} NaN',
      'other_total{x="1"} 9',
      'a_total{broken="1" 5',
      'a_total{x="1"}',
      'a_total{x=unquoted} 1',
      'b{x="3"} not-a-number',
    ].join('\n');
    expect(parseSamples(text, wanted)).toEqual([
      { name: 'a_total', labels: { side: 'Client', client: 'C/"quoted"', fault: '', path: 'a\\b\nc' }, value: 3 },
      { name: 'a_total', labels: {}, value: 4 },
      { name: 'b', labels: { x: '1' }, value: Infinity },
      { name: 'b', labels: { x: '2' }, value: NaN },
    ]);
  });

  it('stops at maxSamples', () => {
    expect(parseSamples('b 1\nb 2\nb 3\n', wanted, 2)).toHaveLength(2);
  });
});
