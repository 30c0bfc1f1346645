import { createHash } from 'node:crypto';
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

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/**
 * Writes exchange records off the request path: `record()` only queues; a timer flushes the
 * queue in one transaction (signature documents, certificates and OCSP responses are stored
 * once each, by hash). `close()` flushes what is left.
 */
export class MessageLog {
  private readonly db: Db;
  private queue: ExchangeRecord[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly stmt;
  private readonly flushTx: () => void;

  constructor(
    path: string,
    private readonly log: Logger,
    flushMs = 50,
  ) {
    this.db = openDatabase(path, MESSAGELOG_MIGRATIONS);
    const db = this.db;
    this.stmt = {
      signature: db.prepare('INSERT OR IGNORE INTO signatures (hash, xml, batch_size, created_at) VALUES (?, ?, ?, ?)'),
      cert: db.prepare('INSERT OR IGNORE INTO certificates (hash, der) VALUES (?, ?)'),
      ocsp: db.prepare('INSERT OR IGNORE INTO ocsp_responses (hash, der) VALUES (?, ?)'),
      record: db.prepare(
        `INSERT INTO records (message_id, request_id, side, client, service, endpoint, peer_server, request_in_ts, request_out_ts, response_in_ts, response_out_ts,
           request_size, response_size, status, succeeded, fault_code, fault_string,
           request_manifest, request_chain, request_signature, request_signer, request_ocsp, request_leaf,
           response_manifest, response_chain, response_signature, response_signer, response_ocsp, response_leaf)
         VALUES (@messageId, @requestId, @side, @client, @service, @endpoint, @peerServer, @requestInTs, @requestOutTs, @responseInTs, @responseOutTs,
           @requestSize, @responseSize, @status, @succeeded, @faultCode, @faultString,
           @reqManifest, @reqChain, @reqSignature, @reqSigner, @reqOcsp, @reqLeaf,
           @resManifest, @resChain, @resSignature, @resSigner, @resOcsp, @resLeaf)`,
      ),
      recentLeaves: db.prepare("SELECT request_leaf AS leaf, request_in_ts AS at FROM records WHERE side = 'Producer' AND request_leaf IS NOT NULL AND request_in_ts >= ?"),
      query: db.prepare(
        `SELECT id, message_id, request_id, side, client, service, endpoint, peer_server, request_in_ts, request_out_ts, response_in_ts, response_out_ts,
                request_size, response_size, status, succeeded, fault_code, fault_string
         FROM records WHERE request_in_ts >= @from AND request_in_ts <= @to AND (@client IS NULL OR client = @client) AND (@service IS NULL OR service = @service)
         ORDER BY id LIMIT @limit`,
      ),
      count: db.prepare('SELECT COUNT(*) AS n FROM records'),
    };
    this.flushTx = db.transaction(() => {
      const batch = this.queue;
      this.queue = [];
      for (const r of batch) this.insert(r);
    });
    this.timer = setInterval(() => this.flush(), flushMs);
    this.timer.unref();
  }

  get queueDepth(): number {
    return this.queue.length;
  }

  record(entry: ExchangeRecord): void {
    this.queue.push(entry);
  }

  flush(): void {
    if (this.queue.length === 0) return;
    try {
      this.flushTx();
    } catch (err) {
      // Keep serving; the records stay queued and the next flush tries again.
      this.log.error({ err: { message: (err as Error).message } }, 'message log write failed');
    }
  }

  private part(p: SignedPart | null) {
    if (!p) return { manifest: null, chain: null, signature: null, signer: null, ocsp: null, leaf: null };
    const signer = sha256(p.signerDer);
    const ocsp = sha256(p.ocspDer);
    this.stmt.signature.run(p.signatureHash, p.signature, p.batchSize, Date.now());
    this.stmt.cert.run(signer, p.signerDer);
    this.stmt.ocsp.run(ocsp, p.ocspDer);
    return { manifest: p.manifest, chain: p.chain, signature: p.signatureHash, signer, ocsp, leaf: p.leaf };
  }

  private insert(r: ExchangeRecord): void {
    const req = this.part(r.request);
    const res = this.part(r.response);
    const { request: _q, response: _s, ...meta } = r;
    this.stmt.record.run({
      ...meta,
      succeeded: r.succeeded ? 1 : 0,
      reqManifest: req.manifest,
      reqChain: req.chain,
      reqSignature: req.signature,
      reqSigner: req.signer,
      reqOcsp: req.ocsp,
      reqLeaf: req.leaf,
      resManifest: res.manifest,
      resChain: res.chain,
      resSignature: res.signature,
      resSigner: res.signer,
      resOcsp: res.ocsp,
      resLeaf: res.leaf,
    });
  }

  /** Request leaves received in the last `sinceMs`, so replays are refused across restarts. */
  recentRequestLeaves(sinceMs: number): Array<{ leaf: string; at: number }> {
    return this.stmt.recentLeaves.all(Date.now() - sinceMs) as Array<{ leaf: string; at: number }>;
  }

  operationalRecords(q: { from: number; to: number; client?: string; service?: string; limit: number }): OperationalRecord[] {
    const rows = this.stmt.query.all({ from: q.from, to: q.to, client: q.client ?? null, service: q.service ?? null, limit: q.limit }) as Array<Record<string, unknown>>;
    return rows.map((r) => ({
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
    }));
  }

  count(): number {
    this.flush();
    return (this.stmt.count.get() as { n: number }).n;
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
    this.db.close();
  }
}
