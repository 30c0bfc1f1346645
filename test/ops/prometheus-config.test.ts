import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { prometheusConfig, RULES_FILE, writePrometheusFile } from '../../sim/prometheus-file.js';
import { MEMBERS, PORTS, simPorts } from '../../sim/topology.js';
import { grafanaQueries, OPS, promtool, readGrafanaDashboard } from '../support/prometheus.js';
import { tempDir } from '../support/tmp.js';
import { requireTool } from '../support/tools.js';

interface PromConfig {
  rule_files: string[];
  scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[]; labels?: Record<string, string> }> }>;
}

const config = (name: string) => parseYaml(readFileSync(join(OPS, 'prometheus', name), 'utf8')) as PromConfig;
/** What `npm start` writes for the network at `offset` on 127.0.0.1 (sim/prometheus-file.ts). */
const loopbackTargets = (offset = 0) => {
  const ports = simPorts(offset);
  return { centralUrl: `http://127.0.0.1:${ports.centralConsole}`, gateways: MEMBERS.map((m) => ({ member: m.member, adminUrl: `http://127.0.0.1:${ports.members[m.key].admin}` })) };
};
const loopback = (offset = 0) => parseYaml(prometheusConfig(loopbackTargets(offset))) as PromConfig;
const targetsOf = (c: PromConfig, job: string) =>
  c.scrape_configs.find((s) => s.job_name === job)!.static_configs.flatMap((s) => s.targets.map((target) => ({ target, member: s.labels?.member })));

describe('ops/prometheus', () => {
  it('prometheus.yml passes promtool check config (with its rules)', requireTool('promtool'), () => {
    const r = promtool('check', 'config', join(OPS, 'prometheus', 'prometheus.yml'));
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/SUCCESS: 1 rule files found/);
  });

  it('the file npm start writes into its state directory passes promtool check config there (rules by absolute path)', requireTool('promtool'), () => {
    const dir = tempDir('camdx-prometheus-file-');
    try {
      const file = writePrometheusFile(dir.path, loopbackTargets(500));
      expect(file).toBe(join(dir.path, 'prometheus.yml'));
      const r = promtool('check', 'config', file);
      expect(r.code, r.output).toBe(0);
      expect(r.output).toMatch(/SUCCESS: 1 rule files found/);
      expect(r.output).toContain(RULES_FILE);
    } finally {
      dir.cleanup();
    }
  });

  it('rules.yml passes promtool check rules, and every alert behaves as its unit tests say', requireTool('promtool'), () => {
    const check = promtool('check', 'rules', join(OPS, 'prometheus/rules.yml'));
    expect(check.code, check.output).toBe(0);
    const test = promtool('test', 'rules', join(OPS, 'prometheus/rules.test.yml'));
    expect(test.code, test.output).toBe(0);
    // Each alert the brief names has a rule, and the unit tests exercise every rule.
    const rules = parseYaml(readFileSync(join(OPS, 'prometheus/rules.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
    const alerts = rules.groups.flatMap((g) => g.rules);
    const exprs = alerts.map((a) => a.expr).join('\n');
    for (const metric of ['up{job="camdx-gateway"}', 'camdx_gateway_requests_total', 'camdx_central_globalconf_expires_at_seconds', 'camdx_gateway_timestamp_unstamped_signatures', 'camdx_gateway_timestamp_oldest_unstamped_age_seconds', 'camdx_gateway_ocsp_good', 'camdx_gateway_ocsp_age_seconds']) {
      expect(exprs).toContain(metric);
    }
    const tested = readFileSync(join(OPS, 'prometheus/rules.test.yml'), 'utf8');
    for (const a of alerts) expect(tested, a.alert).toContain(`alertname: ${a.alert}`);
  });

  it('the loopback configuration scrapes the ports of sim/topology.ts on 127.0.0.1, moved by the offset', () => {
    const c = loopback();
    expect(targetsOf(c, 'camdx-central').map((t) => t.target)).toEqual([`127.0.0.1:${PORTS.centralConsole}`]);
    expect(targetsOf(c, 'camdx-gateway')).toEqual(MEMBERS.map((m) => ({ target: `127.0.0.1:${m.ports.admin}`, member: m.member })));
    const moved = loopback(2000);
    expect(targetsOf(moved, 'camdx-central').map((t) => t.target)).toEqual([`127.0.0.1:${PORTS.centralConsole + 2000}`]);
    expect(targetsOf(moved, 'camdx-gateway').map((t) => t.target)).toEqual(MEMBERS.map((m) => `127.0.0.1:${m.ports.admin + 2000}`));
  });

  it('the docker-compose configuration scrapes the same ports by container name', () => {
    const c = config('prometheus.yml');
    expect(targetsOf(c, 'camdx-central').map((t) => t.target)).toEqual([`central:${PORTS.centralConsole}`]);
    expect(targetsOf(c, 'camdx-gateway')).toEqual(MEMBERS.map((m) => ({ target: `gw-${m.key}:${m.ports.admin}`, member: m.member })));
    // Same jobs and rules in both, only the addresses differ (npm start's names its rule file by absolute path).
    const local = loopback();
    expect(c.scrape_configs.map((s) => s.job_name)).toEqual(local.scrape_configs.map((s) => s.job_name));
    expect(c.rule_files.map((f) => join(OPS, 'prometheus', f))).toEqual(local.rule_files);
  });
});

describe('ops/grafana', () => {
  const datasources = parseYaml(readFileSync(join(OPS, 'grafana/provisioning/datasources/prometheus.yml'), 'utf8')) as { datasources: Array<{ uid: string; type: string; url: string }> };
  const providers = parseYaml(readFileSync(join(OPS, 'grafana/provisioning/dashboards/camdx.yml'), 'utf8')) as { providers: Array<{ type: string; options: { path: string } }> };

  it('provisions the Prometheus datasource and the dashboards directory', () => {
    expect(datasources.datasources).toEqual([expect.objectContaining({ uid: 'prometheus', type: 'prometheus', url: 'http://prometheus:9090' })]);
    expect(providers.providers).toEqual([expect.objectContaining({ type: 'file', options: expect.objectContaining({ path: '/var/lib/grafana/dashboards' }) })]);
  });

  it('has the panels the brief asks for, each on the provisioned datasource, with distinct ids and queries', () => {
    const dashboard = readGrafanaDashboard() as unknown as { uid: string; panels: Array<{ id: number; datasource: { uid: string }; gridPos: object; targets: Array<{ datasource: { uid: string }; expr: string }> }> };
    expect(dashboard.uid).toBe('camdx-overview');
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels) {
      expect(p.gridPos).toBeDefined();
      expect(p.datasource.uid).toBe(datasources.datasources[0]!.uid);
      for (const t of p.targets) expect(t.datasource.uid).toBe(datasources.datasources[0]!.uid);
    }
    const exprs = grafanaQueries().map((q) => q.expr);
    expect(exprs.some((e) => /sum by \(client, service\) \(rate\(camdx_gateway_requests_total/.test(e))).toBe(true);
    expect(exprs.some((e) => /sum by \(fault\) .*fault!=""/.test(e))).toBe(true);
    expect(exprs.filter((e) => e.startsWith('histogram_quantile(') && e.includes('camdx_gateway_request_duration_seconds_bucket')).length).toBeGreaterThanOrEqual(3);
    expect(exprs.some((e) => e.includes('camdx_gateway_timestamp_unstamped_signatures'))).toBe(true);
    // Substitution leaves no Grafana variable behind.
    for (const e of exprs) expect(e).not.toContain('$');
  });
});
