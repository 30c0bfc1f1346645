import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initPki } from '../../certs/hierarchy.js';
import { silentLogger } from '../../common/log.js';
import { call } from '../support/http.js';
import { CLIENT, startTestNetwork, type TestNetwork } from '../support/network.js';
import { run } from '../support/run.js';
import { tempDir } from '../support/tmp.js';

const bin = join(import.meta.dirname, '../../bin/camdx.js');
/** The CLI as a person runs it: no CAMDX_STATE_DIR unless the test says so. */
const camdx = (args: string[], cwd?: string) => {
  const env = { ...process.env };
  delete env.CAMDX_STATE_DIR;
  return run(process.execPath, [bin, ...args], { env, ...(cwd ? { cwd } : {}) });
};

let n: TestNetwork;
let archive: string;
const empty = tempDir();
const otherNetwork = tempDir();
const messageIds: string[] = [];

beforeAll(async () => {
  n = await startTestNetwork({ timestampingIntervalSeconds: 1 });
  for (let i = 0; i < 3; i++) {
    const res = await call(`${n.serviceUrl}/echo/${i}`, { method: 'POST', headers: [['X-Road-Client', CLIENT]], body: `trust ${i}` });
    expect(res.status).toBe(200);
    messageIds.push(String(res.headers['x-road-id']));
  }
  const unstamped = () => {
    const db = new Database(join(n.provider.dir, 'messagelog.db'), { readonly: true });
    try {
      return (db.prepare('SELECT COUNT(*) AS n FROM signatures WHERE timestamp_id IS NULL').get() as { n: number }).n;
    } finally {
      db.close();
    }
  };
  for (let i = 0; i < 100 && unstamped() > 0; i++) await new Promise((r) => setTimeout(r, 200));
  archive = join(n.central.stateDir, 'archive.zip');
  const exported = await camdx(['log', 'export', '--config', n.provider.config, '--out', archive]);
  expect(exported.code, exported.stderr).toBe(0);
  // Another network: its own PKI, hence its own root, in its own state directory.
  initPki({ stateDir: otherNetwork.path, log: silentLogger });
}, 120_000);
afterAll(async () => {
  await n?.close();
  empty.cleanup();
  otherNetwork.cleanup();
});

describe('camdx verify trusts only a root it was given or finds in the state directory', () => {
  it('writes archives readable by their owner only', () => {
    expect(statSync(archive).mode & 0o777).toBe(0o600);
  });

  it('exits 2 outside a state directory, whatever roots the archive carries', async () => {
    const byDefault = await camdx(['verify', archive], empty.path);
    expect(byDefault.code).toBe(2);
    expect(byDefault.stderr).toContain('no trust root: pass --trust ROOT.pem');
    expect(byDefault.stdout).not.toMatch(/^OK/m);
    const named = await camdx(['--state-dir', join(empty.path, 'nothing-here'), 'verify', archive]);
    expect(named.code).toBe(2);
    expect(named.stderr).toContain('no trust root: pass --trust ROOT.pem');
  });

  it("inside another network's state directory, names every record of the foreign archive as failed", async () => {
    const res = await camdx(['--state-dir', otherNetwork.path, 'verify', archive]);
    expect(res.code).toBe(1);
    const failed = res.stdout.split('\n').filter((l) => l.startsWith('FAIL'));
    expect(failed.length).toBeGreaterThanOrEqual(3);
    for (const id of messageIds) expect(res.stdout).toMatch(new RegExp(`^FAIL  ${id} \\(Producer, record \\d+\\): request signer certificate does not chain to a trusted root`, 'm'));
    expect(res.stdout).toMatch(/^FAILED: /m);
  });

  it("inside the archive's own network, verifies it with the network's root", async () => {
    const res = await camdx(['--state-dir', n.central.stateDir, 'verify', archive]);
    expect(res.code, res.stdout.slice(-400)).toBe(0);
    expect(res.stdout).toMatch(/^OK: \d+ records/m);
    // …and --trust still names the root explicitly, overriding the state directory.
    const given = await camdx(['--state-dir', otherNetwork.path, 'verify', archive, '--trust', n.central.pki.pki.layout.caCert('root-ca')]);
    expect(given.code).toBe(0);
    expect(readFileSync(n.central.pki.pki.layout.caCert('root-ca'), 'utf8')).toContain('BEGIN CERTIFICATE');
  });
});
