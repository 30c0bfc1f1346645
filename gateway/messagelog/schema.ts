/**
 * The metadata-only message log. One row per exchange per gateway: ids, parties, the endpoint
 * pattern matched (never the raw path or query), times, sizes, outcome, and what proves the
 * exchange — manifests (salted digests), hash chains, and references to signature documents,
 * signer certificates and OCSP responses, each stored once. Never bodies or header values.
 */
export const MESSAGELOG_MIGRATIONS: readonly string[] = [
  `CREATE TABLE signatures (hash TEXT PRIMARY KEY, xml TEXT NOT NULL, batch_size INTEGER NOT NULL, created_at INTEGER NOT NULL);
   CREATE TABLE certificates (hash TEXT PRIMARY KEY, der BLOB NOT NULL);
   CREATE TABLE ocsp_responses (hash TEXT PRIMARY KEY, der BLOB NOT NULL);
   CREATE TABLE records (
     id INTEGER PRIMARY KEY,
     message_id TEXT NOT NULL,
     request_id TEXT NOT NULL,
     side TEXT NOT NULL CHECK (side IN ('Client', 'Producer')),
     client TEXT NOT NULL,
     service TEXT NOT NULL,
     endpoint TEXT NOT NULL,
     peer_server TEXT,
     request_in_ts INTEGER NOT NULL,
     request_out_ts INTEGER,
     response_in_ts INTEGER,
     response_out_ts INTEGER,
     request_size INTEGER,
     response_size INTEGER,
     status INTEGER,
     succeeded INTEGER NOT NULL,
     fault_code TEXT,
     fault_string TEXT,
     request_manifest TEXT,
     request_chain TEXT,
     request_signature TEXT REFERENCES signatures (hash),
     request_signer TEXT REFERENCES certificates (hash),
     request_ocsp TEXT REFERENCES ocsp_responses (hash),
     request_leaf TEXT,
     response_manifest TEXT,
     response_chain TEXT,
     response_signature TEXT REFERENCES signatures (hash),
     response_signer TEXT REFERENCES certificates (hash),
     response_ocsp TEXT REFERENCES ocsp_responses (hash),
     response_leaf TEXT
   );
   CREATE INDEX records_time ON records (request_in_ts);
   CREATE INDEX records_request_leaf ON records (request_leaf);`,
  // Batch timestamps: one RFC 3161 token per batch of signature documents, each document
  // keeping its hash chain to the batch's Merkle root (the token's imprint).
  `CREATE TABLE timestamps (
     id INTEGER PRIMARY KEY,
     token BLOB NOT NULL,
     root TEXT NOT NULL,
     tsa TEXT NOT NULL,
     gen_time INTEGER NOT NULL,
     batch_size INTEGER NOT NULL,
     created_at INTEGER NOT NULL
   );
   ALTER TABLE signatures ADD COLUMN timestamp_id INTEGER REFERENCES timestamps (id);
   ALTER TABLE signatures ADD COLUMN timestamp_chain TEXT;
   CREATE INDEX signatures_unstamped ON signatures (created_at) WHERE timestamp_id IS NULL;
   ALTER TABLE records ADD COLUMN archived_at INTEGER;`,
  // No query looks records up by request leaf (the replay guard keeps recent leaves in memory and
  // reloads them by time), and an index on a random hash dirtied a random B-tree page per record at
  // every commit: 180 against 75 µs for a commit of four records.
  `DROP INDEX records_request_leaf;`,
];
