import { Agent, request } from 'node:http';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { CLIENT, startTestNetwork, type TestNetwork } from '../test/support/network.js';
import { run } from '../test/support/run.js';

/**
 * Issue 17 row 2, measured: `npm run bench:archive` (RECORDS=150000 by default, about ten
 * minutes on 2 cores; `CAMDX_ARCHIVE_BENCH=N` for another count). Every record is a real
 * exchange through a test network — its own X-Road-Id, its own signed request and response,
 * stamped by the network's TSA — so the archive holds two signature documents per record and
 * crosses Zip64's 65,535 entries. `camdx log export` and `camdx verify` then run as the operator
 * runs them, each in its own process under /usr/bin/time. Not part of `npm test`
 * (vitest.config.ts includes test/ only); bench/vitest.config.ts runs this file.
 */
const RECORDS = Number(process.env.CAMDX_ARCHIVE_BENCH ?? 150_000);
const CONCURRENCY = Number(process.env.CAMDX_ARCHIVE_BENCH_CONNECTIONS ?? 8);
const LOAD_DEADLINE_MS = 25 * 60_000;
const PEAK_RSS_LIMIT_KB = 300 * 1024;
const bin = join(import.meta.dirname, '../bin/camdx.js');

/** A command's output and what /usr/bin/time says about it. */
async function measured(args: string[]) {
  const res = await run('/usr/bin/time', ['-f', 'peak-rss-kb=%M wall-s=%e', process.execPath, bin, ...args]);
  const [, rss, wall] = /peak-rss-kb=(\d+) wall-s=([\d.]+)/.exec(res.stderr) ?? [];
  return { ...res, peakRssKb: Number(rss), wallSeconds: Number(wall) };
}

/** Sends `count` exchanges, CONCURRENCY at a time over keep-alive connections; returns how many answered 200. */
async function load(n: TestNetwork, count: number): Promise<{ ok: number; seconds: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const url = new URL(`${n.serviceUrl}/echo/bench`);
  const started = Date.now();
  let sent = 0;
  let ok = 0;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const req = request(url, { method: 'POST', agent, headers: { 'X-Road-Client': CLIENT, 'Content-Type': 'text/plain' } }, (res) => {
        if (res.statusCode === 200) ok++;
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end('bench');
    });
  const worker = async () => {
    while (sent < count && Date.now() - started < LOAD_DEADLINE_MS) {
      sent++;
      await one();
      // The echo service keeps every call it saw; a bench of this size would hold them all.
      if (n.echo.calls.length > 1000) n.echo.calls.length = 0;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  agent.destroy();
  return { ok, seconds: (Date.now() - started) / 1000 };
}

/** Waits until every signature in a message log has its timestamp. */
async function untilStamped(database: string): Promise<void> {
  const db = new Database(database, { readonly: true });
  try {
    const unstamped = () => (db.prepare('SELECT COUNT(*) AS n FROM signatures WHERE timestamp_id IS NULL').get() as { n: number }).n;
    for (let i = 0; i < 600 && unstamped() > 0; i++) await new Promise((r) => setTimeout(r, 500));
    expect(unstamped(), 'signatures still unstamped after 5 min').toBe(0);
  } finally {
    db.close();
  }
}

describe('an archive of a busy period (issue 17 row 2, measured)', () => {
  it(
    `exports ${RECORDS} records of real exchanges and verifies them, the export under 300 MB`,
    async () => {
      const n = await startTestNetwork({ timestampingIntervalSeconds: 1 });
      try {
        const loaded = await load(n, RECORDS);
        expect(loaded.ok, `only ${loaded.ok} of ${RECORDS} exchanges answered 200 within the deadline`).toBe(RECORDS);
        await untilStamped(join(n.provider.dir, 'messagelog.db'));

        const archive = join(n.central.stateDir, 'busy.zip');
        const exported = await measured(['log', 'export', '--config', n.provider.config, '--out', archive]);
        expect(exported.code, exported.stderr).toBe(0);
        const entries = (await run('unzip', ['-Z1', archive])).stdout.split('\n').filter(Boolean).length;
        const verified = await measured(['verify', archive, '--trust', n.central.pki.pki.layout.caCert('root-ca')]);
        const summary = verified.stdout.split('\n').filter(Boolean).at(-1);
        process.stdout.write(
          `archive bench: ${RECORDS} exchanges in ${loaded.seconds.toFixed(0)} s (${(RECORDS / loaded.seconds).toFixed(0)}/s, ${CONCURRENCY} connections)\n` +
            `  export ${exported.wallSeconds} s, peak RSS ${Math.round(exported.peakRssKb / 1024)} MB; archive ${(statSync(archive).size / 2 ** 20).toFixed(1)} MiB, ${entries} zip entries\n` +
            `  verify ${verified.wallSeconds} s, peak RSS ${Math.round(verified.peakRssKb / 1024)} MB, exit ${verified.code}: ${summary}\n`,
        );
        expect(entries).toBeGreaterThan(65_535);
        expect(verified.code, verified.stdout.slice(-500)).toBe(0);
        expect(summary).toMatch(new RegExp(`^OK: ${RECORDS} records, ${2 * RECORDS} signed messages`));
        expect(exported.peakRssKb).toBeLessThan(PEAK_RSS_LIMIT_KB);
      } finally {
        await n.close();
      }
    },
    60 * 60_000,
  );
});
