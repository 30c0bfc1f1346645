import { openDatabase, type Db } from '../../common/sqlite.js';
import { Access } from './access.js';
import { RegistryCore } from './core.js';
import { Members } from './members.js';
import { Requests } from './requests.js';
import { REGISTRY_MIGRATIONS } from './schema.js';
import { Servers } from './servers.js';
import { Services } from './services.js';
import { Trust } from './trust.js';

/** How much the registry holds, for metrics: one cheap query, no records built. */
export interface RegistryCounts {
  readonly members: number;
  readonly subsystems: number;
  readonly servers: number;
  readonly services: number;
  readonly accessRights: number;
  readonly globalGroups: number;
  readonly approvedCas: number;
  readonly approvedTsas: number;
  /** Management requests by type and status. */
  readonly requests: ReadonlyArray<{ readonly type: string; readonly status: string; readonly count: number }>;
}

export interface AuditRecord {
  readonly id: number;
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly target: string;
  readonly detail: Record<string, unknown> | null;
}

/** The central registry: who is in the instance, what they offer, who may call what. */
export class Registry {
  readonly core: RegistryCore;
  readonly members: Members;
  readonly servers: Servers;
  readonly services: Services;
  readonly access: Access;
  readonly trust: Trust;
  readonly requests: Requests;
  private readonly db: Db;
  private readonly stmt;

  constructor(path: string, instance: string, memberClasses: readonly string[], clock: () => number = Date.now) {
    this.db = openDatabase(path, REGISTRY_MIGRATIONS);
    this.core = new RegistryCore(this.db, instance, memberClasses, clock);
    this.members = new Members(this.core);
    this.servers = new Servers(this.core);
    this.services = new Services(this.core);
    this.access = new Access(this.core);
    this.trust = new Trust(this.core);
    this.requests = new Requests(this.core);
    this.stmt = {
      audit: this.db.prepare('SELECT * FROM audit WHERE id > ? ORDER BY id LIMIT ?'),
      nextVersion: this.db.prepare('UPDATE conf_state SET version = version + 1 WHERE id = 1 RETURNING version'),
      counts: this.db.prepare(
        `SELECT (SELECT COUNT(*) FROM members) AS members, (SELECT COUNT(*) FROM subsystems) AS subsystems, (SELECT COUNT(*) FROM servers) AS servers,
                (SELECT COUNT(*) FROM services) AS services, (SELECT COUNT(*) FROM access_rights) AS accessRights, (SELECT COUNT(*) FROM global_groups) AS globalGroups,
                (SELECT COUNT(*) FROM approved_cas) AS approvedCas, (SELECT COUNT(*) FROM approved_tsas) AS approvedTsas`,
      ),
      requestCounts: this.db.prepare('SELECT type, status, COUNT(*) AS count FROM management_requests GROUP BY type, status ORDER BY type, status'),
    };
  }

  get instance(): string {
    return this.core.instance;
  }

  onChange(listener: () => void): void {
    this.core.onChange(listener);
  }

  /** The next global configuration version; durable, so versions only go up across restarts. */
  nextConfVersion(): number {
    return (this.stmt.nextVersion.get() as { version: number }).version;
  }

  counts(): RegistryCounts {
    const base = this.stmt.counts.get() as Omit<RegistryCounts, 'requests'>;
    return { ...base, requests: this.stmt.requestCounts.all() as RegistryCounts['requests'] };
  }

  audit(afterId = 0, limit = 500): AuditRecord[] {
    return (this.stmt.audit.all(afterId, limit) as Array<{ id: number; at: number; actor: string; action: string; target: string; detail: string | null }>).map((r) => ({
      id: r.id,
      at: new Date(r.at).toISOString(),
      actor: r.actor,
      action: r.action,
      target: r.target,
      detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null,
    }));
  }

  close(): void {
    this.db.close();
  }
}
