import { derHash } from '../../protocol/recurring.js';
import { openDatabase, type Db } from '../../common/sqlite.js';
import type { Logger } from '../../common/log.js';
import { MESSAGELOG_MIGRATIONS } from './schema.js';

/** What proves one signed message: kept for `camdx verify`, never the message itself. */
export interface SignedPart {
  readonly manifest: string;
  readonly chain: string;
  readonly leaf: string;
  readonly signature: string;
  readonly signatureHash: string;
  readonly batchSize: number;
  readonly signerDer: Buffer;
  readonly ocspDer: Buffer;
}

export interface ExchangeRecord {
  readonly messageId: string;
  readonly requestId: string;
  readonly side: 'Client' | 'Producer';
  readonly client: string;
  readonly service: string;
  readonly endpoint: string;
  readonly peerServer: string | null;
  readonly requestInTs: number;
  readonly requestOutTs: number | null;
  readonly responseInTs: number | null;
  readonly responseOutTs: number | null;
  readonly requestSize: number | null;
  readonly responseSize: number | null;
  readonly status: number | null;
  readonly succeeded: boolean;
  readonly faultCode: string | null;
  readonly faultString: string | null;
  readonly request: SignedPart | null;
  readonly response: SignedPart | null;
}

export interface OperationalRecord extends Omit<ExchangeRecord, 'request' | 'response'> {
  readonly id: number;
}

/** One `records` row's metadata, as the database stores it (operational records, archives). */
export function operationalRecordOf(r: Record<string, unknown>): OperationalRecord {
  return {
    id: r.id as number,
    messageId: r.message_id as string,
    requestId: r.request_id as string,
    side: r.side as 'Client' | 'Producer',
    client: r.client as string,
    service: r.service as string,
    endpoint: r.endpoint as string,
    peerServer: r.peer_server as string | null,
    requestInTs: r.request_in_ts as number,
    requestOutTs: r.request_out_ts as number | null,
    responseInTs: r.response_in_ts as number | null,
    responseOutTs: r.response_out_ts as number | null,
    requestSize: r.request_size as number | null,
    responseSize: r.response_size as number | null,
    status: r.status as number | null,
    succeeded: r.succeeded === 1,
    faultCode: r.fault_code as string | null,
    faultString: r.fault_string as string | null,
  };
}

export interface UnstampedSignature {
  readonly hash: string;
  readonly xml: string;
  readonly createdAt: number;
}

export interface StampedBatch {
  readonly token: Buffer;
  readonly root: string;
  readonly tsa: string;
  readonly genTime: number;
  /** signature hash → encoded hash chain to the root */
  readonly chains: ReadonlyMap<string, string>;
}

/**
 * What the WAL may keep of its size once checkpointed. Without a limit SQLite reuses the file
 * but never shrinks it, so it stays as large as the largest burst of writes (548 MB after one
 * export of 147,290 records).
 */
const WAL_LIMIT_BYTES = 16 << 20;
/** A group commit this large is followed by a checkpoint, so the WAL does not grow with the load. */
const LARGE_BATCH = 1000;

/** How many stored hashes to remember; forgetting only costs an INSERT OR IGNORE. */
const STORED_MEMORY = 8192;

/**
 * The message log. Records are written by group commit: `record()` queues and returns a
 * promise that settles once the record is committed; every record queued in one turn of the
 * event loop goes into one transaction (signature documents, certificates and OCSP responses
 * stored once each, by hash). The exchange waits for that commit before it completes, so a
 * record is never lost once its answer has gone out, and no request does a write itself.
 */
export class MessageLog {
  private readonly db: Db;
  private queue: Array<{ record: ExchangeRecord; done: (err?: Error) => void }> = [];
  private scheduled = false;
  /** Hashes of documents, certificates and OCSP responses known to be in the database (bounded). */
  private readonly stored = new Set<string>();
  private readonly storing = new Set<string>();
  private readonly stmt;
  private readonly flushTx: (batch: ExchangeRecord[]) => void;

  constructor(
    path: string,
    private readonly log: Logger,
  ) {
    this.db = openDatabase(path, MESSAGELOG_MIGRATIONS);
    this.db.pragma(`journal_size_limit = ${WAL_LIMIT_BYTES}`);
    const db = this.db;
    this.stmt = {
      signature: db.prepare('INSERT OR IGNORE INTO signatures (hash, xml, batch_size, created_at) VALUES (?, ?, ?, ?)'),
      cert: db.prepare('INSERT OR IGNORE INTO certificates (hash, der) VALUES (?, ?)'),
      ocsp: db.prepare('INSERT OR IGNORE INTO ocsp_responses (hash, der) VALUES (?, ?)'),
      // Positional parameters: binding 29 values from an array costs a fraction of binding them by name from an object.
      record: db.prepare(
        `INSERT INTO records (message_id, request_id, side, client, service, endpoint, peer_server, request_in_ts, request_out_ts, response_in_ts, response_out_ts,
           request_size, response_size, status, succeeded, fault_code, fault_string,
           request_manifest, request_chain, request_signature, request_signer, request_ocsp, request_leaf,
           response_manifest, response_chain, response_signature, response_signer, response_ocsp, response_leaf)
         VALUES (${Array(29).fill('?').join(', ')})`,
      ),
      recentLeaves: db.prepare("SELECT request_leaf AS leaf, request_manifest AS manifest FROM records WHERE side = 'Producer' AND request_leaf IS NOT NULL AND request_in_ts >= ? ORDER BY id"),
      query: db.prepare(
        `SELECT id, message_id, request_id, side, client, service, endpoint, peer_server, request_in_ts, request_out_ts, response_in_ts, response_out_ts,
                request_size, response_size, status, succeeded, fault_code, fault_string
         FROM records WHERE request_in_ts >= @from AND request_in_ts <= @to AND (@client IS NULL OR client = @client) AND (@service IS NULL OR service = @service)
         ORDER BY id LIMIT @limit`,
      ),
      count: db.prepare('SELECT COUNT(*) AS n FROM records'),
      unstamped: db.prepare('SELECT hash, xml, created_at AS createdAt FROM signatures WHERE timestamp_id IS NULL ORDER BY created_at LIMIT ?'),
      unstampedOf: db.prepare('SELECT hash, xml, created_at AS createdAt FROM signatures WHERE timestamp_id IS NULL AND hash IN (SELECT value FROM json_each(?))'),
      deleteTimestamp: db.prepare('DELETE FROM timestamps WHERE id = ?'),
      setBatchSize: db.prepare('UPDATE timestamps SET batch_size = ? WHERE id = ?'),
      oldestUnstamped: db.prepare('SELECT MIN(created_at) AS at, COUNT(*) AS n FROM signatures WHERE timestamp_id IS NULL'),
      insertTimestamp: db.prepare('INSERT INTO timestamps (token, root, tsa, gen_time, batch_size, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
      stamp: db.prepare('UPDATE signatures SET timestamp_id = ?, timestamp_chain = ? WHERE hash = ? AND timestamp_id IS NULL'),
    };
    this.flushTx = db.transaction((batch: ExchangeRecord[]) => {
      for (const r of batch) this.insert(r);
    });
  }

  get queueDepth(): number {
    return this.queue.length;
  }

  /** Queues a record; resolves once it is committed (group commit at the end of this event-loop turn). */
  record(entry: ExchangeRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ record: entry, done: (err) => (err ? reject(err) : resolve()) });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  flush(): void {
    this.scheduled = false;
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    try {
      this.flushTx(batch.map((b) => b.record));
      // Only what a committed transaction wrote is known to be stored.
      if (this.stored.size + this.storing.size > STORED_MEMORY) this.stored.clear();
      for (const key of this.storing) this.stored.add(key);
      this.storing.clear();
      for (const b of batch) b.done();
      if (batch.length >= LARGE_BATCH) this.checkpoint();
    } catch (err) {
      this.storing.clear();
      this.log.error({ err: { message: (err as Error).message } }, 'message log write failed');
      for (const b of batch) b.done(err as Error);
    }
  }

  /** Signature documents not yet covered by a timestamp, oldest first. */
  unstamped(limit: number): UnstampedSignature[] {
    return this.stmt.unstamped.all(limit) as UnstampedSignature[];
  }

  /** Those of `hashes` not yet covered by a timestamp. */
  unstampedOf(hashes: readonly string[]): UnstampedSignature[] {
    return this.stmt.unstampedOf.all(JSON.stringify(hashes)) as UnstampedSignature[];
  }

  /** How many signature documents wait for a timestamp, and since when. */
  unstampedStats(): { count: number; oldest: number | null } {
    const row = this.stmt.oldestUnstamped.get() as { at: number | null; n: number };
    return { count: row.n, oldest: row.at };
  }

  /**
   * Stores one token and every covered document's chain in one transaction: a crash leaves
   * the batch either wholly stamped or wholly unstamped (and stamped again later, once).
   */
  storeTimestamp(batch: StampedBatch): number {
    return this.db.transaction(() => {
      const id = Number(this.stmt.insertTimestamp.run(batch.token, batch.root, batch.tsa, batch.genTime, batch.chains.size, Date.now()).lastInsertRowid);
      let stamped = 0;
      // A document stamped meanwhile by an overlapping (synchronous) stamp keeps its first token.
      for (const [hash, chain] of batch.chains) stamped += this.stmt.stamp.run(id, chain, hash).changes;
      if (stamped === 0) this.stmt.deleteTimestamp.run(id);
      else if (stamped !== batch.chains.size) this.stmt.setBatchSize.run(stamped, id);
      return stamped;
    })();
  }

  /** Runs `insert` unless this hash is already stored: a batch's records share one signature document, certificate and OCSP response. */
  private once(kind: string, hash: string, insert: () => void): void {
    const key = `${kind}:${hash}`;
    if (this.stored.has(key) || this.storing.has(key)) return;
    insert();
    this.storing.add(key);
  }

  /** A signed part's columns (manifest, chain, signature, signer, OCSP, leaf), its documents stored once each. */
  private part(p: SignedPart | null): Array<string | null> {
    if (!p) return [null, null, null, null, null, null];
    const signer = derHash(p.signerDer);
    const ocsp = derHash(p.ocspDer);
    this.once('signature', p.signatureHash, () => this.stmt.signature.run(p.signatureHash, p.signature, p.batchSize, Date.now()));
    this.once('cert', signer, () => this.stmt.cert.run(signer, p.signerDer));
    this.once('ocsp', ocsp, () => this.stmt.ocsp.run(ocsp, p.ocspDer));
    return [p.manifest, p.chain, p.signatureHash, signer, ocsp, p.leaf];
  }

  private insert(r: ExchangeRecord): void {
    this.stmt.record.run(
      r.messageId,
      r.requestId,
      r.side,
      r.client,
      r.service,
      r.endpoint,
      r.peerServer,
      r.requestInTs,
      r.requestOutTs,
      r.responseInTs,
      r.responseOutTs,
      r.requestSize,
      r.responseSize,
      r.status,
      r.succeeded ? 1 : 0,
      r.faultCode,
      r.faultString,
      ...this.part(r.request),
      ...this.part(r.response),
    );
  }

  /**
   * Received request leaves whose replay window (`windowMs` after signing) is still open, with
   * their signing times, oldest first — so replays are refused across restarts. The window runs
   * from the signing time, not the arrival: a message signed ahead of the clock stays
   * replayable for longer than one window after it arrived. Candidates are those that arrived
   * in the last two windows (earlier versions accepted messages up to a window ahead).
   */
  recentRequestLeaves(windowMs: number, now = Date.now()): Array<{ leaf: string; at: number }> {
    const rows = this.stmt.recentLeaves.all(now - 2 * windowMs) as Array<{ leaf: string; manifest: string | null }>;
    const open: Array<{ leaf: string; at: number }> = [];
    for (const row of rows) {
      const at = signedAtOf(row.manifest);
      // An unreadable signing time cannot be placed in the window: keep the leaf for a whole one.
      const signedAt = Number.isFinite(at) ? at : now;
      if (signedAt + windowMs >= now) open.push({ leaf: row.leaf, at: signedAt });
    }
    return open.sort((a, b) => a.at - b.at);
  }

  operationalRecords(q: { from: number; to: number; client?: string; service?: string; limit: number }): OperationalRecord[] {
    const rows = this.stmt.query.all({ from: q.from, to: q.to, client: q.client ?? null, service: q.service ?? null, limit: q.limit }) as Array<Record<string, unknown>>;
    return rows.map(operationalRecordOf);
  }

  count(): number {
    this.flush();
    return (this.stmt.count.get() as { n: number }).n;
  }

  /**
   * Retention: removes archived records older than `cutoff` (ms), then whatever only they
   * referred to. Records not yet archived are kept whatever their age.
   */
  prune(cutoff: number): number {
    // What was stored may be deleted now: the next records store their documents again.
    this.stored.clear();
    const removed = this.db.transaction(() => {
      const removed = this.db.prepare('DELETE FROM records WHERE archived_at IS NOT NULL AND request_in_ts < ?').run(cutoff).changes;
      if (removed === 0) return 0;
      const used = (a: string, b: string) => `SELECT ${a} FROM records WHERE ${a} IS NOT NULL UNION SELECT ${b} FROM records WHERE ${b} IS NOT NULL`;
      this.db.exec(`DELETE FROM signatures WHERE hash NOT IN (${used('request_signature', 'response_signature')});
        DELETE FROM timestamps WHERE id NOT IN (SELECT timestamp_id FROM signatures WHERE timestamp_id IS NOT NULL);
        DELETE FROM certificates WHERE hash NOT IN (${used('request_signer', 'response_signer')});
        DELETE FROM ocsp_responses WHERE hash NOT IN (${used('request_ocsp', 'response_ocsp')});`);
      return removed;
    })();
    if (removed > 0) this.checkpoint();
    return removed;
  }

  /**
   * Copies the WAL into the database and truncates it, if nobody is in the way: with a reader
   * of an older snapshot (an export) it does what it can without waiting, and the
   * `journal_size_limit` shrinks the file at the next reset instead.
   */
  private checkpoint(): void {
    this.db.pragma('busy_timeout = 0');
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch (err) {
      this.log.warn({ err: { message: (err as Error).message } }, 'message log checkpoint failed');
    } finally {
      this.db.pragma('busy_timeout = 5000');
    }
  }

  close(): void {
    this.flush();
    this.db.close();
  }
}

/** The `signedAt` of a stored manifest (base64url JSON, already verified when it arrived). */
function signedAtOf(manifest: string | null): number {
  try {
    return Date.parse((JSON.parse(Buffer.from(manifest ?? '', 'base64url').toString('utf8')) as { signedAt?: unknown }).signedAt as string);
  } catch {
    return Number.NaN;
  }
}
