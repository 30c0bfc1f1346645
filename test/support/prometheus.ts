import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { freePort } from '../../common/ports.js';

export const OPS = join(import.meta.dirname, '../../ops');

/** Runs promtool with `args`; returns its exit code and output. */
export function promtool(...args: string[]): { code: number | null; output: string } {
  const r = spawnSync('promtool', args, { encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw new Error(`cannot run promtool (apt-get install prometheus): ${r.error.message}`);
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

/** `promtool check metrics` on an exposition text: naming and type conventions (exit 0 = no problems). */
export function promtoolCheckMetrics(text: string): { code: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { encoding: 'utf8', input: text, timeout: 30_000 });
  if (r.error) throw new Error(`cannot run promtool (apt-get install prometheus): ${r.error.message}`);
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

export interface PromSample {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

export interface RunningPrometheus {
  readonly url: string;
  /** An instant query through the HTTP API; throws on an API error. */
  query(expr: string): Promise<PromSample[]>;
  /** Active scrape targets with their health. */
  targets(): Promise<Array<{ scrapeUrl: string; health: string; lastError: string }>>;
  output(): string;
  stop(): Promise<void>;
}

/** Polls `check` every 250 ms until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * The real `prometheus` binary scraping `jobs` (job name → host:port targets) every
 * `scrapeInterval`, with its data in `dir`, on a free loopback port. Rule files are loaded
 * and evaluated at the same interval.
 */
export async function startPrometheus(options: { dir: string; jobs: Record<string, string[]>; scrapeInterval?: string; ruleFiles?: string[] }): Promise<RunningPrometheus> {
  const interval = options.scrapeInterval ?? '1s';
  const config = {
    global: { scrape_interval: interval, evaluation_interval: interval, scrape_timeout: interval },
    ...(options.ruleFiles ? { rule_files: options.ruleFiles } : {}),
    scrape_configs: Object.entries(options.jobs).map(([job, targets]) => ({ job_name: job, static_configs: [{ targets }] })),
  };
  const configFile = join(options.dir, 'prometheus.yml');
  writeFileSync(configFile, toYaml(config));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    'prometheus',
    [`--config.file=${configFile}`, `--storage.tsdb.path=${join(options.dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error}`);
    return body.data;
  };
  const p: RunningPrometheus = {
    url,
    query: async (expr) => (await api<{ result: PromSample[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`)).result,
    targets: async () => (await api<{ activeTargets: Array<{ scrapeUrl: string; health: string; lastError: string }> }>('/api/v1/targets')).activeTargets,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
  try {
    await waitFor('prometheus to be ready', async () => {
      if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}: ${output}`);
      return (await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) })).ok || undefined;
    }, 30_000);
  } catch (err) {
    await p.stop();
    throw new Error(`${(err as Error).message}\n${output}`);
  }
  return p;
}

interface GrafanaDashboard {
  readonly templating?: { readonly list: ReadonlyArray<{ readonly name: string; readonly allValue?: string }> };
  readonly panels: ReadonlyArray<{ readonly id: number; readonly title: string; readonly targets?: ReadonlyArray<{ readonly refId: string; readonly expr: string }> }>;
}

export function readGrafanaDashboard(): GrafanaDashboard {
  return JSON.parse(readFileSync(join(OPS, 'grafana/dashboards/camdx.json'), 'utf8')) as GrafanaDashboard;
}

/**
 * Every query of every panel, with Grafana's variables replaced by what Grafana would send:
 * `$__rate_interval`/`$__interval`/`$__range` by `range`, dashboard variables by their "All" value.
 */
export function grafanaQueries(range = '1m'): Array<{ panel: string; refId: string; expr: string }> {
  const dashboard = readGrafanaDashboard();
  const vars = new Map((dashboard.templating?.list ?? []).map((v) => [v.name, v.allValue ?? '.*']));
  return dashboard.panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({
      panel: p.title,
      refId: t.refId,
      expr: t.expr.replace(/\$__(rate_interval|interval|range)\b/g, range).replace(/\$\{?(\w+)\}?/g, (whole, name: string) => vars.get(name) ?? whole),
    })),
  );
}
