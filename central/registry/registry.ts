import type Database from 'better-sqlite3';
import { openDatabase, type Db } from '../../common/sqlite.js';
import { Access } from './access.js';
import { RegistryCore } from './core.js';
import { LocalGroups } from './local-groups.js';
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

/** Which audit records to read: each field given narrows (exact actor, exact action, `at` within [from, to] in ms). */
export interface AuditFilter {
  readonly actor?: string | undefined;
  readonly action?: string | undefined;
  readonly from?: number | undefined;
  readonly to?: number | undefined;
}

type AuditRow = { id: number; at: number; actor: string; action: string; target: string; detail: string | null };
const auditRecord = (r: AuditRow): AuditRecord => ({
  id: r.id,
  at: new Date(r.at).toISOString(),
  actor: r.actor,
  action: r.action,
  target: r.target,
  detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null,
});
const AUDIT_CONDITIONS = { actor: 'actor = @actor', action: 'action = @action', from: 'at >= @from', to: 'at <= @to' } as const;

/** The central registry: who is in the instance, what they offer, who may call what. */
export class Registry {
  readonly core: RegistryCore;
  readonly members: Members;
  readonly servers: Servers;
  readonly services: Services;
  readonly access: Access;
  readonly localGroups: LocalGroups;
  readonly trust: Trust;
  readonly requests: Requests;
  private readonly db: Db;
  private readonly stmt;
  /** One prepared pair (page, count) per combination of filters, so SQLite can use the actor and action indexes. */
  private readonly auditQueries = new Map<string, { page: Database.Statement; count: Database.Statement }>();

  constructor(path: string, instance: string, memberClasses: readonly string[], clock: () => number = Date.now) {
    this.db = openDatabase(path, REGISTRY_MIGRATIONS);
    this.core = new RegistryCore(this.db, instance, memberClasses, clock);
    this.members = new Members(this.core);
    this.servers = new Servers(this.core);
    this.services = new Services(this.core);
    this.localGroups = new LocalGroups(this.core);
    this.access = new Access(this.core, this.localGroups);
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
    return (this.stmt.audit.all(afterId, limit) as AuditRow[]).map(auditRecord);
  }

  /** One page (1-based) of the audit records `filter` selects, newest first, and how many it selects in all. */
  auditPage(filter: AuditFilter, page: number, pageSize: number): { records: AuditRecord[]; total: number } {
    const used = (Object.keys(AUDIT_CONDITIONS) as Array<keyof typeof AUDIT_CONDITIONS>).filter((k) => filter[k] !== undefined);
    const key = used.join(',');
    let queries = this.auditQueries.get(key);
    if (!queries) {
      const where = used.length ? `WHERE ${used.map((k) => AUDIT_CONDITIONS[k]).join(' AND ')}` : '';
      queries = {
        page: this.db.prepare(`SELECT * FROM audit ${where} ORDER BY id DESC LIMIT @limit OFFSET @offset`),
        count: this.db.prepare(`SELECT COUNT(*) AS n FROM audit ${where}`),
      };
      this.auditQueries.set(key, queries);
    }
    const params = Object.fromEntries(used.map((k) => [k, filter[k]]));
    const rows = queries.page.all({ ...params, limit: pageSize, offset: (page - 1) * pageSize }) as AuditRow[];
    return { records: rows.map(auditRecord), total: (queries.count.get(params) as { n: number }).n };
  }

  close(): void {
    this.db.close();
  }
}
