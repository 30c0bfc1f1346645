import { getText, type GetAnswer } from '../../common/http.js';
import type { Logger } from '../../common/log.js';
import type { Registry } from '../registry/registry.js';
import { parseSamples, type Sample } from './prom-text.js';

export interface MonitorOptions {
  /** How often every monitored server is polled (the next round starts this long after the last ended). */
  readonly intervalMs: number;
  /** Bound on each request to a server; a server slower than this counts as not answering. */
  readonly timeoutMs: number;
  /** Points kept for the charts: a ring buffer in memory, lost on restart by design. */
  readonly historyPoints: number;
  /** Bound on an answer's size, so a misbehaving server cannot exhaust central's memory. */
  readonly maxBodyBytes: number;
}

export const DEFAULT_MONITOR_OPTIONS: MonitorOptions = { intervalMs: 5000, timeoutMs: 2000, historyPoints: 120, maxBodyBytes: 4 * 1024 * 1024 };

/** up: /health ok; degraded: it answers but is unhealthy or half its endpoints fail; down: nothing answers. */
export type HealthState = 'up' | 'degraded' | 'down' | 'unknown';

export interface ServerHealth {
  readonly state: HealthState;
  /** Why it is not up, in a few words (never the server's answer body). */
  readonly reason: string | null;
  readonly checkedAt: number | null;
  readonly lastUpAt: number | null;
  readonly globalConfVersion: number | null;
  readonly uptimeSeconds: number | null;
  readonly unstampedSignatures: number | null;
  /** Every own certificate has a fresh good OCSP response. */
  readonly ocspGood: boolean | null;
  readonly inFlight: number | null;
}

/** A rate series: exchanges per second by consumer→service (traffic) or by X-Road fault type (errors). */
export interface TrafficSeries {
  readonly client: string;
  readonly service: string;
  readonly values: readonly number[];
}
export interface ErrorSeries {
  readonly fault: string;
  readonly values: readonly number[];
}
export interface History {
  readonly times: readonly number[];
  readonly traffic: readonly TrafficSeries[];
  readonly errors: readonly ErrorSeries[];
}

const REQUESTS = 'camdx_gateway_requests_total';
const WANTED = new Set([
  REQUESTS,
  'camdx_gateway_process_uptime_seconds',
  'camdx_gateway_globalconf_version',
  'camdx_gateway_timestamp_unstamped_signatures',
  'camdx_gateway_ocsp_good',
  'camdx_gateway_in_flight_requests',
]);
/** Series shown per chart; the rest are summed into one "(other)" line, so a noisy network stays readable. */
const MAX_SERIES = 12;
/** A gateway up for less than this when first seen has all its counts since start attributed to now. */
const FRESH_START_SECONDS = 300;
const SEP = '\u0000';

interface Scrape {
  readonly url: string;
  readonly at: number;
  readonly uptime: number | null;
  /** side, client, service, status, fault → count. */
  readonly counters: Map<string, number>;
}

interface Point {
  readonly at: number;
  /** side, client, service, fault → exchanges per second over the last interval, summed over servers. */
  readonly rates: Map<string, number>;
}

const label = (s: Sample, name: string) => (s.labels[name] ?? '').slice(0, 300);

/**
 * Central's view of the security servers: polls each registered server's monitoring address
 * (`/health`, `/metrics`) in the background, on a timer, with bounded requests, so the API
 * never waits on a gateway. Health is kept per server; traffic and error rates (from the
 * gateways' `camdx_gateway_requests_total`) as a short ring buffer for the dashboard's charts.
 */
export class ServerMonitor {
  private readonly options: MonitorOptions;
  private readonly health = new Map<string, ServerHealth>();
  private readonly scrapes = new Map<string, Scrape>();
  private readonly points: Point[] = [];
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly registry: Registry,
    private readonly log: Logger,
    options: Partial<MonitorOptions> = {},
    private readonly clock: () => number = Date.now,
  ) {
    this.options = { ...DEFAULT_MONITOR_OPTIONS, ...options };
  }

  get intervalMs(): number {
    return this.options.intervalMs;
  }

  /** Polls at once, then every interval; rounds never overlap. */
  start(): void {
    if (this.timer || this.stopped) return;
    const loop = () => {
      this.round = this.pollOnce().finally(() => {
        this.round = undefined;
        if (!this.stopped) (this.timer = setTimeout(loop, this.options.intervalMs)).unref();
      });
    };
    (this.timer = setTimeout(loop, 0)).unref();
  }

  /** Stops the timer and aborts requests in flight; resolves when the current round has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort.abort();
    await this.round;
  }

  /** The last known health of a server, or undefined if it is not monitored (no monitoringUrl). */
  healthOf(serverId: string): ServerHealth | undefined {
    return this.health.get(serverId);
  }

  upStates(): Array<{ server: string; up: boolean }> {
    return [...this.health].map(([server, h]) => ({ server, up: h.state === 'up' }));
  }

  /** One polling round over every server that has a monitoring address. */
  async pollOnce(): Promise<void> {
    if (this.stopped) return;
    const servers = this.registry.servers.list().filter((s) => s.monitoringUrl);
    const monitored = new Set(servers.map((s) => s.id));
    for (const id of [...this.health.keys()]) if (!monitored.has(id)) this.health.delete(id);
    for (const id of [...this.scrapes.keys()]) if (!monitored.has(id)) this.scrapes.delete(id);
    for (const s of servers) if (!this.health.has(s.id)) this.health.set(s.id, emptyHealth('unknown', 'not checked yet'));

    const at = this.clock();
    const results = await Promise.all(servers.map(async (s) => ({ id: s.id, url: s.monitoringUrl!, ...(await this.check(s.monitoringUrl!)) })));
    if (this.stopped) return;
    const rates = new Map<string, number>();
    for (const r of results) {
      const previous = this.health.get(r.id);
      const samples = r.samples;
      const gauge = (name: string) => samples?.filter((x) => x.name === name).map((x) => x.value) ?? [];
      const one = (name: string) => gauge(name)[0] ?? null;
      const ocsp = gauge('camdx_gateway_ocsp_good');
      const health: ServerHealth = {
        state: r.state,
        reason: r.reason,
        checkedAt: at,
        lastUpAt: r.state === 'up' ? at : (previous?.lastUpAt ?? null),
        globalConfVersion: one('camdx_gateway_globalconf_version') ?? r.confVersion,
        uptimeSeconds: one('camdx_gateway_process_uptime_seconds'),
        unstampedSignatures: one('camdx_gateway_timestamp_unstamped_signatures'),
        ocspGood: ocsp.length ? ocsp.every((v) => v === 1) : null,
        inFlight: samples ? gauge('camdx_gateway_in_flight_requests').reduce((a, b) => a + b, 0) : null,
      };
      if (previous && previous.state !== health.state && previous.state !== 'unknown') {
        this.log[health.state === 'up' ? 'info' : 'warn']({ server: r.id, state: health.state, reason: health.reason }, 'monitored server changed state');
      }
      this.health.set(r.id, health);
      if (samples) this.addRates(rates, r.id, { url: r.url, at, uptime: health.uptimeSeconds, counters: counters(samples) });
    }
    this.points.push({ at, rates });
    while (this.points.length > this.options.historyPoints) this.points.shift();
  }

  /** Adds a server's increments since its last scrape (as rates) and keeps this scrape for next time. */
  private addRates(into: Map<string, number>, id: string, scrape: Scrape): void {
    let before = this.scrapes.get(id);
    this.scrapes.set(id, scrape);
    // First sight of this server (or a new address): only a baseline — unless the gateway
    // started moments ago, when its counters are exactly what happened since (the first calls
    // after `npm start` would otherwise never show).
    let from = before && before.url === scrape.url ? before : undefined;
    if (!from && scrape.uptime !== null && scrape.uptime <= FRESH_START_SECONDS) from = { url: scrape.url, at: scrape.at - scrape.uptime * 1000, uptime: 0, counters: new Map() };
    if (!from) return;
    before = from;
    const seconds = (scrape.at - before.at) / 1000;
    if (seconds <= 0) return;
    // A restarted gateway starts its counters at zero again.
    const restarted = scrape.uptime !== null && before.uptime !== null && scrape.uptime < before.uptime;
    for (const [key, value] of scrape.counters) {
      const previous = restarted ? 0 : (before.counters.get(key) ?? 0);
      const delta = value >= previous ? value - previous : value;
      if (delta <= 0) continue;
      const [side, client, service, , fault] = key.split(SEP);
      const k = [side, client, service, fault].join(SEP);
      into.set(k, (into.get(k) ?? 0) + delta / seconds);
    }
  }

  /**
   * The charts' data. Each exchange is counted by the consumer's gateway (side Client) and by
   * the provider's (Producer); a client→service pair is taken from the Client side when any
   * monitored consumer gateway reports it, else from the Producer side, so nothing counts twice.
   */
  history(): History {
    const times = this.points.map((p) => p.at);
    const keys = this.points.flatMap((p) => [...p.rates.keys()].map((k) => k.split(SEP) as [string, string, string, string]));
    const fromClient = new Set(keys.filter(([side]) => side === 'Client').map(([, c, s]) => c + SEP + s));
    const counted = ([side, c, s]: readonly string[]) => side === 'Client' || !fromClient.has(c! + SEP + s!);
    const traffic = new Map<string, number[]>();
    const errors = new Map<string, number[]>();
    const add = (map: Map<string, number[]>, key: string, i: number, v: number) => {
      if (!map.has(key)) map.set(key, new Array<number>(times.length).fill(0));
      map.get(key)![i]! += v;
    };
    this.points.forEach((p, i) => {
      for (const [key, rate] of p.rates) {
        const parts = key.split(SEP);
        if (!counted(parts)) continue;
        add(traffic, parts[1]! + SEP + parts[2]!, i, rate);
        if (parts[3]) add(errors, parts[3], i, rate);
      }
    });
    return {
      times,
      traffic: top(traffic, `(other)${SEP}(other)`).map(([k, values]) => ({ client: k.split(SEP)[0]!, service: k.split(SEP)[1]!, values: values.map(round) })),
      errors: top(errors, '(other)').map(([fault, values]) => ({ fault, values: values.map(round) })),
    };
  }

  /** Asks one server for /health and /metrics at once, each bounded by the timeout. */
  private async check(base: string): Promise<{ state: HealthState; reason: string | null; samples: Sample[] | undefined; confVersion: number | null }> {
    const root = base.replace(/\/+$/, '');
    const [health, metrics] = await Promise.allSettled([this.get(`${root}/health`), this.get(`${root}/metrics`)]);
    let samples: Sample[] | undefined;
    let metricsProblem: string | null = null;
    if (metrics.status === 'fulfilled' && metrics.value.status === 200) samples = parseSamples(metrics.value.text, WANTED);
    else metricsProblem = `metrics: ${metrics.status === 'fulfilled' ? `HTTP ${metrics.value.status}` : problem(metrics.reason, this.options.timeoutMs)}`;
    if (health.status === 'rejected') {
      const why = problem(health.reason, this.options.timeoutMs);
      return samples ? { state: 'degraded', reason: `health: ${why}`, samples, confVersion: null } : { state: 'down', reason: why, samples, confVersion: null };
    }
    const body = parseJson(health.value.text) as { status?: unknown; globalConf?: { version?: unknown; outdated?: unknown } } | undefined;
    const confVersion = typeof body?.globalConf?.version === 'number' ? body.globalConf.version : null;
    if (health.value.status !== 200 || body?.status !== 'ok') {
      const outdated = body?.globalConf?.outdated === true ? ', global configuration outdated' : '';
      const status = typeof body?.status === 'string' ? ` (${body.status.slice(0, 40)})` : '';
      return { state: 'degraded', reason: `health: HTTP ${health.value.status}${status}${outdated}`, samples, confVersion };
    }
    return metricsProblem ? { state: 'degraded', reason: metricsProblem, samples, confVersion } : { state: 'up', reason: null, samples, confVersion };
  }

  private get(url: string): Promise<GetAnswer> {
    // node:http, not fetch: fetch refuses WHATWG "bad ports" (10080 is DEMOBANK's admin port at
    // --port-offset 1000), which would show a healthy server as down for good. No redirects are
    // followed: the registered address is the one polled, nowhere else.
    return getText(url, { timeoutMs: this.options.timeoutMs, maxBodyBytes: this.options.maxBodyBytes, signal: this.abort.signal, headers: { accept: 'text/plain, application/json' } });
  }
}

function emptyHealth(state: HealthState, reason: string | null): ServerHealth {
  return { state, reason, checkedAt: null, lastUpAt: null, globalConfVersion: null, uptimeSeconds: null, unstampedSignatures: null, ocspGood: null, inFlight: null };
}

function counters(samples: readonly Sample[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samples) {
    if (s.name !== REQUESTS || !Number.isFinite(s.value)) continue;
    const key = [label(s, 'side'), label(s, 'client'), label(s, 'service'), label(s, 'status'), label(s, 'fault')].join(SEP);
    out.set(key, (out.get(key) ?? 0) + s.value);
  }
  return out;
}

/** A short reason for a failed request, naming no address or body. */
function problem(err: unknown, timeoutMs: number): string {
  const e = err as Error & { code?: unknown };
  if (e?.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  if (e?.name === 'AbortError') return 'polling stopped';
  const code = typeof e?.code === 'string' && /^[A-Z_]{2,40}$/.test(e.code) ? e.code : undefined;
  if (code) return `unreachable (${code})`;
  return /^answer larger than/.test(e?.message ?? '') ? e.message : 'unreachable';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const round = (v: number) => Math.round(v * 1000) / 1000;

/** The `MAX_SERIES - 1` largest series by total, then one summing the rest. */
function top(map: Map<string, number[]>, otherKey: string): Array<[string, number[]]> {
  const sorted = [...map].sort((a, b) => sum(b[1]) - sum(a[1]) || a[0].localeCompare(b[0]));
  if (sorted.length <= MAX_SERIES) return sorted;
  const rest = sorted.slice(MAX_SERIES - 1);
  const other = rest[0]![1].map((_, i) => rest.reduce((acc, [, v]) => acc + v[i]!, 0));
  return [...sorted.slice(0, MAX_SERIES - 1), [otherKey, other]];
}

const sum = (v: readonly number[]) => v.reduce((a, b) => a + b, 0);
