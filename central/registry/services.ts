import { formatServiceId, type ServiceId } from '../../protocol/identifiers.js';
import { checkPathPattern, isMethodPattern, PathError, type MethodPattern } from '../../protocol/paths.js';
import { conflict, inUse, RegistryError } from './errors.js';
import { isUniqueViolation, type RegistryCore } from './core.js';

export interface Endpoint {
  readonly method: MethodPattern;
  readonly path: string;
}

export interface ServiceDefinition {
  readonly endpoints: readonly Endpoint[];
  readonly openApi?: string | null;
  readonly timestampSynchronously?: boolean;
}

export interface ServiceRecord extends Required<Omit<ServiceDefinition, 'openApi'>> {
  readonly id: string;
  readonly provider: string;
  readonly serviceCode: string;
  readonly openApi: string | null;
}

const MAX_OPENAPI_BYTES = 512 * 1024;

export function checkEndpoints(endpoints: readonly Endpoint[]): Endpoint[] {
  return endpoints.map((e, i) => {
    if (!isMethodPattern(e.method)) throw new RegistryError('invalid', `endpoints.${i}.method`, `method '${e.method}' is not an HTTP method or '*'`);
    try {
      return { method: e.method, path: checkPathPattern(e.path) };
    } catch (err) {
      if (err instanceof PathError) throw new RegistryError('invalid', `endpoints.${i}.path`, err.message);
      throw err;
    }
  });
}

/**
 * REST services: which exist is decided here (gateways answer UnknownService from it); the
 * provider's gateway configuration holds only each service's base URL.
 */
export class Services {
  private readonly stmt;

  constructor(private readonly core: RegistryCore) {
    const db = core.db;
    this.stmt = {
      insert: db.prepare('INSERT INTO services (subsystem_id, service_code, openapi, timestamp_sync, created_at) VALUES (?, ?, ?, ?, ?)'),
      update: db.prepare('UPDATE services SET openapi = ?, timestamp_sync = ? WHERE id = ?'),
      remove: db.prepare('DELETE FROM services WHERE id = ?'),
      insertEndpoint: db.prepare('INSERT OR IGNORE INTO service_endpoints (service_id, method, path) VALUES (?, ?, ?)'),
      clearEndpoints: db.prepare('DELETE FROM service_endpoints WHERE service_id = ?'),
      list: db.prepare(
        `SELECT x.id, m.member_class, m.member_code, s.subsystem_code, x.service_code, x.openapi, x.timestamp_sync
         FROM services x JOIN subsystems s ON s.id = x.subsystem_id JOIN members m ON m.id = s.member_id
         ORDER BY m.member_class, m.member_code, s.subsystem_code, x.service_code`,
      ),
      endpoints: db.prepare('SELECT method, path FROM service_endpoints WHERE service_id = ? ORDER BY path, method'),
      rights: db.prepare('SELECT COUNT(*) AS n FROM access_rights WHERE service_id = ?'),
    };
  }

  add(actor: string, id: ServiceId, definition: ServiceDefinition): ServiceRecord {
    const provider = this.core.subsystemRow(id, 'provider');
    const endpoints = checkEndpoints(definition.endpoints);
    const openApi = this.checkOpenApi(definition.openApi);
    const target = formatServiceId(id);
    try {
      this.core.mutate(actor, 'service.add', target, { endpoints: endpoints.length, timestampSynchronously: !!definition.timestampSynchronously }, () => {
        const row = Number(this.stmt.insert.run(provider, id.serviceCode, openApi, definition.timestampSynchronously ? 1 : 0, this.core.clock()).lastInsertRowid);
        for (const e of endpoints) this.stmt.insertEndpoint.run(row, e.method, e.path);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('service', `service ${target}`);
      throw err;
    }
    return this.get(id);
  }

  /** Replaces what is given; endpoints, when given, replace the whole list. */
  update(actor: string, id: ServiceId, change: Partial<ServiceDefinition>): ServiceRecord {
    const row = this.core.serviceRow(id);
    const current = this.get(id);
    const endpoints = change.endpoints ? checkEndpoints(change.endpoints) : undefined;
    const openApi = change.openApi === undefined ? current.openApi : this.checkOpenApi(change.openApi);
    const sync = change.timestampSynchronously ?? current.timestampSynchronously;
    this.core.mutate(actor, 'service.update', formatServiceId(id), { endpoints: endpoints?.length, timestampSynchronously: sync }, () => {
      this.stmt.update.run(openApi, sync ? 1 : 0, row);
      if (endpoints) {
        this.stmt.clearEndpoints.run(row);
        for (const e of endpoints) this.stmt.insertEndpoint.run(row, e.method, e.path);
      }
    });
    return this.get(id);
  }

  remove(actor: string, id: ServiceId): void {
    const row = this.core.serviceRow(id);
    const rights = (this.stmt.rights.get(row) as { n: number }).n;
    if (rights) throw inUse('service', `service ${formatServiceId(id)}`, [`${rights} access right(s)`]);
    this.core.mutate(actor, 'service.remove', formatServiceId(id), undefined, () => this.stmt.remove.run(row));
  }

  get(id: ServiceId): ServiceRecord {
    this.core.serviceRow(id);
    const target = formatServiceId(id);
    return this.list().find((s) => s.id === target)!;
  }

  list(): ServiceRecord[] {
    const rows = this.stmt.list.all() as Array<{
      id: number;
      member_class: string;
      member_code: string;
      subsystem_code: string;
      service_code: string;
      openapi: string | null;
      timestamp_sync: number;
    }>;
    return rows.map((r) => {
      const provider = `${this.core.instance}/${r.member_class}/${r.member_code}/${r.subsystem_code}`;
      return {
        id: `${provider}/${r.service_code}`,
        provider,
        serviceCode: r.service_code,
        endpoints: this.stmt.endpoints.all(r.id) as Endpoint[],
        openApi: r.openapi,
        timestampSynchronously: r.timestamp_sync === 1,
      };
    });
  }

  private checkOpenApi(doc: string | null | undefined): string | null {
    if (doc === undefined || doc === null || doc === '') return null;
    if (Buffer.byteLength(doc) > MAX_OPENAPI_BYTES) throw new RegistryError('invalid', 'openApi', `the OpenAPI document is larger than ${MAX_OPENAPI_BYTES / 1024} KiB`);
    return doc;
  }
}
