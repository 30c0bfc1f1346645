import type { ConfPublisher } from '../globalconf/publisher.js';
import { confTimes } from '../metrics.js';
import type { Registry } from '../registry/registry.js';
import type { History, ServerHealth, ServerMonitor } from './monitor.js';

/**
 * What `/dashboard/data` returns. Only what the global configuration already publishes to
 * every member (members, servers, services, access rights) plus health and aggregate rates —
 * no monitoring addresses, certificates, tokens, audit trail or pending requests.
 */
export interface DashboardData {
  readonly instance: string;
  readonly now: string;
  readonly pollIntervalMs: number;
  readonly globalConf: { readonly version: number; readonly generatedAt: string; readonly expiresAt: string };
  readonly members: ReadonlyArray<{ readonly id: string; readonly name: string; readonly subsystems: readonly string[] }>;
  readonly servers: ReadonlyArray<{
    readonly id: string;
    readonly owner: string;
    readonly address: string;
    readonly clients: readonly string[];
    readonly monitored: boolean;
    readonly health: Omit<ServerHealth, 'checkedAt' | 'lastUpAt'> & { readonly checkedAt: string | null; readonly lastUpAt: string | null };
  }>;
  readonly services: ReadonlyArray<{ readonly id: string; readonly endpoints: ReadonlyArray<{ readonly method: string; readonly path: string }> }>;
  /** Subjects (subsystems, global and local groups) × services; each cell lists the granted method and path patterns. */
  readonly rights: {
    readonly subjects: ReadonlyArray<{ readonly id: string; readonly type: 'SUBSYSTEM' | 'GLOBALGROUP' | 'LOCALGROUP' }>;
    readonly services: readonly string[];
    readonly cells: ReadonlyArray<{ readonly subject: string; readonly service: string; readonly rules: ReadonlyArray<{ readonly method: string; readonly path: string }> }>;
  };
  readonly history: History;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function dashboardData(registry: Registry, publisher: ConfPublisher, monitor: ServerMonitor, now: number): DashboardData {
  const published = publisher.current;
  const times = confTimes(published);
  const members = registry.members.list();
  const rights = registry.access.listRights();
  const groups = registry.access.listGroups();
  const services = registry.services.list();
  const cells = new Map<string, { subject: string; service: string; rules: Array<{ method: string; path: string }> }>();
  for (const r of rights) {
    const key = `${r.subject} ${r.service}`;
    if (!cells.has(key)) cells.set(key, { subject: r.subject, service: r.service, rules: [] });
    cells.get(key)!.rules.push({ method: r.method, path: r.path });
  }
  return {
    instance: registry.instance,
    now: new Date(now).toISOString(),
    pollIntervalMs: monitor.intervalMs,
    globalConf: { version: published.version, generatedAt: new Date(times.generatedAt).toISOString(), expiresAt: new Date(times.expiresAt).toISOString() },
    members: members.map((m) => ({ id: m.id, name: m.name, subsystems: [...m.subsystems] })),
    servers: registry.servers.list().map((s) => {
      const h = monitor.healthOf(s.id);
      const health = h ?? {
        state: 'unknown' as const,
        reason: 'no monitoring address registered',
        checkedAt: null,
        lastUpAt: null,
        globalConfVersion: null,
        uptimeSeconds: null,
        unstampedSignatures: null,
        ocspGood: null,
        inFlight: null,
      };
      return {
        id: s.id,
        owner: s.owner,
        address: s.address,
        clients: [...s.clients],
        monitored: s.monitoringUrl !== null,
        health: { ...health, checkedAt: iso(health.checkedAt), lastUpAt: iso(health.lastUpAt) },
      };
    }),
    services: services.map((s) => ({ id: s.id, endpoints: s.endpoints.map((e) => ({ method: e.method, path: e.path })) })),
    rights: {
      subjects: [
        ...members.flatMap((m) => m.subsystems.map((sub) => ({ id: `${m.id}/${sub}`, type: 'SUBSYSTEM' as const }))),
        ...groups.map((g) => ({ id: g.id, type: 'GLOBALGROUP' as const })),
        ...registry.localGroups.list().map((g) => ({ id: g.id, type: 'LOCALGROUP' as const })),
      ],
      services: services.map((s) => s.id),
      cells: [...cells.values()],
    },
    history: monitor.history(),
  };
}
