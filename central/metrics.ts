import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ConfPublisher, Published } from './globalconf/publisher.js';
import type { Registry as CentralRegistry } from './registry/registry.js';

/** What the monitoring poller reports per monitored server, for `camdx_central_monitored_server_up`. */
export interface MonitoredStates {
  upStates(): ReadonlyArray<{ readonly server: string; readonly up: boolean }>;
}

/** Route groups of central's HTTP face: a fixed set, so labels stay bounded whatever paths clients send. */
const API_AREAS = new Set(['members', 'subsystems', 'servers', 'services', 'groups', 'access-rights', 'approved-cas', 'approved-tsas', 'approved', 'management-requests', 'audit', 'globalconf']);
const TOP = new Map([
  ['globalconf', 'globalconf'],
  ['management', 'management'],
  ['health', 'health'],
  ['metrics', 'metrics'],
  ['dashboard', 'dashboard'],
]);

export function routeGroup(originalUrl: string): string {
  const path = originalUrl.split('?', 1)[0]!;
  const [first = '', second = ''] = path.split('/').filter(Boolean);
  if (first === 'api') return API_AREAS.has(second) ? `api/${second}` : 'api/other';
  return TOP.get(first) ?? 'other';
}

const REQUEST_TYPES = new Set([
  'registerAuthCert',
  'registerClient',
  'serviceAdd',
  'serviceUpdate',
  'serviceRemove',
  'accessRightAdd',
  'accessRightRemove',
  'maintenanceModeEnable',
  'maintenanceModeDisable',
  'clientDisable',
  'clientEnable',
  'clientDeletion',
  'addressChange',
  'authCertDeletion',
]);

/**
 * The type of a management request body, best effort, for the metric label only: refused
 * requests may be malformed, so anything unrecognised is `unknown` (bounded label values).
 */
export function managementRequestType(body: unknown): string {
  try {
    const request = (body as { request?: unknown })?.request;
    if (typeof request !== 'string' || request.length > 4 * 1024 * 1024) return 'unknown';
    const type = (JSON.parse(Buffer.from(request, 'base64url').toString('utf8')) as { type?: unknown })?.type;
    return typeof type === 'string' && REQUEST_TYPES.has(type) ? type : 'unknown';
  } catch {
    return 'unknown';
  }
}

const timesCache = new WeakMap<Published, { generatedAt: number; expiresAt: number }>();

/** Generation and expiry time (ms) of a published configuration, read from its signed payload. */
export function confTimes(published: Published): { generatedAt: number; expiresAt: number } {
  let times = timesCache.get(published);
  if (!times) {
    const payload = JSON.parse(Buffer.from(published.jws.split('.')[1] ?? '', 'base64url').toString('utf8')) as { generatedAt: string };
    times = { generatedAt: Date.parse(payload.generatedAt), expiresAt: published.expiresAt };
    timesCache.set(published, times);
  }
  return times;
}

/**
 * Prometheus metrics of the central server (prom-client, its own registry so nothing global
 * leaks in), served at `/metrics`. Times are unix-seconds gauges so alert rules can compare
 * them with `time()`; registry sizes are read from SQLite on each scrape.
 */
export class CentralMetrics {
  readonly registry = new Registry();
  readonly httpRequests: Counter<'route' | 'method' | 'status'>;
  readonly httpDuration: Histogram<'route'>;
  readonly managementRequests: Counter<'type' | 'outcome'>;
  readonly confDownloads: Counter<'result'>;

  constructor(sources: { publisher: ConfPublisher; registry: CentralRegistry; monitor?: MonitoredStates }) {
    const registers = [this.registry];
    const { publisher, registry } = sources;
    const published = () => {
      try {
        return publisher.current;
      } catch {
        return undefined; // not signed yet: the gauges stay absent rather than lie
      }
    };
    new Gauge({
      name: 'camdx_central_process_resident_memory_bytes',
      help: 'Resident set size of the central server process.',
      registers,
      collect() {
        this.set(process.memoryUsage.rss());
      },
    });
    new Gauge({
      name: 'camdx_central_process_uptime_seconds',
      help: 'Seconds since the central server process started.',
      registers,
      collect() {
        this.set(process.uptime());
      },
    });
    new Gauge({
      name: 'camdx_central_globalconf_version',
      help: 'Version of the global configuration central currently serves.',
      registers,
      collect() {
        const p = published();
        if (p) this.set(p.version);
      },
    });
    new Gauge({
      name: 'camdx_central_globalconf_generated_at_seconds',
      help: 'When the served global configuration was signed (unix seconds).',
      registers,
      collect() {
        const p = published();
        if (p) this.set(confTimes(p).generatedAt / 1000);
      },
    });
    new Gauge({
      name: 'camdx_central_globalconf_expires_at_seconds',
      help: 'When the served global configuration expires (unix seconds); gateways stop exchanging once theirs has.',
      registers,
      collect() {
        const p = published();
        if (p) this.set(p.expiresAt / 1000);
      },
    });
    new Gauge({
      name: 'camdx_central_registry_entries',
      help: 'Entries in the central registry, by kind (members, subsystems, servers, services, access_rights, global_groups, approved_cas, approved_tsas).',
      labelNames: ['kind'],
      registers,
      collect() {
        const c = registry.counts();
        const kinds = {
          members: c.members,
          subsystems: c.subsystems,
          servers: c.servers,
          services: c.services,
          access_rights: c.accessRights,
          global_groups: c.globalGroups,
          approved_cas: c.approvedCas,
          approved_tsas: c.approvedTsas,
        };
        for (const [kind, n] of Object.entries(kinds)) this.set({ kind }, n);
      },
    });
    new Gauge({
      name: 'camdx_central_management_requests',
      help: 'Management requests on record, by type and status (pending ones wait for an administrator).',
      labelNames: ['type', 'status'],
      registers,
      collect() {
        this.reset();
        for (const status of ['pending', 'approved', 'declined']) for (const type of REQUEST_TYPES) this.set({ type, status }, 0);
        for (const r of registry.counts().requests) this.set({ type: r.type, status: r.status }, r.count);
      },
    });
    this.managementRequests = new Counter({
      name: 'camdx_central_management_requests_received_total',
      help: 'Management requests submitted by security servers, by type and outcome (approved, pending, or the reason refused).',
      labelNames: ['type', 'outcome'],
      registers,
    });
    this.httpRequests = new Counter({
      name: 'camdx_central_http_requests_total',
      help: 'HTTP requests answered by central, by route group, method and status.',
      labelNames: ['route', 'method', 'status'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'camdx_central_http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by route group.',
      labelNames: ['route'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.confDownloads = new Counter({
      name: 'camdx_central_globalconf_downloads_total',
      help: 'Global configuration requests: full (the signed document sent) or not_modified (the client already had it).',
      labelNames: ['result'],
      registers,
    });
    for (const result of ['full', 'not_modified']) this.confDownloads.inc({ result }, 0);
    const monitor = sources.monitor;
    if (monitor) {
      new Gauge({
        name: 'camdx_central_monitored_server_up',
        help: "1 when a monitored security server's /health answered ok at central's last poll, else 0.",
        labelNames: ['server'],
        registers,
        collect() {
          this.reset();
          for (const s of monitor.upStates()) this.set({ server: s.server }, s.up ? 1 : 0);
        },
      });
    }
  }
}
