import { X509Certificate } from 'node:crypto';
import { issuingAnchor, type TrustAnchor } from '../../certs/inspect.js';
import type { GlobalConf } from '../../protocol/globalconf.js';
import { matchMethod, matchPath, type MethodPattern } from '../../protocol/paths.js';

export interface ApprovedCa extends TrustAnchor {
  readonly name: string;
  readonly ocspUrl: string;
}

/** What `endpointOf` answers for a path no endpoint of the service covers (records keep it as before). */
export const NO_ENDPOINT = '*';

type Service = GlobalConf['services'][number];
type Right = GlobalConf['accessRights'][number];

/** Reductions this gateway applies before the configuration carries them. */
export interface LocalDenials {
  /** A right its owner withdrew. */
  readonly withdrawn?: (right: Right) => boolean;
  /** A member its owner took out of a local group. */
  readonly leftGroup?: (group: string, member: string) => boolean;
  /** A client its owner disabled on this server. */
  readonly disabledHere?: (server: string, client: string) => boolean;
}

/**
 * Lookups over one verified global configuration, built once per version: who exists, where
 * servers are, which server hosts which clients, what services and rights there are.
 */
export class ConfView {
  readonly anchors: readonly ApprovedCa[];
  private readonly members = new Map<string, GlobalConf['members'][number]>();
  private readonly subsystems = new Set<string>();
  private readonly servers = new Map<string, GlobalConf['securityServers'][number]>();
  private readonly serverByHash = new Map<string, string>();
  private readonly services = new Map<string, Service>();
  private readonly rightsByService = new Map<string, Right[]>();
  private readonly groupsOf = new Map<string, Set<string>>();
  /** Which approved CA issued a certificate (by fingerprint): signature checks are done once per configuration. */
  private readonly issuers = new Map<string, ApprovedCa | null>();

  private readonly disabledHere: NonNullable<LocalDenials['disabledHere']>;

  /** `local`: what the owner of this gateway took away that central has not recorded yet (gateway/access/overlay.ts). */
  constructor(
    readonly conf: GlobalConf,
    local: LocalDenials = {},
  ) {
    const { withdrawn = () => false, leftGroup = () => false } = local;
    this.disabledHere = local.disabledHere ?? (() => false);
    this.anchors = conf.approvedCAs.map((ca) => ({ name: ca.name, ocspUrl: ca.ocspUrl, certificate: new X509Certificate(ca.certificate), root: new X509Certificate(ca.rootCertificate) }));
    for (const m of conf.members) {
      this.members.set(m.id, m);
      for (const s of m.subsystems) this.subsystems.add(`${m.id}/${s}`);
    }
    for (const s of conf.securityServers) {
      this.servers.set(s.id, s);
      for (const h of s.authCertHashes) this.serverByHash.set(h, s.id);
    }
    for (const s of conf.services) this.services.set(s.id, s);
    for (const r of conf.accessRights) {
      // A local group is a subject only on its own subsystem's services, whatever a configuration says.
      if (withdrawn(r) || (r.subjectType === 'LOCALGROUP' && !r.service.startsWith(`${r.subject.slice(0, r.subject.lastIndexOf('/'))}/`))) continue;
      const list = this.rightsByService.get(r.service) ?? [];
      list.push(r);
      this.rightsByService.set(r.service, list);
    }
    for (const g of [...conf.globalGroups, ...(conf.localGroups ?? [])]) {
      for (const member of g.members) if (!leftGroup(g.id, member)) this.groupsOf.set(member, (this.groupsOf.get(member) ?? new Set()).add(g.id));
    }
  }

  /**
   * The approved CA that issued `cert`, if the certificate is within its validity at `now`.
   * Chain signatures are verified once per certificate for the life of this configuration;
   * validity is checked on every call.
   */
  issuerOf(cert: X509Certificate, now: number): ApprovedCa | undefined {
    if (Date.parse(cert.validFrom) > now || Date.parse(cert.validTo) < now) return undefined;
    const key = cert.fingerprint256;
    let ca = this.issuers.get(key);
    if (ca === undefined) {
      // Judged at the certificate's own start date: here only the chain's signatures matter.
      ca = issuingAnchor(cert, this.anchors, Date.parse(cert.validFrom)) ?? null;
      if (this.issuers.size > 10_000) this.issuers.clear();
      this.issuers.set(key, ca);
    }
    return ca && Date.parse(ca.certificate.validTo) >= now ? ca : undefined;
  }

  get version(): number {
    return this.conf.version;
  }

  hasMember(id: string): boolean {
    return this.members.has(id);
  }

  memberName(id: string): string | undefined {
    return this.members.get(id)?.name;
  }

  hasSubsystem(id: string): boolean {
    return this.subsystems.has(id);
  }

  server(id: string): GlobalConf['securityServers'][number] | undefined {
    return this.servers.get(id);
  }

  /** The security server an authentication certificate (SHA-256 hex) is registered to. */
  serverOfAuthCert(hash: string): string | undefined {
    return this.serverByHash.get(hash);
  }

  /** Whether `subsystem`'s member disabled it on `serverId` (clientDisable): registered, but neither calling nor called. */
  isDisabledOn(serverId: string, subsystem: string): boolean {
    return (this.servers.get(serverId)?.disabledClients?.includes(subsystem) ?? false) || this.disabledHere(serverId, subsystem);
  }

  isClientOf(serverId: string, subsystem: string): boolean {
    return this.servers.get(serverId)?.clients.includes(subsystem) ?? false;
  }

  /** Servers that host `subsystem` (the provider's servers for its services), in configuration order. */
  serversHosting(subsystem: string): Array<GlobalConf['securityServers'][number]> {
    return this.conf.securityServers.filter((s) => s.clients.includes(subsystem));
  }

  service(id: string): Service | undefined {
    return this.services.get(id);
  }

  servicesOf(subsystem: string): Service[] {
    return this.conf.services.filter((s) => s.id.startsWith(`${subsystem}/`) && s.id.split('/').length === 5);
  }

  /** The right that lets `client` call `method path` on `service`, if any (deny by default). */
  allowingRight(client: string, service: string, method: string, path: string): Right | undefined {
    const groups = this.groupsOf.get(client);
    return this.rightsByService
      .get(service)
      ?.find((r) => (r.subjectType === 'SUBSYSTEM' ? r.subject === client : (groups?.has(r.subject) ?? false)) && matchMethod(r.method as MethodPattern, method) && matchPath(r.path, path));
  }

  /** Whether `client` may call anything on `service`. */
  mayCall(client: string, service: string): boolean {
    const groups = this.groupsOf.get(client);
    return (this.rightsByService.get(service) ?? []).some((r) => (r.subjectType === 'SUBSYSTEM' ? r.subject === client : (groups?.has(r.subject) ?? false)));
  }

  /** The service endpoint a request matched, for logs and records (never the raw path); NO_ENDPOINT if none. */
  endpointOf(service: string, method: string, path: string): string {
    const e = this.services.get(service)?.endpoints.find((x) => matchMethod(x.method as MethodPattern, method) && matchPath(x.path, path));
    return e ? `${e.method} ${e.path}` : NO_ENDPOINT;
  }

  tsas(): GlobalConf['approvedTSAs'] {
    return this.conf.approvedTSAs;
  }
}
