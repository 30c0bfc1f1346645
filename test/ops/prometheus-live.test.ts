import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../support/http.js';
import { CLIENT, SERVICE, startTestNetwork, type TestNetwork } from '../support/network.js';
import { grafanaQueries, OPS, startPrometheus, waitFor, type PromSample, type RunningPrometheus } from '../support/prometheus.js';
import { tempDir } from '../support/tmp.js';
import { requireTool } from '../support/tools.js';

/**
 * The real Prometheus scraping a real network (central in process, two gateway processes)
 * every second: the metrics, the alert rules and every query of the Grafana dashboard.
 */
let n: TestNetwork;
let prom: RunningPrometheus;
let dir: ReturnType<typeof tempDir>;
const host = (url: string) => new URL(url).host;
const ALLOWED = 5;

const value = (s: PromSample | undefined) => (s ? Number(s.value[1]) : undefined);

describe('Prometheus against a running network', requireTool('prometheus'), () => {
  beforeAll(async () => {
    n = await startTestNetwork();
    dir = tempDir('camdx-prometheus-');
    prom = await startPrometheus({
      dir: dir.path,
      // The job names of ops/prometheus, which the rules and the dashboard select on.
      jobs: { 'camdx-central': [host(n.central.running.consoleUrl)], 'camdx-gateway': [host(n.consumer.adminUrl), host(n.provider.adminUrl)] },
      scrapeInterval: '1s',
      ruleFiles: [join(OPS, 'prometheus/rules.yml')],
    });
  }, 120_000);
  afterAll(async () => {
    await prom?.stop();
    await n?.close();
    dir?.cleanup();
  });

  it('scrapes central and both gateways', async () => {
    const targets = await waitFor('all three targets to be up', async () => {
      const t = await prom.targets();
      return t.length === 3 && t.every((x) => x.health === 'up') ? t : undefined;
    }, 30_000);
    expect(targets.map((t) => t.scrapeUrl).sort()).toEqual([`${n.central.running.consoleUrl}/metrics`, `${n.consumer.adminUrl}/metrics`, `${n.provider.adminUrl}/metrics`].sort());
  });

  it('reads back the gateways’ exchange counters, allowed and denied', async () => {
    for (let i = 0; i < ALLOWED; i++) {
      const res = await call(`${n.serviceUrl}/echo/item-${i}`, { method: 'POST', headers: [['X-Road-Client', CLIENT], ['Content-Type', 'text/plain']], body: `call ${i}` });
      expect(res.status).toBe(200);
    }
    const denied = await call(`${n.serviceUrl}/admin/x`, { headers: [['X-Road-Client', CLIENT]] });
    expect(denied.headers['x-road-error']).toBe('Server.ServerProxy.AccessDenied');

    const ok = `camdx_gateway_requests_total{side="Client", client="${CLIENT}", service="${SERVICE}", status="200", fault=""}`;
    const seen = await waitFor('the consumer’s counter to reach the calls made', async () => ((value((await prom.query(ok))[0]) ?? 0) >= ALLOWED ? await prom.query(ok) : undefined), 30_000);
    expect(seen).toHaveLength(1);
    expect(value(seen[0])).toBe(ALLOWED);
    expect(seen[0]!.metric).toMatchObject({ job: 'camdx-gateway', server: 'CAMDX/COM/DEMOBANK/SS1', instance: host(n.consumer.adminUrl) });

    const deniedSeries = await waitFor('the denied call on both sides', async () => {
      const r = await prom.query('camdx_gateway_requests_total{fault="Server.ServerProxy.AccessDenied"}');
      return r.length === 2 ? r : undefined;
    });
    expect(deniedSeries.map((s) => s.metric.side).sort()).toEqual(['Client', 'Producer']);
    expect(deniedSeries.every((s) => value(s) === 1 && s.metric.status === '500')).toBe(true);
  });

  it('answers every query of the Grafana dashboard with data', async () => {
    const queries = grafanaQueries('1m');
    expect(queries.length).toBeGreaterThanOrEqual(10);
    // The series exist now; traffic spread over a few scrapes gives the rates something to rise on.
    for (let i = 0; i < 6; i++) {
      expect((await call(`${n.serviceUrl}/echo/more-${i}`, { headers: [['X-Road-Client', CLIENT]] })).status).toBe(200);
      await new Promise((r) => setTimeout(r, 400));
    }
    const isTraffic = (expr: string) => expr.startsWith('sum by (client, service)');
    // Rates need two samples after the traffic; wait (bounded) until every query has a series.
    const results = await waitFor('every dashboard query to return data', async () => {
      const all = await Promise.all(queries.map(async (q) => ({ ...q, result: await prom.query(q.expr) })));
      const rising = (value(all.find((r) => isTraffic(r.expr))?.result[0]) ?? 0) > 0;
      return rising && all.every((r) => r.result.length > 0) ? all : undefined;
    }, 30_000).catch(async (err: Error) => {
      const empty = [];
      for (const q of queries) if (!(await prom.query(q.expr)).length) empty.push(`${q.panel} ${q.refId}: ${q.expr}`);
      throw new Error(`${err.message}; empty:\n${empty.join('\n')}`);
    });
    for (const r of results) expect(r.result.length, `${r.panel} (${r.refId}): ${r.expr}`).toBeGreaterThan(0);
    const traffic = results.find((r) => isTraffic(r.expr))!;
    expect(traffic.result.find((s) => s.metric.client === CLIENT && s.metric.service === SERVICE)).toBeDefined();
    expect(value(traffic.result[0])).toBeGreaterThan(0);
    const errors = results.find((r) => r.expr.startsWith('sum by (fault)'))!;
    expect(errors.result.map((s) => s.metric.fault)).toContain('Server.ServerProxy.AccessDenied');
  });

  it('evaluates every alert rule without error against the real series', async () => {
    const groups = await waitFor('every rule to have been evaluated', async () => {
      const res = await fetch(`${prom.url}/api/v1/rules`, { signal: AbortSignal.timeout(5000) });
      const body = (await res.json()) as { data: { groups: Array<{ name: string; rules: Array<{ name: string; health: string; lastError?: string; lastEvaluation: string }> }> } };
      const rules = body.data.groups.flatMap((g) => g.rules);
      return rules.length && rules.every((r) => !r.lastEvaluation.startsWith('0001')) ? rules : undefined;
    });
    const shipped = parseYaml(readFileSync(join(OPS, 'prometheus/rules.yml'), 'utf8')) as { groups: Array<{ rules: unknown[] }> };
    expect(groups.length).toBe(shipped.groups.flatMap((g) => g.rules).length);
    for (const r of groups) expect({ rule: r.name, health: r.health, error: r.lastError ?? '' }).toEqual({ rule: r.name, health: 'ok', error: '' });
    // A healthy network: nothing down, configuration fresh.
    const alerts = await prom.query('ALERTS{alertstate="firing"}');
    expect(alerts.map((a) => a.metric.alertname)).toEqual([]);
  });
});
