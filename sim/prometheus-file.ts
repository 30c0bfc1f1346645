import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { writeFileAtomic } from '../common/files.js';
import { PROJECT_ROOT } from '../common/paths.js';
import { INSTANCE } from './topology.js';

/**
 * `<stateDir>/prometheus.yml`: Prometheus for the network `npm start` runs, on the ports it
 * actually runs on (an offset, --central-port), so nobody edits a copy by hand. Same jobs, labels
 * and rules as docker-compose's ops/prometheus/prometheus.yml; the rules and the Grafana
 * dashboard select on these job names. The rule file is named by absolute path: Prometheus
 * resolves relative ones against the configuration file's directory, here the state directory.
 */
export const RULES_FILE = join(PROJECT_ROOT, 'ops', 'prometheus', 'rules.yml');

export const prometheusFilePath = (stateDir: string) => join(stateDir, 'prometheus.yml');

export interface ScrapeTargets {
  /** Central's base URL (it serves /metrics). */
  readonly centralUrl: string;
  /** Each gateway's admin port (/metrics), with the member it belongs to. */
  readonly gateways: ReadonlyArray<{ readonly member: string; readonly adminUrl: string }>;
}

/** host:port of a base URL, as Prometheus targets are written (a wildcard bind is scraped on loopback). */
function target(url: string): string {
  const u = new URL(url);
  const host = u.hostname === '0.0.0.0' ? '127.0.0.1' : u.hostname === '[::]' ? '[::1]' : u.hostname;
  return `${host}:${u.port}`;
}

export function prometheusConfig(t: ScrapeTargets): string {
  const config = {
    global: { scrape_interval: '15s', evaluation_interval: '15s', external_labels: { instance_name: INSTANCE } },
    rule_files: [RULES_FILE],
    scrape_configs: [
      { job_name: 'camdx-central', static_configs: [{ targets: [target(t.centralUrl)] }] },
      { job_name: 'camdx-gateway', static_configs: t.gateways.map((g) => ({ targets: [target(g.adminUrl)], labels: { member: g.member } })) },
    ],
  };
  const header = [
    '# Written by npm start for the network it runs (sim/prometheus-file.ts); rewritten at every start.',
    `# prometheus --config.file=<this file> --storage.tsdb.path=<state dir>/prometheus --web.listen-address=127.0.0.1:9090`,
  ];
  return `${header.join('\n')}\n${toYaml(config)}`;
}

/** Writes the file for `targets` into the state directory; returns its path. */
export function writePrometheusFile(stateDir: string, targets: ScrapeTargets): string {
  const path = prometheusFilePath(stateDir);
  writeFileAtomic(path, prometheusConfig(targets));
  return path;
}
