import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { strFromU8, unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../../gateway/config.js';
import type { ArchiveManifest, ArchivedRecord } from '../../gateway/messagelog/archive/layout.js';
import { sampleUserInfo } from '../../sim/examples.js';
import { clientOf, KYC_SERVICE, MEMBERS } from '../../sim/topology.js';
import { readmeCommand } from '../support/readme.js';
import { run } from '../support/run.js';
import { freePortOffset, startSim, type RunningSim } from '../support/sim.js';
import { tempDir } from '../support/tmp.js';

const BIN = join(import.meta.dirname, '../../bin/camdx.js');
/** The README's simulation commands: stamped records only, pending ones too, and verify. */
const EXPORT_STAMPED = readmeCommand(/^npx camdx log export --member MOI --out \S+\.zip$/);
const EXPORT_PENDING = readmeCommand(/^npx camdx log export --member MOI --include-pending --out \S+\.zip$/);
const VERIFY = readmeCommand(/^npx camdx verify \S+\.zip --member MOI$/);
const outOf = (line: string) => /--out (\S+)/.exec(line)![1]!;
const verifyOf = (archive: string) => VERIFY.replace(/verify \S+\.zip/, `verify ${archive}`);

let dir: { path: string; cleanup(): void };
let stateDir: string;
let sim: RunningSim;

beforeAll(async () => {
  dir = tempDir();
  stateDir = join(dir.path, 'var');
  sim = await startSim(stateDir, await freePortOffset());
}, 120_000);
afterAll(async () => {
  await sim?.stop();
  dir?.cleanup();
});

/** A README line as a person runs it in the project directory, with the network's state directory exported. */
const shell = (line: string, env: NodeJS.ProcessEnv = { CAMDX_STATE_DIR: stateDir }) =>
  run('bash', ['-c', line.replace(/\bnpx camdx\b/g, `${process.execPath} ${BIN}`)], { cwd: dir.path, env: { ...process.env, ...env } });

function archive(file: string) {
  const files = unzipSync(readFileSync(join(dir.path, file)));
  const records = strFromU8(files['records.jsonl']!).split('\n').filter(Boolean).map((l) => JSON.parse(l) as ArchivedRecord);
  return { records, manifest: JSON.parse(strFromU8(files['META-INF/manifest.json']!)) as ArchiveManifest };
}

/** Demo Bank asks MOI's KYC service, as the banner's example does; the X-Road-Ids of the exchanges. */
async function traffic(count: number): Promise<string[]> {
  const demobank = MEMBERS.find((m) => m.key === 'demobank')!;
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const res = await fetch(`${sim.url('DEMOBANK gateway')}/r1/${KYC_SERVICE}/api/2.0/kyc/info`, {
      method: 'POST',
      headers: { 'x-road-client': clientOf(demobank), 'content-type': 'application/json' },
      body: JSON.stringify(sampleUserInfo()),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    ids.push(res.headers.get('x-road-id')!);
  }
  return ids;
}

/** MOI's message log, read without disturbing the gateway. */
function inMoiLog<T>(read: (db: Database.Database) => T): T {
  const config = loadGatewayConfig(join(stateDir, 'sim', 'moi', 'gateway.yaml'));
  const db = new Database(join(config.stateDir, 'messagelog.db'), { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

/** Whether an export marked MOI's records of these exchanges archived. */
const archivedInMoi = (ids: readonly string[]) =>
  inMoiLog((db) => ids.map((id) => (db.prepare('SELECT archived_at FROM records WHERE message_id = ?').get(id) as { archived_at: number | null }).archived_at !== null));

/**
 * Returns just after MOI's gateway has stamped a batch, so the next calls have nearly a whole
 * timestampingIntervalSeconds before theirs: one call, then wait until its record is stamped.
 */
async function justAfterABatch(): Promise<void> {
  const [probe] = await traffic(1);
  const stamped = () =>
    inMoiLog((db) => {
      const row = db.prepare(`SELECT a.timestamp_id AS req, b.timestamp_id AS res FROM records r JOIN signatures a ON a.hash = r.request_signature
                              JOIN signatures b ON b.hash = r.response_signature WHERE r.message_id = ?`).get(probe) as { req: number | null; res: number | null } | undefined;
      return row !== undefined && row.req !== null && row.res !== null;
    });
  for (const end = Date.now() + 90_000; !stamped(); await new Promise((r) => setTimeout(r, 100))) if (Date.now() > end) throw new Error('MOI stamped no batch in 90 s');
}

let ids: string[] = [];

describe('log export and verify in the simulation, by member', () => {
  it('right after traffic: stamped records only by default; with --include-pending, verify names them pending, exits 0', async () => {
    // Batches are stamped every timestampingIntervalSeconds: start just after one, and should the
    // next still fall between the calls and the exports, try again.
    let stamped: ReturnType<typeof archive> | undefined;
    let pending: ReturnType<typeof archive> | undefined;
    let outputs: string[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      await justAfterABatch();
      ids = await traffic(3);
      outputs = [];
      for (const line of [EXPORT_STAMPED, EXPORT_PENDING]) {
        const res = await shell(line);
        expect(res.code, res.stderr).toBe(0);
        outputs.push(res.stdout);
      }
      stamped = archive(outOf(EXPORT_STAMPED));
      pending = archive(outOf(EXPORT_PENDING));
      const listed = new Set(pending.records.filter((r) => pending!.manifest.pending?.includes(r.id)).map((r) => r.messageId));
      if (ids.every((id) => listed.has(id))) break;
    }
    const inStamped = new Set(stamped!.records.map((r) => r.messageId));
    const pendingIds = new Set(pending!.manifest.pending ?? []);
    for (const id of ids) {
      expect(inStamped.has(id), `${id} left out of the default export`).toBe(false);
      expect(pending!.records.some((r) => r.messageId === id && pendingIds.has(r.id)), `${id} pending in the --include-pending export`).toBe(true);
    }
    expect(stamped!.manifest.pending).toBeUndefined();
    expect(outputs[0]).toMatch(/; ([1-9]\d*) records left out as pending \(not yet timestamped; --include-pending adds them\)$/m);
    const N = pendingIds.size;
    expect(outputs[1]).toMatch(new RegExp(`; ${N} pending records included \\(not yet timestamped, so not marked archived\\)$`, 'm'));
    // Not complete proof yet: retention must not be able to remove them.
    expect(archivedInMoi(ids)).toEqual(ids.map(() => false));

    const verified = await shell(verifyOf(outOf(EXPORT_PENDING)));
    expect(verified.code, verified.stdout.slice(-800) + verified.stderr).toBe(0);
    for (const id of ids) expect(verified.stdout).toMatch(new RegExp(`^PENDING ${id} \\(Producer, record \\d+\\): not yet timestamped$`, 'm'));
    expect(verified.stdout).toMatch(new RegExp(`^OK: \\d+ records, .*; ${N} pending \\(not yet timestamped\\); 0 records failed$`, 'm'));
    expect(verified.stdout).not.toMatch(/^FAIL/m);
  }, 120_000);

  it('once the batch is stamped, the default export holds those records and verify says OK, none pending', async () => {
    // The sim stamps every timestampingIntervalSeconds (central's setting): wait for one batch.
    let stamped: ReturnType<typeof archive> | undefined;
    for (const end = Date.now() + 100_000; Date.now() < end; await new Promise((r) => setTimeout(r, 3000))) {
      const res = await shell(EXPORT_STAMPED);
      expect(res.code, res.stderr).toBe(0);
      stamped = archive(outOf(EXPORT_STAMPED));
      if (ids.every((id) => stamped!.records.some((r) => r.messageId === id))) break;
    }
    expect(stamped!.records.map((r) => r.messageId)).toEqual(expect.arrayContaining(ids));
    expect(archivedInMoi(ids)).toEqual(ids.map(() => true));
    const verified = await shell(verifyOf(outOf(EXPORT_STAMPED)));
    expect(verified.code, verified.stdout.slice(-800)).toBe(0);
    expect(verified.stdout).toMatch(/^OK: \d+ records, .*; 0 pending \(not yet timestamped\); 0 records failed$/m);
    expect(verified.stdout).not.toMatch(/^PENDING/m);
  }, 130_000);

  it("verify --member refuses another member's archive", async () => {
    const res = await shell(verifyOf(outOf(EXPORT_STAMPED)).replace('--member MOI', '--member CAMDX/GOV/MOC'));
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/^FAIL {2}archive: it says it is the message log of CAMDX\/GOV\/MOI\/SS1, not of CAMDX\/GOV\/MOC\/SS1$/m);
    expect(res.stdout).toMatch(/^FAILED: /m);
  });

  it('--member NOPE, or a state directory without the simulation, is refused naming what and where (exit 2, no stack trace)', async () => {
    for (const line of [EXPORT_PENDING, verifyOf(outOf(EXPORT_STAMPED))]) {
      const res = await shell(line.replace('--member MOI', '--member NOPE'));
      expect(res.code, res.stderr).toBe(2);
      expect(res.stderr).toBe(
        `camdx: no member 'NOPE' in the simulation in ${stateDir}: its members are DEMOBANK (CAMDX/COM/DEMOBANK), MOC (CAMDX/GOV/MOC), MOI (CAMDX/GOV/MOI), TSC (CAMDX/GOV/TSC); for another gateway pass --config its gateway.yaml\n`,
      );
      const nowhere = join(dir.path, 'no-state-here');
      const elsewhere = await shell(line, { CAMDX_STATE_DIR: nowhere });
      expect(elsewhere.code).toBe(2);
      expect(elsewhere.stderr).toContain(`no gateway configuration for MOI at ${join(nowhere, 'sim', 'moi', 'gateway.yaml')}: the state directory ${nowhere} holds no simulation`);
      expect(elsewhere.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(nowhere)).toBe(false);
    }
  });
});
