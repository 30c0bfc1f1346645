import type { GlobalConf } from '../../protocol/globalconf.js';
import type { Registry } from '../registry/registry.js';
import type { CentralSettings } from '../settings.js';

/** The registry as a global configuration document, in a stable order. */
export function buildGlobalConf(registry: Registry, settings: CentralSettings, version: number, now: number): GlobalConf {
  return {
    format: 'camdx-globalconf/2',
    instance: settings.instance,
    version,
    generatedAt: new Date(now).toISOString(),
    expiresAt: new Date(now + settings.confExpirySeconds * 1000).toISOString(),
    centralUrl: settings.publicUrl,
    ocspFreshnessSeconds: settings.ocspFreshnessSeconds,
    timestampingIntervalSeconds: settings.timestampingIntervalSeconds,
    memberClasses: [...settings.memberClasses],
    approvedCAs: registry.trust.listCas(),
    approvedTSAs: registry.trust.listTsas(),
    members: registry.members.list().map((m) => ({ id: m.id, name: m.name, subsystems: [...m.subsystems] })),
    securityServers: registry.servers.list().map((s) => ({
      id: s.id,
      address: s.address,
      authCertHashes: [...s.authCertHashes],
      clients: [...s.clients],
      ...(s.maintenance !== null ? { maintenance: s.maintenance } : {}),
      ...(s.disabledClients.length > 0 ? { disabledClients: [...s.disabledClients] } : {}),
    })),
    globalGroups: registry.access.listGroups().map((g) => ({ id: g.id, description: g.description, members: [...g.members] })),
    localGroups: registry.localGroups.list().map((g) => ({ id: g.id, description: g.description, members: [...g.members], origin: g.origin })),
    services: registry.services.list().map((s) => ({
      id: s.id,
      type: 'REST' as const,
      endpoints: s.endpoints.map((e) => ({ method: e.method, path: e.path })),
      timestampSynchronously: s.timestampSynchronously,
      ...(s.openApi ? { openApi: s.openApi } : {}),
    })),
    accessRights: registry.access.listRights().map((r) => ({ subject: r.subject, subjectType: r.subjectType, service: r.service, method: r.method, path: r.path, origin: r.origin })),
  };
}
