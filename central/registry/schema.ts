/** Central registry schema; migrations[i] moves the database from version i to i+1. */
export const REGISTRY_MIGRATIONS: readonly string[] = [
  `CREATE TABLE members (
     id INTEGER PRIMARY KEY,
     member_class TEXT NOT NULL,
     member_code TEXT NOT NULL,
     name TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     UNIQUE (member_class, member_code)
   );
   CREATE TABLE subsystems (
     id INTEGER PRIMARY KEY,
     member_id INTEGER NOT NULL REFERENCES members (id) ON DELETE RESTRICT,
     subsystem_code TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     UNIQUE (member_id, subsystem_code)
   );
   CREATE TABLE servers (
     id INTEGER PRIMARY KEY,
     owner_id INTEGER NOT NULL REFERENCES members (id) ON DELETE RESTRICT,
     server_code TEXT NOT NULL,
     address TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     UNIQUE (owner_id, server_code)
   );
   CREATE TABLE server_auth_certs (
     server_id INTEGER NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
     cert_hash TEXT NOT NULL UNIQUE,
     certificate BLOB NOT NULL,
     registered_at INTEGER NOT NULL,
     PRIMARY KEY (server_id, cert_hash)
   );
   CREATE TABLE server_clients (
     server_id INTEGER NOT NULL REFERENCES servers (id) ON DELETE RESTRICT,
     subsystem_id INTEGER NOT NULL REFERENCES subsystems (id) ON DELETE RESTRICT,
     PRIMARY KEY (server_id, subsystem_id)
   );
   CREATE TABLE services (
     id INTEGER PRIMARY KEY,
     subsystem_id INTEGER NOT NULL REFERENCES subsystems (id) ON DELETE RESTRICT,
     service_code TEXT NOT NULL,
     openapi TEXT,
     timestamp_sync INTEGER NOT NULL DEFAULT 0,
     created_at INTEGER NOT NULL,
     UNIQUE (subsystem_id, service_code)
   );
   CREATE TABLE service_endpoints (
     service_id INTEGER NOT NULL REFERENCES services (id) ON DELETE CASCADE,
     method TEXT NOT NULL,
     path TEXT NOT NULL,
     PRIMARY KEY (service_id, method, path)
   );
   CREATE TABLE global_groups (
     id INTEGER PRIMARY KEY,
     code TEXT NOT NULL UNIQUE,
     description TEXT NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE TABLE global_group_members (
     group_id INTEGER NOT NULL REFERENCES global_groups (id) ON DELETE RESTRICT,
     subsystem_id INTEGER NOT NULL REFERENCES subsystems (id) ON DELETE RESTRICT,
     PRIMARY KEY (group_id, subsystem_id)
   );
   CREATE TABLE access_rights (
     id INTEGER PRIMARY KEY,
     service_id INTEGER NOT NULL REFERENCES services (id) ON DELETE RESTRICT,
     subsystem_id INTEGER REFERENCES subsystems (id) ON DELETE RESTRICT,
     group_id INTEGER REFERENCES global_groups (id) ON DELETE RESTRICT,
     method TEXT NOT NULL,
     path TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     CHECK ((subsystem_id IS NULL) <> (group_id IS NULL))
   );
   CREATE UNIQUE INDEX access_rights_unique ON access_rights (service_id, IFNULL(subsystem_id, 0), IFNULL(group_id, 0), method, path);
   CREATE TABLE approved_cas (
     id INTEGER PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     certificate BLOB NOT NULL,
     root_certificate BLOB NOT NULL,
     ocsp_url TEXT NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE TABLE approved_tsas (
     id INTEGER PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     url TEXT NOT NULL,
     certificate BLOB NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE TABLE management_requests (
     id INTEGER PRIMARY KEY,
     type TEXT NOT NULL,
     server TEXT NOT NULL,
     subject TEXT NOT NULL,
     request_hash TEXT NOT NULL UNIQUE,
     detail TEXT NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'declined')),
     created_at INTEGER NOT NULL,
     decided_at INTEGER,
     decided_by TEXT,
     reason TEXT
   );
   CREATE TABLE audit (
     id INTEGER PRIMARY KEY,
     at INTEGER NOT NULL,
     actor TEXT NOT NULL,
     action TEXT NOT NULL,
     target TEXT NOT NULL,
     detail TEXT
   );
   CREATE TABLE conf_state (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL);
   INSERT INTO conf_state (id, version) VALUES (1, 0);`,
  // 1 → 2: where central's monitoring reaches each server's admin port (/metrics, /health).
  // Operational data kept only in central: never part of the global configuration.
  `ALTER TABLE servers ADD COLUMN monitoring_url TEXT;`,
  // 2 → 3: each management request keeps its signers' certificates (JSON [{role, certificate}]), for the
  // console's review; and the audit log is read by actor and action, newest first.
  `ALTER TABLE management_requests ADD COLUMN signers TEXT;
   CREATE INDEX audit_by_actor ON audit (actor, id);
   CREATE INDEX audit_by_action ON audit (action, id);`,
  // 3 → 4: where each access right came from: `central:<user>` (console or API) or `request:<id>`
  // (a provider's signed accessRightAdd); rights made before this were central's.
  `ALTER TABLE access_rights ADD COLUMN origin TEXT NOT NULL DEFAULT 'central';`,
  // 4 → 5: a server in maintenance mode keeps its owner's message for callers (null: in service).
  `ALTER TABLE servers ADD COLUMN maintenance_message TEXT;`,
  // 5 → 6: a client its member disabled on a server (clientDisable) stays registered there, out of service.
  `ALTER TABLE server_clients ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;`,
  // 6 → 7: local groups (X-Road LOCALGROUP): a provider subsystem's own named sets of subsystems,
  // subjects of rights on that subsystem's services only; a right names a subsystem, a global group
  // or a local group.
  `CREATE TABLE local_groups (
     id INTEGER PRIMARY KEY,
     subsystem_id INTEGER NOT NULL REFERENCES subsystems (id) ON DELETE RESTRICT,
     code TEXT NOT NULL,
     description TEXT NOT NULL,
     origin TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     UNIQUE (subsystem_id, code)
   );
   CREATE TABLE local_group_members (
     group_id INTEGER NOT NULL REFERENCES local_groups (id) ON DELETE RESTRICT,
     subsystem_id INTEGER NOT NULL REFERENCES subsystems (id) ON DELETE RESTRICT,
     PRIMARY KEY (group_id, subsystem_id)
   );
   CREATE TABLE access_rights_7 (
     id INTEGER PRIMARY KEY,
     service_id INTEGER NOT NULL REFERENCES services (id) ON DELETE RESTRICT,
     subsystem_id INTEGER REFERENCES subsystems (id) ON DELETE RESTRICT,
     group_id INTEGER REFERENCES global_groups (id) ON DELETE RESTRICT,
     local_group_id INTEGER REFERENCES local_groups (id) ON DELETE RESTRICT,
     method TEXT NOT NULL,
     path TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     origin TEXT NOT NULL DEFAULT 'central',
     CHECK ((subsystem_id IS NOT NULL) + (group_id IS NOT NULL) + (local_group_id IS NOT NULL) = 1)
   );
   INSERT INTO access_rights_7 (id, service_id, subsystem_id, group_id, method, path, created_at, origin)
     SELECT id, service_id, subsystem_id, group_id, method, path, created_at, origin FROM access_rights;
   DROP TABLE access_rights;
   ALTER TABLE access_rights_7 RENAME TO access_rights;
   CREATE UNIQUE INDEX access_rights_unique ON access_rights (service_id, IFNULL(subsystem_id, 0), IFNULL(group_id, 0), IFNULL(local_group_id, 0), method, path);`,
];
