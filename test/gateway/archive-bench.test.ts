import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { call } from '../support/http.js';
import { CLIENT, startTestNetwork } from '../support/network.js';
import { run } from '../support/run.js';

/**
 * Issue 17 row 2, measured (opt-in: `CAMDX_ARCHIVE_BENCH=150000 npx vitest run
 * test/gateway/archive-bench.test.ts`, a few minutes). Real exchanges through a test network,
 * stamped by its TSA, then their records copied in the provider's log (new record ids, same
 * signed manifests, so every copy verifies) up to the count asked for. `camdx log export` and
 * `camdx verify` run as the operator runs them, each in its own process, under /usr/bin/time.
 */
const RECORDS = Number(process.env.CAMDX_ARCHIVE_BENCH ?? 0);
const EXCHANGES = 400;
const PEAK_RSS_LIMIT_KB = 300 * 1024;
const bin = join(import.meta.dirname, '../../bin/camdx.js');

/** A command's output and what /usr/bin/time says about it. */
async function measured(args: string[]) {
  const res = await run('/usr/bin/time', ['-f', 'peak-rss-kb=%M wall-s=%e', process.execPath, bin, ...args]);
  const [, rss, wall] = /peak-rss-kb=(\d+) wall-s=([\d.]+)/.exec(res.stderr) ?? [];
  return { ...res, peakRssKb: Number(rss), wallSeconds: Number(wall) };
}

describe.runIf(RECORDS > 0)('an archive of a busy period (issue 17 row 2, measured)', () => {
  it(`exports ${RECORDS} records and verifies them, each command under 300 MB`, async () => {
    const n = await startTestNetwork({ timestampingIntervalSeconds: 1 });
    try {
      for (let i = 0; i < EXCHANGES; i += 16) {
        await Promise.all(Array.from({ length: 16 }, () => call(`${n.serviceUrl}/echo/x`, { method: 'POST', headers: [['X-Road-Client', CLIENT]], body: 'bench' })));
      }
      const database = join(n.provider.dir, 'messagelog.db');
      const db = new Database(database);
      try {
        const unstamped = () => (db.prepare('SELECT COUNT(*) AS n FROM signatures WHERE timestamp_id IS NULL').get() as { n: number }).n;
        for (let i = 0; i < 100 && unstamped() > 0; i++) await new Promise((r) => setTimeout(r, 200));
        expect(unstamped()).toBe(0);
        const columns = (db.prepare('SELECT name FROM pragma_table_info(?)').all('records') as Array<{ name: string }>).map((c) => c.name).filter((c) => c !== 'id' && c !== 'archived_at');
        const count = () => (db.prepare('SELECT COUNT(*) AS n FROM records').get() as { n: number }).n;
        while (count() < RECORDS) db.exec(`INSERT INTO records (${columns}) SELECT ${columns} FROM records LIMIT ${RECORDS - count()}`);
      } finally {
        db.close();
      }

      const archive = join(n.central.stateDir, 'busy.zip');
      const exported = await measured(['log', 'export', '--config', n.provider.config, '--out', archive]);
      expect(exported.code, exported.stderr).toBe(0);
      const verified = await measured(['verify', archive, '--trust', n.central.pki.pki.layout.caCert('root-ca')]);
      const summary = verified.stdout.split('\n').filter(Boolean).at(-1);
      process.stdout.write(
        `archive bench: ${RECORDS} records; export ${exported.wallSeconds} s, peak RSS ${Math.round(exported.peakRssKb / 1024)} MB, archive ${(statSync(archive).size / 2 ** 20).toFixed(1)} MiB; ` +
          `verify ${verified.wallSeconds} s, peak RSS ${Math.round(verified.peakRssKb / 1024)} MB, exit ${verified.code}: ${summary}\n` +
          `  ${exported.stdout.trim()}\n`,
      );
      expect(verified.code, verified.stdout.slice(-500)).toBe(0);
      expect(summary).toMatch(new RegExp(`^OK: ${RECORDS} records, ${2 * RECORDS} signed messages`));
      expect(exported.peakRssKb).toBeLessThan(PEAK_RSS_LIMIT_KB);
      expect(verified.peakRssKb).toBeLessThan(PEAK_RSS_LIMIT_KB);
    } finally {
      await n.close();
    }
  }, 30 * 60_000);
});
