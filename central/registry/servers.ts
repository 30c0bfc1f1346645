import { certificateHash } from '../../protocol/message-hashes.js';
import { formatSecurityServerId, formatSubsystemId, type SecurityServerId, type SubsystemId } from '../../protocol/identifiers.js';
import { conflict, inUse, notFound, RegistryError } from './errors.js';
import { isUniqueViolation, type RegistryCore } from './core.js';

export interface ServerRecord {
  readonly id: string;
  readonly owner: string;
  readonly serverCode: string;
  readonly address: string;
  /** SHA-256 (hex) of each registered authentication certificate. */
  readonly authCertHashes: readonly string[];
  readonly clients: readonly string[];
  /**
   * Base URL of the server's admin port, where central's monitoring reads `/metrics` and
   * `/health`; null when the server is not monitored. Kept in central only (not published).
   */
  readonly monitoringUrl: string | null;
  /** Its owner's message while the server is in maintenance mode; null when in service. */
  readonly maintenance: string | null;
  /** Clients their member disabled here (clientDisable): registered, but neither calling nor called. */
  readonly disabledClients: readonly string[];
}

/** `host:port`, where host is a DNS name, IPv4 address or bracketed IPv6 address. */
const ADDRESS = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}[A-Za-z0-9])?):(\d{1,5})$/;

export function checkAddress(address: string): string {
  const match = ADDRESS.exec(address);
  if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535) {
    throw new RegistryError('invalid', 'address', `address '${address}' must be host:port (port 1-65535)`);
  }
  return address;
}

/**
 * A monitoring address is an http(s) base URL; `/metrics` and `/health` are appended. No
 * credentials (they would sit in the registry and the audit trail), query or fragment.
 */
export function checkMonitoringUrl(text: string): string {
  const field = 'monitoringUrl';
  if (text.length > 2048) throw new RegistryError('invalid', field, 'monitoringUrl is longer than 2048 characters');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RegistryError('invalid', field, `monitoringUrl '${text.slice(0, 200)}' is not a URL (expected e.g. http://127.0.0.1:9082)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RegistryError('invalid', field, `monitoringUrl must be http or https, not ${url.protocol.replace(/:$/, '')}`);
  if (url.username || url.password) throw new RegistryError('invalid', field, 'monitoringUrl must not contain credentials');
  if (url.search || url.hash || text.includes('?') || text.includes('#'))
    throw new RegistryError('invalid', field, 'monitoringUrl is a base URL: no query or fragment (/metrics and /health are appended)');
  return text;
}

/** As the gateways name a certificate (protocol/message-hashes.ts). */
export { certificateHash };

/** Security servers, their authentication certificates and their client subsystems. */
export class Servers {
  private readonly stmt;

  constructor(private readonly core: RegistryCore) {
    const db = core.db;
    this.stmt = {
      insert: db.prepare('INSERT INTO servers (owner_id, server_code, address, created_at) VALUES (?, ?, ?, ?)'),
      setAddress: db.prepare('UPDATE servers SET address = ? WHERE id = ?'),
      setMonitoringUrl: db.prepare('UPDATE servers SET monitoring_url = ? WHERE id = ?'),
      setMaintenance: db.prepare('UPDATE servers SET maintenance_message = ? WHERE id = ?'),
      remove: db.prepare('DELETE FROM servers WHERE id = ?'),
      list: db.prepare(
        `SELECT v.id, m.member_class, m.member_code, v.server_code, v.address, v.monitoring_url, v.maintenance_message FROM servers v JOIN members m ON m.id = v.owner_id
         ORDER BY m.member_class, m.member_code, v.server_code`,
      ),
      hashes: db.prepare('SELECT cert_hash FROM server_auth_certs WHERE server_id = ? ORDER BY registered_at, cert_hash'),
      clients: db.prepare(
        `SELECT m.member_class, m.member_code, s.subsystem_code FROM server_clients c JOIN subsystems s ON s.id = c.subsystem_id
         JOIN members m ON m.id = s.member_id WHERE c.server_id = ? ORDER BY m.member_class, m.member_code, s.subsystem_code`,
      ),
      disabledClients: db.prepare(
        `SELECT m.member_class, m.member_code, s.subsystem_code FROM server_clients c JOIN subsystems s ON s.id = c.subsystem_id
         JOIN members m ON m.id = s.member_id WHERE c.server_id = ? AND c.disabled = 1 ORDER BY m.member_class, m.member_code, s.subsystem_code`,
      ),
      setDisabled: db.prepare('UPDATE server_clients SET disabled = ? WHERE server_id = ? AND subsystem_id = ?'),
      countClients: db.prepare('SELECT COUNT(*) AS n FROM server_clients WHERE server_id = ?'),
      insertCert: db.prepare('INSERT INTO server_auth_certs (server_id, cert_hash, certificate, registered_at) VALUES (?, ?, ?, ?)'),
      removeCert: db.prepare('DELETE FROM server_auth_certs WHERE server_id = ? AND cert_hash = ?'),
      certOwner: db.prepare('SELECT server_id FROM server_auth_certs WHERE cert_hash = ?'),
      insertClient: db.prepare('INSERT INTO server_clients (server_id, subsystem_id) VALUES (?, ?)'),
      removeClient: db.prepare('DELETE FROM server_clients WHERE server_id = ? AND subsystem_id = ?'),
      hasClient: db.prepare('SELECT 1 FROM server_clients WHERE server_id = ? AND subsystem_id = ?'),
      hasCert: db.prepare('SELECT 1 FROM server_auth_certs WHERE server_id = ? AND cert_hash = ?'),
    };
  }

  add(actor: string, id: SecurityServerId, address: string, monitoringUrl?: string): ServerRecord {
    const owner = this.core.memberRow(id, 'server owner');
    checkAddress(address);
    if (monitoringUrl !== undefined) checkMonitoringUrl(monitoringUrl);
    const target = formatSecurityServerId(id);
    try {
      this.core.transaction(() => {
        const row = this.core.mutate(actor, 'server.add', target, { address }, () => Number(this.stmt.insert.run(owner, id.serverCode, address, this.core.clock()).lastInsertRowid));
        if (monitoringUrl !== undefined) this.writeMonitoringUrl(actor, target, row, monitoringUrl);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('server', `security server ${target}`);
      throw err;
    }
    return this.get(id);
  }

  /** Takes the server out of service with `message` for callers, or (null) back into service. */
  setMaintenance(actor: string, id: SecurityServerId, message: string | null): void {
    const row = this.core.serverRow(id);
    this.core.mutate(actor, message === null ? 'server.maintenance.disable' : 'server.maintenance.enable', formatSecurityServerId(id), message === null ? undefined : { message }, () =>
      this.stmt.setMaintenance.run(message, row),
    );
  }

  setAddress(actor: string, id: SecurityServerId, address: string): ServerRecord {
    const row = this.core.serverRow(id);
    checkAddress(address);
    this.core.mutate(actor, 'server.address', formatSecurityServerId(id), { address }, () => this.stmt.setAddress.run(address, row));
    return this.get(id);
  }

  /** Sets (or, with null, clears) where central's monitoring reaches the server. */
  setMonitoringUrl(actor: string, id: SecurityServerId, monitoringUrl: string | null): ServerRecord {
    const row = this.core.serverRow(id);
    if (monitoringUrl !== null) checkMonitoringUrl(monitoringUrl);
    this.writeMonitoringUrl(actor, formatSecurityServerId(id), row, monitoringUrl);
    return this.get(id);
  }

  /** Changes address and monitoring address together: both or neither. */
  update(actor: string, id: SecurityServerId, change: { address?: string; monitoringUrl?: string | null }): ServerRecord {
    this.core.serverRow(id);
    if (change.address !== undefined) checkAddress(change.address);
    if (change.monitoringUrl !== undefined && change.monitoringUrl !== null) checkMonitoringUrl(change.monitoringUrl);
    this.core.transaction(() => {
      if (change.address !== undefined) this.setAddress(actor, id, change.address);
      if (change.monitoringUrl !== undefined) this.setMonitoringUrl(actor, id, change.monitoringUrl);
    });
    return this.get(id);
  }

  private writeMonitoringUrl(actor: string, target: string, row: number, monitoringUrl: string | null): void {
    // Not in the global configuration, so no new configuration version for it.
    this.core.mutate(actor, 'server.monitoring-url', target, { monitoringUrl }, () => this.stmt.setMonitoringUrl.run(monitoringUrl, row), { published: false });
  }

  remove(actor: string, id: SecurityServerId): void {
    const row = this.core.serverRow(id);
    const clients = (this.stmt.countClients.get(row) as { n: number }).n;
    if (clients) throw inUse('server', `security server ${formatSecurityServerId(id)}`, [`${clients} client registration(s)`]);
    this.core.mutate(actor, 'server.remove', formatSecurityServerId(id), undefined, () => this.stmt.remove.run(row));
  }

  get(id: SecurityServerId): ServerRecord {
    const target = formatSecurityServerId(id);
    this.core.serverRow(id);
    return this.list().find((s) => s.id === target)!;
  }

  list(): ServerRecord[] {
    const rows = this.stmt.list.all() as Array<{
      id: number;
      member_class: string;
      member_code: string;
      server_code: string;
      address: string;
      monitoring_url: string | null;
      maintenance_message: string | null;
    }>;
    return rows.map((r) => {
      const owner = `${this.core.instance}/${r.member_class}/${r.member_code}`;
      return {
        id: `${owner}/${r.server_code}`,
        owner,
        serverCode: r.server_code,
        address: r.address,
        authCertHashes: (this.stmt.hashes.all(r.id) as Array<{ cert_hash: string }>).map((h) => h.cert_hash),
        clients: (this.stmt.clients.all(r.id) as Array<{ member_class: string; member_code: string; subsystem_code: string }>).map(
          (c) => `${this.core.instance}/${c.member_class}/${c.member_code}/${c.subsystem_code}`,
        ),
        monitoringUrl: r.monitoring_url,
        maintenance: r.maintenance_message,
        disabledClients: (this.stmt.disabledClients.all(r.id) as Array<{ member_class: string; member_code: string; subsystem_code: string }>).map(
          (c) => `${this.core.instance}/${c.member_class}/${c.member_code}/${c.subsystem_code}`,
        ),
      };
    });
  }

  addAuthCert(actor: string, id: SecurityServerId, certDer: Uint8Array): string {
    const row = this.core.serverRow(id);
    const hash = certificateHash(certDer);
    const holder = this.stmt.certOwner.get(hash) as { server_id: number } | undefined;
    if (holder) throw conflict('authCertificate', `authentication certificate ${hash.slice(0, 16)}…`);
    this.core.mutate(actor, 'server.auth-cert.add', formatSecurityServerId(id), { certHash: hash }, () => this.stmt.insertCert.run(row, hash, Buffer.from(certDer), this.core.clock()));
    return hash;
  }

  removeAuthCert(actor: string, id: SecurityServerId, hash: string): void {
    const row = this.core.serverRow(id);
    if (!this.stmt.hasCert.get(row, hash)) throw notFound('certHash', `authentication certificate ${hash}`);
    this.core.mutate(actor, 'server.auth-cert.remove', formatSecurityServerId(id), { certHash: hash }, () => this.stmt.removeCert.run(row, hash));
  }

  addClient(actor: string, id: SecurityServerId, client: SubsystemId): void {
    const server = this.core.serverRow(id);
    const subsystem = this.core.subsystemRow(client, 'client');
    try {
      this.core.mutate(actor, 'server.client.add', formatSecurityServerId(id), { client: formatSubsystemId(client) }, () => this.stmt.insertClient.run(server, subsystem));
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('client', `client ${formatSubsystemId(client)} on ${formatSecurityServerId(id)}`);
      throw err;
    }
  }

  /** clientDisable / clientEnable: the client stays registered on the server, out of service or back. */
  setClientDisabled(actor: string, id: SecurityServerId, client: SubsystemId, disabled: boolean): void {
    const server = this.core.serverRow(id);
    const subsystem = this.core.subsystemRow(client, 'client');
    if (!this.stmt.hasClient.get(server, subsystem)) throw notFound('client', `client ${formatSubsystemId(client)} on ${formatSecurityServerId(id)}`);
    this.core.mutate(actor, disabled ? 'server.client.disable' : 'server.client.enable', formatSecurityServerId(id), { client: formatSubsystemId(client) }, () =>
      this.stmt.setDisabled.run(disabled ? 1 : 0, server, subsystem),
    );
  }

  removeClient(actor: string, id: SecurityServerId, client: SubsystemId): void {
    const server = this.core.serverRow(id);
    const subsystem = this.core.subsystemRow(client, 'client');
    if (!this.stmt.hasClient.get(server, subsystem)) throw notFound('client', `client ${formatSubsystemId(client)} on ${formatSecurityServerId(id)}`);
    this.core.mutate(actor, 'server.client.remove', formatSecurityServerId(id), { client: formatSubsystemId(client) }, () => this.stmt.removeClient.run(server, subsystem));
  }
}
