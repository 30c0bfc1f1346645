import { createHash, X509Certificate } from 'node:crypto';
import Database from 'better-sqlite3';
import { strToU8, zipSync, type Zippable } from 'fflate';
import { writeFileAtomic } from '../../../common/files.js';
import type { GlobalConf } from '../../../protocol/globalconf.js';
import { operationalRecordOf } from '../log.js';
import { ARCHIVE_FORMAT, ARCHIVE_MIME, README, type ArchiveManifest, type ArchivedPart, type ArchivedRecord } from './layout.js';

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

/** The records of a period as one consistent read, each with whether all its signatures are stamped yet. */
interface Snapshot {
  readonly records: ReadonlyArray<{ readonly row: Row; readonly stamped: boolean }>;
}

/**
 * Writes the records of [from, to] with everything needed to check them offline, and marks
 * the fully timestamped ones archived (retention may then remove them from the database).
 * Records still waiting for their batch's timestamp are left out unless `includePending`;
 * then they are written, listed as pending, and not marked archived: without a timestamp the
 * archive is not yet complete proof of them, so the database must keep them until a later
 * export carries their tokens.
 */
export function exportArchive(o: ExportOptions): ExportResult {
  const db = new Database(o.database);
  try {
    // One read transaction: the gateway keeps stamping meanwhile, and a record must not be
    // judged pending while its signature document is read stamped (or the other way round).
    const { files, records, pending, leftOut, signatures, timestamps } = db.transaction(() => {
      const snapshot = readSnapshot(db, o.from, o.to);
      const chosen = snapshot.records.filter((r) => r.stamped || o.includePending);
      const waiting = chosen.filter((r) => !r.stamped).map((r) => r.row.id as number);
      return { ...archiveFiles(db, chosen.map((r) => r.row)), pending: waiting, leftOut: snapshot.records.length - chosen.length };
    })();
    const manifest: ArchiveManifest = {
      format: ARCHIVE_FORMAT,
      server: o.server,
      exportedAt: new Date().toISOString(),
      from: new Date(o.from).toISOString(),
      to: new Date(o.to).toISOString(),
      records: records.length,
      signatures,
      timestamps,
      ocspFreshnessSeconds: o.conf.ocspFreshnessSeconds,
      ...(pending.length > 0 ? { pending } : {}),
      trust: addTrust(files, o.conf),
    };
    files['META-INF/manifest.json'] = strToU8(JSON.stringify(manifest, null, 2));
    // Owner-only: the metadata says who called whom, when; the reader decides whom to share it with.
    writeFileAtomic(o.out, zipSync(files, { level: 6 }), 0o600);

    const pendingIds = new Set(pending);
    const archived = markArchived(db, records.map((r) => r.id).filter((id) => !pendingIds.has(id)));
    return { file: o.out, records: records.length, signatures, timestamps, archived, pending: pending.length, leftOut };
  } finally {
    db.close();
  }
}

function readSnapshot(db: Db, from: number, to: number): Snapshot {
  const rows = db.prepare('SELECT * FROM records WHERE request_in_ts >= ? AND request_in_ts <= ? ORDER BY id').all(from, to) as Row[];
  const stampedQuery = db.prepare('SELECT timestamp_id FROM signatures WHERE hash = ?');
  const known = new Map<string, boolean>();
  const isStamped = (hash: unknown): boolean => {
    if (hash === null || hash === undefined) return true;
    let stamped = known.get(hash as string);
    if (stamped === undefined) {
      stamped = (stampedQuery.get(hash) as { timestamp_id: number | null } | undefined)?.timestamp_id != null;
      known.set(hash as string, stamped);
    }
    return stamped;
  };
  return { records: rows.map((row) => ({ row, stamped: isStamped(row.request_signature) && isStamped(row.response_signature) })) };
}

/** records.jsonl and every file its records refer to: signature documents, their stamps, tokens, certificates, OCSP responses. */
function archiveFiles(db: Db, rows: readonly Row[]) {
  const files: Zippable = { mimetype: [strToU8(ARCHIVE_MIME), { level: 0 }], 'README.txt': strToU8(README) };
  const signatures = new Set<string>();
  const certificates = new Set<string>();
  const ocsp = new Set<string>();
  const part = (prefix: 'request' | 'response', r: Row): ArchivedPart | null => {
    if (!r[`${prefix}_signature`]) return null;
    const p = { manifest: r[`${prefix}_manifest`], chain: r[`${prefix}_chain`], signature: r[`${prefix}_signature`], signer: r[`${prefix}_signer`], ocsp: r[`${prefix}_ocsp`] } as ArchivedPart;
    signatures.add(p.signature);
    certificates.add(p.signer);
    ocsp.add(p.ocsp);
    return p;
  };
  const records: ArchivedRecord[] = rows.map((r) => ({ ...operationalRecordOf(r), request: part('request', r), response: part('response', r) }));
  files['records.jsonl'] = strToU8(records.map((r) => JSON.stringify(r)).join('\n') + (records.length ? '\n' : ''));

  const sig = db.prepare('SELECT xml, timestamp_id, timestamp_chain FROM signatures WHERE hash = ?');
  const timestamps = new Set<number>();
  for (const hash of signatures) {
    const s = sig.get(hash) as { xml: string; timestamp_id: number | null; timestamp_chain: string | null };
    files[`signatures/${hash}.xml`] = strToU8(s.xml);
    files[`signatures/${hash}.json`] = strToU8(JSON.stringify({ timestamp: s.timestamp_id, chain: s.timestamp_chain }));
    if (s.timestamp_id !== null) timestamps.add(s.timestamp_id);
  }
  const ts = db.prepare('SELECT token, root, tsa, gen_time FROM timestamps WHERE id = ?');
  for (const id of timestamps) {
    const t = ts.get(id) as { token: Buffer; root: string; tsa: string; gen_time: number };
    files[`timestamps/${id}.tst`] = new Uint8Array(t.token);
    files[`timestamps/${id}.json`] = strToU8(JSON.stringify({ root: t.root, tsa: t.tsa, genTime: new Date(t.gen_time).toISOString(), imprintAlgorithm: 'sha512' }));
  }
  const cert = db.prepare('SELECT der FROM certificates WHERE hash = ?');
  for (const hash of certificates) files[`certificates/${hash}.pem`] = strToU8(new X509Certificate((cert.get(hash) as { der: Buffer }).der).toString());
  const resp = db.prepare('SELECT der FROM ocsp_responses WHERE hash = ?');
  for (const hash of ocsp) files[`ocsp/${hash}.der`] = new Uint8Array((resp.get(hash) as { der: Buffer }).der);
  return { files, records, signatures: signatures.size, timestamps: timestamps.size };
}

/** The approved CAs, their roots and the TSAs of the global configuration: chain candidates, never trusted themselves. */
function addTrust(files: Zippable, conf: GlobalConf): ArchiveManifest['trust'] {
  const trust = { cas: [] as string[], roots: [] as string[], tsas: [] as string[] };
  for (const ca of conf.approvedCAs) {
    const caFile = `trust/ca-${slug(ca.name)}.pem`;
    const rootFile = `trust/root-${sha256(ca.rootCertificate).slice(0, 16)}.pem`;
    files[caFile] = strToU8(ca.certificate);
    files[rootFile] = strToU8(ca.rootCertificate);
    trust.cas.push(caFile);
    if (!trust.roots.includes(rootFile)) trust.roots.push(rootFile);
  }
  for (const tsa of conf.approvedTSAs) {
    const file = `trust/tsa-${slug(tsa.name)}.pem`;
    files[file] = strToU8(tsa.certificate);
    trust.tsas.push(file);
  }
  return trust;
}

/** Only complete records count as archived: the archive must be able to prove them. */
function markArchived(db: Db, ids: readonly number[]): number {
  const mark = db.prepare('UPDATE records SET archived_at = ? WHERE id = ? AND archived_at IS NULL');
  const now = Date.now();
  db.transaction(() => ids.forEach((id) => mark.run(now, id)))();
  return ids.length;
}
