import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArchiveManifest, ArchivedRecord } from '../../gateway/messagelog/archive/layout.js';
import { verifyArchive } from '../../gateway/messagelog/archive/verify.js';
import { call } from '../support/http.js';
import { CLIENT, startTestNetwork, type TestNetwork } from '../support/network.js';
import { run } from '../support/run.js';
import { requireTool } from '../support/tools.js';

/**
 * Records exported before their batch is timestamped. The batch interval is an hour, so the
 * echo's records stay pending for the whole test; a service marked timestampSynchronously gives
 * records stamped before their answer returns, so one archive holds both kinds.
 */
const SYNC = 'CAMDX/GOV/MOI/KYC/sync';
const bin = join(import.meta.dirname, '../../bin/camdx.js');
const camdx = (args: string[]) => run(process.execPath, [bin, ...args]);
const PENDING_IDS = ['pending-1', 'pending-2', 'pending-3'];

let n: TestNetwork;
let stampedId: string;
let stampedOnly: string;
let withPending: string;
const exported: Record<'stampedOnly' | 'withPending', string> = { stampedOnly: '', withPending: '' };

const providerDb = () => new Database(join(n.provider.dir, 'messagelog.db'), { readonly: true });
/** The provider's record of an exchange: whether both its signatures are stamped, and whether an export marked it archived. */
function providerRecord(messageId: string): { stamped: boolean; archived: boolean } {
  const d = providerDb();
  try {
    const row = d
      .prepare(`SELECT a.timestamp_id AS req, b.timestamp_id AS res, r.archived_at AS archived FROM records r JOIN signatures a ON a.hash = r.request_signature
                JOIN signatures b ON b.hash = r.response_signature WHERE r.message_id = ?`)
      .get(messageId) as { req: number | null; res: number | null; archived: number | null };
    return { stamped: row.req !== null && row.res !== null, archived: row.archived !== null };
  } finally {
    d.close();
  }
}

/** Calls the synchronously stamped service until the new service setting has reached both gateways (the record comes back stamped). */
async function stampedExchange(): Promise<string> {
  for (let i = 0; i < 40; i++) {
    const id = `sync-${i}`;
    const res = await call(`${n.consumer.consumerUrl}/r1/${SYNC}/x`, { method: 'POST', headers: [['X-Road-Client', CLIENT], ['X-Road-Id', id]], body: 'stamped' });
    expect(res.status).toBe(200);
    if (providerRecord(id).stamped) return id;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('the synchronously stamped service never came back stamped');
}

beforeAll(async () => {
  n = await startTestNetwork({ timestampingIntervalSeconds: 3600, extraServices: { [SYNC]: 'echo' } });
  await n.central.admin.call('PATCH', `/services/${SYNC}`, { timestampSynchronously: true });
  stampedId = await stampedExchange();
  for (const id of PENDING_IDS) {
    const res = await call(`${n.serviceUrl}/echo/${id}`, { method: 'POST', headers: [['X-Road-Client', CLIENT], ['X-Road-Id', id]], body: id });
    expect(res.status).toBe(200);
  }
  await new Promise((r) => setTimeout(r, 300)); // let the message log commit
  stampedOnly = join(n.central.stateDir, 'stamped-only.zip');
  withPending = join(n.central.stateDir, 'with-pending.zip');
  for (const [key, file, extra] of [['stampedOnly', stampedOnly, []], ['withPending', withPending, ['--include-pending']]] as const) {
    const res = await camdx(['log', 'export', '--config', n.provider.config, '--out', file, ...extra]);
    expect(res.code, res.stderr).toBe(0);
    exported[key] = res.stdout;
  }
}, 120_000);
afterAll(() => n?.close());

const contents = (file: string | Buffer) => {
  const files = unzipSync(Buffer.isBuffer(file) ? file : readFileSync(file));
  const records = strFromU8(files['records.jsonl']!).split('\n').filter(Boolean).map((l) => JSON.parse(l) as ArchivedRecord);
  return { files, records, manifest: JSON.parse(strFromU8(files['META-INF/manifest.json']!)) as ArchiveManifest };
};
const root = () => [n.central.pki.pki.root];
const nameOf = (r: ArchivedRecord) => `${r.messageId} (${r.side}, record ${r.id})`;

describe('log export right after traffic', () => {
  it('writes only fully stamped records by default, and says how many it left out as pending', async () => {
    const { records, manifest } = contents(stampedOnly);
    const ids = records.map((r) => r.messageId);
    expect(ids).toContain(stampedId);
    for (const id of PENDING_IDS) expect(ids).not.toContain(id);
    expect(manifest.pending).toBeUndefined();
    const leftOut = Number(/; (\d+) records left out as pending \(not yet timestamped; --include-pending adds them\)$/m.exec(exported.stampedOnly)?.[1]);
    expect(leftOut).toBeGreaterThanOrEqual(PENDING_IDS.length);
    expect(await verifyArchive(readFileSync(stampedOnly), { trustedRoots: root() })).toMatchObject({ failures: [], pending: [] });
  });

  it('with --include-pending, lists the rest as pending in the manifest and does not mark them archived', () => {
    const { records, manifest } = contents(withPending);
    const pendingRecords = records.filter((r) => manifest.pending?.includes(r.id));
    expect(pendingRecords.map((r) => r.messageId)).toEqual(expect.arrayContaining(PENDING_IDS));
    expect(pendingRecords.map((r) => r.messageId)).not.toContain(stampedId);
    expect(exported.withPending).toMatch(new RegExp(`; ${manifest.pending!.length} pending records included \\(not yet timestamped, so not marked archived\\)$`, 'm'));
    for (const id of PENDING_IDS) expect(providerRecord(id)).toEqual({ stamped: false, archived: false });
    expect(providerRecord(stampedId)).toEqual({ stamped: true, archived: true });
  });

  it('verify reports the pending records as pending, not failed, and exits 0', async () => {
    const { manifest, records } = contents(withPending);
    const res = await camdx(['verify', withPending, '--trust', n.central.pki.pki.layout.caCert('root-ca')]);
    expect(res.code, res.stdout.slice(-600)).toBe(0);
    for (const r of records.filter((x) => PENDING_IDS.includes(x.messageId))) expect(res.stdout).toContain(`PENDING ${nameOf(r)}: not yet timestamped\n`);
    expect(res.stdout).not.toMatch(/^FAIL/m);
    expect(res.stdout).toMatch(new RegExp(`^OK: ${records.length} records, ${2 * records.length} signed messages, [1-9]\\d* timestamps checked; ${manifest.pending!.length} pending \\(not yet timestamped\\); 0 records failed$`, 'm'));
  });
});

describe('a pending mark excuses only the missing timestamp', () => {
  /** The with-pending archive after `change`, re-zipped. */
  function edited(change: (files: Record<string, Uint8Array>, records: ArchivedRecord[], manifest: { pending?: number[] }) => void): Buffer {
    const { files, records, manifest } = contents(withPending);
    const mutable = { ...manifest, pending: [...(manifest.pending ?? [])] };
    change(files, records, mutable);
    files['records.jsonl'] = strToU8(records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    files['META-INF/manifest.json'] = strToU8(JSON.stringify(mutable));
    return Buffer.from(zipSync(files));
  }
  const find = (records: ArchivedRecord[], id: string) => records.find((r) => r.messageId === id)!;

  it('a pending record changed by one byte fails', async () => {
    let name = '';
    const file = edited((_files, records) => {
      const r = find(records, 'pending-2') as { request: { manifest: string } } & ArchivedRecord;
      const m = r.request.manifest;
      r.request.manifest = m.slice(0, 10) + (m[10] === 'A' ? 'B' : 'A') + m.slice(11);
      name = nameOf(r);
    });
    const report = await verifyArchive(file, { trustedRoots: root() });
    expect(report.failures.map((f) => f.record)).toEqual([name]);
    expect(report.pending.map((p) => p.record)).not.toContain(name);
  });

  it('an unstamped record the manifest does not list as pending fails', async () => {
    let name = '';
    const file = edited((_files, records, manifest) => {
      const r = find(records, 'pending-1');
      manifest.pending = manifest.pending!.filter((id) => id !== r.id);
      name = nameOf(r);
    });
    const report = await verifyArchive(file, { trustedRoots: root() });
    expect(report.failures).toEqual([{ record: name, reason: 'request signature is not timestamped, and the archive does not list the record as pending' }]);
  });

  it('a pending record that claims a timestamp the archive lacks fails', async () => {
    let name = '';
    const file = edited((files, records) => {
      const r = find(records, 'pending-3');
      files[`signatures/${r.response!.signature}.json`] = strToU8(JSON.stringify({ timestamp: 999_999, chain: 'AA' }));
      name = nameOf(r);
    });
    const report = await verifyArchive(file, { trustedRoots: root() });
    expect(report.failures.map((f) => f.record)).toContain(name);
    expect(report.failures.find((f) => f.record === name)!.reason).toMatch(/timestamp/);
  });

  it("cannot tell a withheld timestamp from one not yet made: a stamped record stripped of its token and marked pending is reported pending, never OK as stamped", async () => {
    let name = '';
    const file = edited((files, records, manifest) => {
      const r = find(records, stampedId);
      for (const p of [r.request!, r.response!]) files[`signatures/${p.signature}.json`] = strToU8(JSON.stringify({ timestamp: null, chain: null }));
      manifest.pending!.push(r.id);
      name = nameOf(r);
    });
    const report = await verifyArchive(file, { trustedRoots: root() });
    expect(report.failures).toEqual([]);
    expect(report.pending.map((p) => p.record)).toContain(name);
  });

  it("fails every record of another network's archive, pending or not", requireTool('openssl'), async () => {
    const { execFileSync } = await import('node:child_process');
    const { X509Certificate } = await import('node:crypto');
    const other = execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', '/dev/null', '-subj', '/CN=someone else', '-days', '1']);
    const report = await verifyArchive(readFileSync(withPending), { trustedRoots: [new X509Certificate(other)] });
    expect(report.pending).toEqual([]);
    expect(report.failures.length).toBe(report.records);
  });

  it("names the archive failed when it is not the expected server's", async () => {
    const report = await verifyArchive(readFileSync(withPending), { trustedRoots: root(), server: 'CAMDX/COM/DEMOBANK/SS1' });
    expect(report.failures).toEqual([{ record: 'archive', reason: 'it says it is the message log of CAMDX/GOV/MOI/SS1, not of CAMDX/COM/DEMOBANK/SS1' }]);
  });
});
