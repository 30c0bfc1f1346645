import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportArchive } from '../../gateway/messagelog/archive/export.js';
import { verifyArchive } from '../../gateway/messagelog/archive/verify.js';
import type { GlobalConf } from '../../protocol/globalconf.js';
import { call, errorOf } from '../support/http.js';
import { CLIENT, runGateway, SERVICE, startTestNetwork, type TestGateway, type TestNetwork } from '../support/network.js';
import { run } from '../support/run.js';
import { requireTool } from '../support/tools.js';

const INTERVAL = 2;
const SYNC = 'CAMDX/GOV/MOI/KYC/sync';
let n: TestNetwork;
beforeAll(async () => {
  n = await startTestNetwork({
    timestampingIntervalSeconds: INTERVAL,
    extraServices: { [SYNC]: 'echo' },
    providerConfig: { timestamping: { acceptableFailureSeconds: 4 } },
    consumerConfig: { timestamping: { acceptableFailureSeconds: 4 } },
  });
  // The same echo, but every message timestamped before its answer returns.
  await n.central.admin.call('PATCH', `/services/${SYNC}`, { timestampSynchronously: true });
  await new Promise((r) => setTimeout(r, 1500));
}, 120_000);
afterAll(() => n?.close());

const send = (path = '/echo/x', service = SERVICE) => call(`${n.consumer.consumerUrl}/r1/${service}${path}`, { method: 'POST', headers: [['X-Road-Client', CLIENT]], body: 'stamp me' });
const db = (g: TestGateway) => new Database(join(g.dir, 'messagelog.db'), { readonly: true });
const pkiFault = (body: Record<string, unknown>) =>
  fetch(`${n.central.pki.url}/admin/faults/tsa`, { method: 'PUT', headers: { authorization: `Bearer ${n.central.pki.pki.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
/** `sql` is a `SELECT COUNT(*) AS n …` on the gateway's message log, read without disturbing it. */
const countIn = (g: TestGateway, sql: string) => {
  const d = db(g);
  try {
    return (d.prepare(sql).get() as { n: number }).n;
  } finally {
    d.close();
  }
};
const unstamped = (g: TestGateway) => countIn(g, 'SELECT COUNT(*) AS n FROM signatures WHERE timestamp_id IS NULL');
async function waitStamped(g: TestGateway, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (unstamped(g) > 0) {
    if (Date.now() > end) throw new Error(`${unstamped(g)} signatures still unstamped`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
const conf = async (): Promise<GlobalConf> => {
  const jws = await (await fetch(`${n.central.running.url}/globalconf`)).text();
  return JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()) as GlobalConf;
};

describe('batch timestamping', () => {
  it('stamps a thousand exchanges with at most ⌈T / interval⌉ + 1 tokens, every record under exactly one', async () => {
    const started = Date.now();
    const before = { consumer: db(n.consumer), provider: db(n.provider) };
    const tokensBefore = Object.fromEntries(Object.entries(before).map(([k, d]) => [k, (d.prepare('SELECT COUNT(*) AS n FROM timestamps').get() as { n: number }).n]));
    Object.values(before).forEach((d) => d.close());
    let next = 0;
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (next < 1000) {
          next++;
          statuses.push((await send()).status);
        }
      }),
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(1000);
    await Promise.all([waitStamped(n.consumer), waitStamped(n.provider)]);
    const T = (Date.now() - started) / 1000;
    for (const g of [n.consumer, n.provider]) {
      const d = db(g);
      try {
        const tokens = (d.prepare('SELECT COUNT(*) AS n FROM timestamps').get() as { n: number }).n - tokensBefore[g === n.consumer ? 'consumer' : 'provider']!;
        expect(tokens).toBeGreaterThan(0);
        expect(tokens).toBeLessThanOrEqual(Math.ceil(T / INTERVAL) + 1);
        const orphans = d.prepare(`SELECT COUNT(*) AS n FROM records r LEFT JOIN signatures a ON a.hash = r.request_signature LEFT JOIN signatures b ON b.hash = r.response_signature
                                   WHERE r.succeeded = 1 AND (a.timestamp_id IS NULL OR b.timestamp_id IS NULL)`).get() as { n: number };
        expect(orphans.n).toBe(0);
      } finally {
        d.close();
      }
    }
  }, 180_000);

  it('produces tokens that openssl ts -verify accepts against their batch roots, over documents xmlsec1 accepts', requireTool('openssl', 'xmlsec1'), async () => {
    const dir = mkdtempSync(join(tmpdir(), 'camdx-stamps-'));
    const layout = n.central.pki.pki.layout;
    const d = db(n.provider);
    try {
      const tokens = d.prepare('SELECT id, token, root FROM timestamps').all() as Array<{ id: number; token: Buffer; root: string }>;
      for (const t of tokens) {
        const file = join(dir, `${t.id}.tst`);
        writeFileSync(file, t.token);
        const res = await run('openssl', ['ts', '-verify', '-digest', t.root, '-token_in', '-in', file, '-CAfile', layout.caCert('root-ca'), '-untrusted', layout.tsaCert, '-untrusted', layout.caCert('camdx-ca')]);
        expect(res.stdout + res.stderr, `token ${t.id}`).toContain('Verification: OK');
      }
      const docs = d.prepare('SELECT hash, xml FROM signatures').all() as Array<{ hash: string; xml: string }>;
      const files = docs.map((doc) => {
        const file = join(dir, `${doc.hash}.xml`);
        writeFileSync(file, doc.xml);
        return file;
      });
      const res = await run('xmlsec1', ['--verify', '--trusted-pem', layout.caCert('root-ca'), '--untrusted-pem', layout.caCert('camdx-ca'), '--enabled-reference-uris', 'empty', '--enabled-key-data', 'x509', ...files]);
      expect(res.code, res.stderr.slice(0, 500)).toBe(0);
      expect(res.stderr.match(/^OK$/gm)).toHaveLength(files.length);
    } finally {
      d.close();
    }
  });

  it('stamps a synchronously timestamped service before its answer returns', async () => {
    await Promise.all([waitStamped(n.consumer), waitStamped(n.provider)]);
    const res = await call(`${n.consumer.consumerUrl}/r1/${SYNC}/x`, { method: 'POST', headers: [['X-Road-Client', CLIENT], ['X-Road-Id', 'sync-stamped']], body: 'now' });
    expect(res.status).toBe(200);
    // No waiting: the batch interval has not come round, yet both gateways' documents are stamped.
    for (const g of [n.consumer, n.provider]) {
      const d = db(g);
      try {
        const row = d.prepare(`SELECT a.timestamp_id AS req, b.timestamp_id AS res FROM records r JOIN signatures a ON a.hash = r.request_signature
                               JOIN signatures b ON b.hash = r.response_signature WHERE r.message_id = 'sync-stamped'`).get() as { req: number | null; res: number | null };
        expect(row.req).not.toBeNull();
        expect(row.res).not.toBeNull();
      } finally {
        d.close();
      }
    }
  });
});

describe('archives', () => {
  let archive: string;
  beforeAll(async () => {
    await Promise.all([waitStamped(n.consumer), waitStamped(n.provider)]);
    archive = join(n.central.stateDir, 'provider-archive.zip');
    exportArchive({ database: join(n.provider.dir, 'messagelog.db'), server: 'CAMDX/GOV/MOI/SS1', conf: await conf(), from: 0, to: Date.now(), out: archive });
  });

  it('verify offline, with the root one trusts', async () => {
    const report = await verifyArchive(readFileSync(archive), { trustedRoots: [n.central.pki.pki.root] });
    expect(report.failures).toEqual([]);
    expect(report.records).toBeGreaterThanOrEqual(1000);
    expect(report.verifiedParts).toBeGreaterThanOrEqual(2000);
    // The command line does the same: export from the gateway's configuration, then verify.
    const bin = join(import.meta.dirname, '../../bin/camdx.js');
    const viaCli = join(n.central.stateDir, 'cli-archive.zip');
    const exported = await run(process.execPath, [bin, 'log', 'export', '--config', n.provider.config, '--out', viaCli]);
    expect(exported.stdout, exported.stderr).toMatch(/^wrote .*: \d+ records, \d+ signature documents, \d+ timestamps/);
    const cli = await run(process.execPath, [bin, 'verify', viaCli, '--trust', n.central.pki.pki.layout.caCert('root-ca'), '--openssl']);
    expect(cli.code, cli.stdout.slice(-500)).toBe(0);
    expect(cli.stdout).toMatch(/^OK: \d+ records/m);
    expect(cli.stdout).toMatch(/^openssl ts -verify -digest [0-9a-f]{128} -token_in -in timestamps\/\d+\.tst/m);
  });

  it('refuse a root the archive was not made under', requireTool('openssl'), async () => {
    const other = execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', '/dev/null', '-subj', '/CN=someone else', '-days', '1']);
    const { X509Certificate } = await import('node:crypto');
    const report = await verifyArchive(readFileSync(archive), { trustedRoots: [new X509Certificate(other)] });
    expect(report.failures.length).toBe(report.records);
  });

  function tampered(change: (files: Record<string, Uint8Array>) => string[]): { file: Buffer; named: string[] } {
    const files = unzipSync(readFileSync(archive));
    const named = change(files);
    return { file: Buffer.from(zipSync(files)), named };
  }

  it.each([
    ['a record’s manifest', 'manifest'],
    ['a record’s hash chain', 'chain'],
  ])('name the record when %s changes by one byte', async (_what, field) => {
    const { file, named } = tampered((files) => {
      const lines = strFromU8(files['records.jsonl']!).split('\n');
      const i = 37;
      const record = JSON.parse(lines[i]!) as { id: number; messageId: string; request: Record<string, string> };
      const value = record.request[field]!;
      const at = value.length > 10 ? 10 : 0;
      record.request[field] = value ? value.slice(0, at) + (value[at] === 'A' ? 'B' : 'A') + value.slice(at + 1) : 'L:AAAA';
      lines[i] = JSON.stringify(record);
      files['records.jsonl'] = strToU8(lines.join('\n'));
      return [`${record.messageId} (Producer, record ${record.id})`];
    });
    const report = await verifyArchive(file, { trustedRoots: [n.central.pki.pki.root] });
    expect(report.failures.map((f) => f.record)).toEqual(named);
  });

  it('name every record a changed token covers', async () => {
    const { file } = tampered((files) => {
      const token = Object.keys(files).find((f) => f.endsWith('.tst'))!;
      const bytes = files[token]!;
      bytes[bytes.length - 10]! ^= 0x01;
      return [];
    });
    const report = await verifyArchive(file, { trustedRoots: [n.central.pki.pki.root] });
    expect(report.failures.length).toBeGreaterThan(0);
    expect(report.failures.every((f) => /timestamp \d+:/.test(f.reason))).toBe(true);
  });

  it('mark exported records archived, so retention removes only those', async () => {
    const d = db(n.provider);
    const archived = (d.prepare('SELECT COUNT(*) AS n FROM records WHERE archived_at IS NOT NULL').get() as { n: number }).n;
    d.close();
    expect(archived).toBeGreaterThanOrEqual(1000);
    const { MessageLog } = await import('../../gateway/messagelog/log.js');
    const { silentLogger } = await import('../../common/log.js');
    await send();
    const log = new MessageLog(join(n.provider.dir, 'messagelog.db'), silentLogger);
    try {
      const before = log.count();
      expect(log.prune(Date.now())).toBe(archived);
      expect(log.count()).toBe(before - archived);
    } finally {
      log.close();
    }
  });
});

describe('TSA outages', () => {
  it('serve within the grace period, refuse with TimestampingFailed after it, and catch up without losing a record', async () => {
    await Promise.all([waitStamped(n.consumer), waitStamped(n.provider)]);
    const count = (g: TestGateway) => countIn(g, 'SELECT COUNT(*) AS n FROM records');
    const before = { consumer: count(n.consumer), provider: count(n.provider) };
    expect((await pkiFault({ down: true })).status).toBe(200);
    try {
      expect((await send()).status).toBe(200);
      await new Promise((r) => setTimeout(r, 5000));
      const refused = await send();
      expect(errorOf(refused).type).toMatch(/^Server\.(ClientProxy|ServerProxy)\.TimestampingFailed$/);
      const metrics = await (await fetch(`${n.consumer.adminUrl}/metrics`)).text();
      expect(Number(/camdx_gateway_timestamp_oldest_unstamped_age_seconds\{[^}]*\} ([\d.]+)/.exec(metrics)![1])).toBeGreaterThan(4);
      expect(metrics).toMatch(/camdx_gateway_tsa_failures_total\{tsa="CamDX TSA",server="CAMDX\/COM\/DEMOBANK\/SS1"\} [1-9]/);
    } finally {
      await pkiFault({ down: false });
    }
    await Promise.all([waitStamped(n.consumer), waitStamped(n.provider)]);
    expect((await send()).status).toBe(200);
    // Every record written survives: one before the limit, one refused, one after (the provider saw two).
    expect(count(n.consumer)).toBe(before.consumer + 3);
    expect(count(n.provider)).toBe(before.provider + 2);
  }, 60_000);

  it('lose nothing and stamp nothing twice when the gateway is killed in the middle of a batch', async () => {
    await Promise.all([waitStamped(n.consumer), waitStamped(n.provider)]);
    await pkiFault({ down: false, delayMs: 4000 });
    for (let i = 0; i < 20; i++) expect((await send()).status).toBe(200);
    const d0 = db(n.provider);
    const records = (d0.prepare('SELECT COUNT(*) AS n FROM records').get() as { n: number }).n;
    d0.close();
    // Wait until the provider has sent its slow TSA request, then kill it.
    await new Promise((r) => setTimeout(r, INTERVAL * 1000 + 1000));
    n.provider.child.process.kill('SIGKILL');
    await new Promise((r) => n.provider.child.process.once('exit', r));
    await pkiFault({ down: false, delayMs: 0 });
    n.provider.child = await runGateway(n.provider.config);
    await waitStamped(n.provider);
    const d = db(n.provider);
    try {
      expect((d.prepare('SELECT COUNT(*) AS n FROM records').get() as { n: number }).n).toBe(records);
      const stamps = d.prepare('SELECT SUM(batch_size) AS covered FROM timestamps').get() as { covered: number };
      const docs = d.prepare('SELECT COUNT(*) AS n FROM signatures').get() as { n: number };
      expect(stamps.covered).toBe(docs.n);
    } finally {
      d.close();
    }
  }, 60_000);
});
