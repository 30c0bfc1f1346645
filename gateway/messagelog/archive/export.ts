import { createHash, X509Certificate } from 'node:crypto';
import Database from 'better-sqlite3';
import type { GlobalConf } from '../../../protocol/globalconf.js';
import { operationalRecordOf } from '../log.js';
import { ARCHIVE_FORMAT, ARCHIVE_MIME, README, type ArchiveManifest, type ArchivedPart, type ArchivedRecord } from './layout.js';
import { ZipWriter } from './zip.js';

export interface ExportOptions {
  readonly database: string;
  readonly server: string;
  readonly conf: GlobalConf;
  readonly from: number;
  readonly to: number;
  readonly out: string;
  /** Also write records whose signatures are not timestamped yet, listed as pending in the manifest. */
  readonly includePending?: boolean;
}

export interface ExportResult {
  readonly file: string;
  readonly records: number;
  readonly signatures: number;
  readonly timestamps: number;
  /** Records marked archived (those whose signatures were all timestamped). */
  readonly archived: number;
  /** Records in the archive still waiting for a timestamp (only with `includePending`). */
  readonly pending: number;
  /** Records of the period left out because they wait for a timestamp (only without `includePending`). */
  readonly leftOut: number;
}

const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');
const slug = (name: string) => name.replace(/[^A-Za-z0-9._-]+/g, '-');

type Row = Record<string, unknown>;
type Db = Database.Database;

/** What records.jsonl refers to, gathered while it streams: each file is written once, after it. */
interface Referenced {
  readonly signatures: Set<string>;
  readonly certificates: Set<string>;
  readonly ocsp: Set<string>;
}

/**
 * Writes the records of [from, to] with everything needed to check them offline, and marks
 * the fully timestamped ones archived (retention may then remove them from the database).
 * Records still waiting for their batch's timestamp are left out unless `includePending`;
 * then they are written, listed as pending, and not marked archived: without a timestamp the
 * archive is not yet complete proof of them, so the database must keep them until a later
 * export carries their tokens.
 *
 * Records stream from SQLite into the zip on disk one at a time, so memory stays flat whatever
 * the period holds (the sets of referenced hashes and the ids to mark are all that grow).
 */
export function exportArchive(o: ExportOptions): ExportResult {
  const db = new Database(o.database);
  const zip = new ZipWriter(o.out, 0o600); // owner-only: the metadata says who called whom, when
  try {
    zip.add('mimetype', ARCHIVE_MIME, { store: true });
    zip.add('README.txt', README);
    // One read transaction: the gateway keeps stamping meanwhile, and a record must not be
    // judged pending while its signature document is read stamped (or the other way round).
    const written = db.transaction(() => {
      const records = writeRecords(db, zip, o);
      return { ...records, ...writeReferenced(db, zip, records.referenced) };
    })();
    const manifest: ArchiveManifest = {
      format: ARCHIVE_FORMAT,
      server: o.server,
      exportedAt: new Date().toISOString(),
      from: new Date(o.from).toISOString(),
      to: new Date(o.to).toISOString(),
      records: written.records,
      signatures: written.signatures,
      timestamps: written.timestamps,
      ocspFreshnessSeconds: o.conf.ocspFreshnessSeconds,
      ...(written.pending.length > 0 ? { pending: written.pending } : {}),
      trust: writeTrust(zip, o.conf),
    };
    zip.add('META-INF/manifest.json', JSON.stringify(manifest, null, 2));
    zip.finish();
    const archived = markArchived(db, written.complete);
    return { file: o.out, records: written.records, signatures: written.signatures, timestamps: written.timestamps, archived, pending: written.pending.length, leftOut: written.leftOut };
  } catch (err) {
    zip.abort();
    throw err;
  } finally {
    db.close();
  }
}

/** records.jsonl, streamed: each record of the period with whether all its signatures are stamped yet, in one query. */
function writeRecords(db: Db, zip: ZipWriter, o: ExportOptions) {
  const rows = db.prepare(
    `SELECT r.*, (r.request_signature IS NULL OR a.timestamp_id IS NOT NULL) AND (r.response_signature IS NULL OR b.timestamp_id IS NOT NULL) AS stamped
     FROM records r LEFT JOIN signatures a ON a.hash = r.request_signature LEFT JOIN signatures b ON b.hash = r.response_signature
     WHERE r.request_in_ts >= ? AND r.request_in_ts <= ? ORDER BY r.id`,
  );
  const referenced: Referenced = { signatures: new Set(), certificates: new Set(), ocsp: new Set() };
  const part = (prefix: 'request' | 'response', r: Row): ArchivedPart | null => {
    if (!r[`${prefix}_signature`]) return null;
    const p = { manifest: r[`${prefix}_manifest`], chain: r[`${prefix}_chain`], signature: r[`${prefix}_signature`], signer: r[`${prefix}_signer`], ocsp: r[`${prefix}_ocsp`] } as ArchivedPart;
    referenced.signatures.add(p.signature);
    referenced.certificates.add(p.signer);
    referenced.ocsp.add(p.ocsp);
    return p;
  };
  const out = zip.stream('records.jsonl');
  const pending: number[] = [];
  const complete: number[] = [];
  let records = 0;
  let leftOut = 0;
  for (const row of rows.iterate(o.from, o.to) as IterableIterator<Row>) {
    const stamped = row.stamped === 1;
    if (!stamped && !o.includePending) {
      leftOut++;
      continue;
    }
    const record: ArchivedRecord = { ...operationalRecordOf(row), request: part('request', row), response: part('response', row) };
    out.write(`${JSON.stringify(record)}\n`);
    (stamped ? complete : pending).push(record.id);
    records++;
  }
  out.end();
  return { records, pending, complete, leftOut, referenced };
}

/** Every file records.jsonl refers to: signature documents, their stamps, tokens, certificates, OCSP responses. */
function writeReferenced(db: Db, zip: ZipWriter, referenced: Referenced) {
  const sig = db.prepare('SELECT xml, timestamp_id, timestamp_chain FROM signatures WHERE hash = ?');
  const timestamps = new Set<number>();
  for (const hash of referenced.signatures) {
    const s = sig.get(hash) as { xml: string; timestamp_id: number | null; timestamp_chain: string | null };
    zip.add(`signatures/${hash}.xml`, s.xml);
    zip.add(`signatures/${hash}.json`, JSON.stringify({ timestamp: s.timestamp_id, chain: s.timestamp_chain }));
    if (s.timestamp_id !== null) timestamps.add(s.timestamp_id);
  }
  const ts = db.prepare('SELECT token, root, tsa, gen_time FROM timestamps WHERE id = ?');
  for (const id of timestamps) {
    const t = ts.get(id) as { token: Buffer; root: string; tsa: string; gen_time: number };
    zip.add(`timestamps/${id}.tst`, t.token);
    zip.add(`timestamps/${id}.json`, JSON.stringify({ root: t.root, tsa: t.tsa, genTime: new Date(t.gen_time).toISOString(), imprintAlgorithm: 'sha512' }));
  }
  const cert = db.prepare('SELECT der FROM certificates WHERE hash = ?');
  for (const hash of referenced.certificates) zip.add(`certificates/${hash}.pem`, new X509Certificate((cert.get(hash) as { der: Buffer }).der).toString());
  const resp = db.prepare('SELECT der FROM ocsp_responses WHERE hash = ?');
  for (const hash of referenced.ocsp) zip.add(`ocsp/${hash}.der`, (resp.get(hash) as { der: Buffer }).der);
  return { signatures: referenced.signatures.size, timestamps: timestamps.size };
}

/** The approved CAs, their roots and the TSAs of the global configuration: chain candidates, never trusted themselves. */
function writeTrust(zip: ZipWriter, conf: GlobalConf): ArchiveManifest['trust'] {
  const trust = { cas: [] as string[], roots: [] as string[], tsas: [] as string[] };
  for (const ca of conf.approvedCAs) {
    const caFile = `trust/ca-${slug(ca.name)}.pem`;
    const rootFile = `trust/root-${sha256(ca.rootCertificate).slice(0, 16)}.pem`;
    zip.add(caFile, ca.certificate);
    trust.cas.push(caFile);
    if (!trust.roots.includes(rootFile)) {
      zip.add(rootFile, ca.rootCertificate);
      trust.roots.push(rootFile);
    }
  }
  for (const tsa of conf.approvedTSAs) {
    const file = `trust/tsa-${slug(tsa.name)}.pem`;
    zip.add(file, tsa.certificate);
    trust.tsas.push(file);
  }
  return trust;
}

/**
 * Only complete records count as archived: the archive must be able to prove them. Marking
 * touches every exported row, so the WAL is checkpointed and truncated straight after: left
 * alone it keeps the size of the largest export until the gateway stops (548 MB after one).
 */
function markArchived(db: Db, ids: readonly number[]): number {
  const mark = db.prepare('UPDATE records SET archived_at = ? WHERE id = ? AND archived_at IS NULL');
  const now = Date.now();
  db.transaction(() => ids.forEach((id) => mark.run(now, id)))();
  db.pragma('wal_checkpoint(TRUNCATE)');
  return ids.length;
}
