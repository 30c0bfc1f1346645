import { createHash, X509Certificate } from 'node:crypto';
import Database from 'better-sqlite3';
import { strToU8, zipSync, type Zippable } from 'fflate';
import { writeFileAtomic } from '../../../common/files.js';
import type { GlobalConf } from '../../../protocol/globalconf.js';
import { operationalRecordOf } from '../log.js';
import { ARCHIVE_FORMAT, ARCHIVE_MIME, README, type ArchiveManifest, type ArchivedPart, type ArchivedRecord } from './layout.js';

export interface ExportResult {
  readonly file: string;
  readonly records: number;
  readonly signatures: number;
  readonly timestamps: number;
  /** Records marked archived (those whose signatures were all timestamped). */
  readonly archived: number;
}

const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');
const slug = (name: string) => name.replace(/[^A-Za-z0-9._-]+/g, '-');

type Row = Record<string, unknown>;

/**
 * Writes the records of [from, to] with everything needed to check them offline, and marks
 * the fully timestamped ones archived (retention may then remove them from the database).
 */
export function exportArchive(o: { database: string; server: string; conf: GlobalConf; from: number; to: number; out: string }): ExportResult {
  const db = new Database(o.database);
  try {
    const rows = db.prepare('SELECT * FROM records WHERE request_in_ts >= ? AND request_in_ts <= ? ORDER BY id').all(o.from, o.to) as Row[];
    const files: Zippable = { mimetype: [strToU8(ARCHIVE_MIME), { level: 0 }], 'README.txt': strToU8(README) };
    const signatures = new Set<string>();
    const certificates = new Set<string>();
    const ocsp = new Set<string>();
    const timestamps = new Set<number>();
    const part = (prefix: 'request' | 'response', r: Row): ArchivedPart | null => {
      if (!r[`${prefix}_signature`]) return null;
      signatures.add(r[`${prefix}_signature`] as string);
      certificates.add(r[`${prefix}_signer`] as string);
      ocsp.add(r[`${prefix}_ocsp`] as string);
      return {
        manifest: r[`${prefix}_manifest`] as string,
        chain: r[`${prefix}_chain`] as string,
        signature: r[`${prefix}_signature`] as string,
        signer: r[`${prefix}_signer`] as string,
        ocsp: r[`${prefix}_ocsp`] as string,
      };
    };
    const records: ArchivedRecord[] = rows.map((r) => ({
      ...operationalRecordOf(r),
      request: part('request', r),
      response: part('response', r),
    }));
    files['records.jsonl'] = strToU8(records.map((r) => JSON.stringify(r)).join('\n') + (records.length ? '\n' : ''));

    const sig = db.prepare('SELECT xml, timestamp_id, timestamp_chain FROM signatures WHERE hash = ?');
    const stamped = new Set<string>();
    for (const hash of signatures) {
      const s = sig.get(hash) as { xml: string; timestamp_id: number | null; timestamp_chain: string | null };
      files[`signatures/${hash}.xml`] = strToU8(s.xml);
      files[`signatures/${hash}.json`] = strToU8(JSON.stringify({ timestamp: s.timestamp_id, chain: s.timestamp_chain }));
      if (s.timestamp_id !== null) {
        timestamps.add(s.timestamp_id);
        stamped.add(hash);
      }
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

    const trust = { cas: [] as string[], roots: [] as string[], tsas: [] as string[] };
    for (const ca of o.conf.approvedCAs) {
      const caFile = `trust/ca-${slug(ca.name)}.pem`;
      const rootFile = `trust/root-${sha256(ca.rootCertificate).slice(0, 16)}.pem`;
      files[caFile] = strToU8(ca.certificate);
      files[rootFile] = strToU8(ca.rootCertificate);
      trust.cas.push(caFile);
      if (!trust.roots.includes(rootFile)) trust.roots.push(rootFile);
    }
    for (const tsa of o.conf.approvedTSAs) {
      const file = `trust/tsa-${slug(tsa.name)}.pem`;
      files[file] = strToU8(tsa.certificate);
      trust.tsas.push(file);
    }
    const manifest: ArchiveManifest = {
      format: ARCHIVE_FORMAT,
      server: o.server,
      exportedAt: new Date().toISOString(),
      from: new Date(o.from).toISOString(),
      to: new Date(o.to).toISOString(),
      records: records.length,
      signatures: signatures.size,
      timestamps: timestamps.size,
      ocspFreshnessSeconds: o.conf.ocspFreshnessSeconds,
      trust,
    };
    files['META-INF/manifest.json'] = strToU8(JSON.stringify(manifest, null, 2));
    // Owner-only: the metadata says who called whom, when; the reader decides whom to share it with.
    writeFileAtomic(o.out, zipSync(files, { level: 6 }), 0o600);

    // Only complete records count as archived: the archive must be able to prove them.
    const complete = records.filter((r) => [r.request, r.response].every((p) => !p || stamped.has(p.signature))).map((r) => r.id);
    const mark = db.prepare('UPDATE records SET archived_at = ? WHERE id = ? AND archived_at IS NULL');
    const now = Date.now();
    db.transaction(() => complete.forEach((id) => mark.run(now, id)))();
    return { file: o.out, records: records.length, signatures: signatures.size, timestamps: timestamps.size, archived: complete.length };
  } finally {
    db.close();
  }
}
