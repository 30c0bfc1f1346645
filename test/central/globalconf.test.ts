import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { centralLayout } from '../../central/settings.js';
import { privateKeyFromPem } from '../../certs/keys.js';
import { parseAnchor } from '../../protocol/anchor.js';
import { GlobalConfError, signGlobalConf, verifyGlobalConf, type GlobalConf } from '../../protocol/globalconf.js';
import { GlobalConfClient } from '../../gateway/globalconf/client.js';
import { startTestCentral, type TestCentral } from '../support/central.js';
import { capturingLogger } from '../support/pki.js';
import { tempDir } from '../support/tmp.js';

let t: TestCentral;
beforeAll(async () => {
  t = await startTestCentral();
  await t.admin.call('POST', '/members', { id: 'CAMDX/GOV/MOI', name: 'Ministry of Interior' });
});
afterAll(() => t.close());

/** Fetches with one retry: a keep-alive socket pooled before a central restart fails once. */
async function fetchConf(url: string): Promise<Buffer> {
  const get = async () => Buffer.from(await (await fetch(`${url}/globalconf`)).arrayBuffer());
  return get().catch(get);
}
const download = () => fetchConf(t.running.url);
const trust = () => parseAnchor(t.anchor);
const verify = (bytes: Uint8Array, options = {}) => verifyGlobalConf(bytes, trust().anchor, trust().certificates, options);
async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof GlobalConfError) return err.kind;
    throw err;
  }
  return 'accepted';
}

function newClient(options: { cacheDir: string; intervalMs?: number; clock?: () => number }) {
  return new GlobalConfClient({ anchor: t.anchor, cacheDir: options.cacheDir, intervalMs: options.intervalMs ?? 60_000, log: capturingLogger().log, ...(options.clock ? { clock: options.clock } : {}) });
}

describe('signed global configuration', () => {
  it('carries the registry and verifies against the anchor', async () => {
    const conf = await verify(await download());
    expect(conf.instance).toBe('CAMDX');
    expect(conf.members.map((m) => m.id)).toContain('CAMDX/GOV/MOI');
    expect(conf.approvedCAs[0]!.name).toBe('CamDX CA');
    expect(conf.approvedTSAs[0]!.url).toBe(`${t.pki.url}/tsa`);
    expect(Date.parse(conf.expiresAt) - Date.parse(conf.generatedAt)).toBe(600_000);
    expect(conf).toMatchObject({ ocspFreshnessSeconds: 3600, timestampingIntervalSeconds: 60 });
  });

  it('rejects a one-byte change anywhere in the downloaded document', async () => {
    const bytes = await download();
    let accepted = 0;
    for (let i = 0; i < bytes.length; i++) {
      const tampered = Buffer.from(bytes);
      tampered[i] = tampered[i]! ^ 0x01;
      if ((await rejection(verify(tampered))) === 'accepted') accepted++;
    }
    expect(accepted).toBe(0);
    // Appending or dropping a byte is no better.
    expect(await rejection(verify(Buffer.concat([bytes, Buffer.from('\n')])))).not.toBe('accepted');
    expect(await rejection(verify(bytes.subarray(0, bytes.length - 1)))).not.toBe('accepted');
  }, 120_000);

  it('rejects an older, validly signed version (rollback)', async () => {
    const old = await download();
    const oldVersion = (await verify(old)).version;
    await t.admin.call('POST', '/subsystems', { id: 'CAMDX/GOV/MOI/KYC' });
    const current = await verify(await download());
    expect(current.version).toBeGreaterThan(oldVersion);
    expect(await rejection(verify(old, { minVersion: current.version }))).toBe('rollback');
  });

  it('rejects a configuration for another instance, even signed with the pinned key', async () => {
    const layout = centralLayout(t.stateDir);
    const conf = await verify(await download());
    const foreign: GlobalConf = { ...conf, instance: 'OTHER' };
    const jws = await signGlobalConf(foreign, privateKeyFromPem(readFileSync(layout.signingKey)), new X509Certificate(readFileSync(layout.signingCert)));
    expect(await rejection(verify(Buffer.from(jws)))).toBe('instance');
  });

  it('rejects a configuration signed by a key the anchor does not list', async () => {
    const other = await startTestCentral();
    try {
      const foreign = await fetchConf(other.running.url);
      expect(await rejection(verify(foreign))).toBe('signature');
    } finally {
      await other.close();
    }
  });

  it('reports an expired configuration as expired', async () => {
    const bytes = await download();
    const conf = await verify(bytes);
    expect(await rejection(verify(bytes, { now: Date.parse(conf.expiresAt) + 1 }))).toBe('expired');
  });
});

describe('gateway configuration client', () => {
  it('receives a change made through the API within one poll interval', async () => {
    const cache = tempDir();
    const client = newClient({ cacheDir: cache.path, intervalMs: 500 });
    try {
      await client.start();
      const seen = new Promise<GlobalConf>((resolve) => client.on('change', (conf: GlobalConf) => conf.members.some((m) => m.id === 'CAMDX/NGO/REDCROSS') && resolve(conf)));
      const changedAt = Date.now();
      await t.admin.call('POST', '/members', { id: 'CAMDX/NGO/REDCROSS', name: 'Cambodian Red Cross' });
      await seen;
      expect(Date.now() - changedAt).toBeLessThan(1000);
    } finally {
      client.stop();
      cache.cleanup();
    }
  });

  it('keeps its cached copy through a central outage and restart, is outdated once expired, and recovers', async () => {
    const cache = tempDir();
    let now = Date.now();
    const clock = () => now;
    const first = newClient({ cacheDir: cache.path, clock });
    try {
      await first.start();
      const version = first.status().version!;
      expect(first.outdated).toBe(false);

      await t.stop();
      await first.refresh();
      expect(first.status()).toMatchObject({ version, outdated: false });
      expect(first.status().lastError?.kind).toBe('unreachable');
      first.stop();

      // The gateway restarts while central is still down: it works from the verified cache.
      const second = newClient({ cacheDir: cache.path, clock });
      await second.start();
      expect(second.status()).toMatchObject({ version, outdated: false });
      expect(readFileSync(join(cache.path, 'globalconf.jws')).length).toBeGreaterThan(100);

      now = Date.parse(second.current!.expiresAt) + 1;
      expect(second.outdated).toBe(true);
      expect(second.status().outdated).toBe(true);

      await t.restart();
      now = Date.now();
      await second.refresh();
      expect(second.status().outdated).toBe(false);
      expect(second.status().version).toBeGreaterThan(version);
      second.stop();
    } finally {
      first.stop();
      cache.cleanup();
    }
  });

  it('refuses a tampered download and keeps the previous copy', async () => {
    const cache = tempDir();
    const client = newClient({ cacheDir: cache.path });
    try {
      await client.start();
      const version = client.status().version;
      const tampered = await download();
      tampered[tampered.length - 5] = tampered[tampered.length - 5]! ^ 0x02;
      expect(await client.accept(tampered, false)).toBe(false);
      expect(client.status().version).toBe(version);
      expect(client.status().lastError?.kind).toMatch(/signature|format/);
    } finally {
      client.stop();
      cache.cleanup();
    }
  });

  it('does not carry traffic without any configuration', async () => {
    const cache = tempDir();
    const client = new GlobalConfClient({ anchor: t.anchor.replace(t.running.url, 'http://127.0.0.1:1'), cacheDir: cache.path, log: capturingLogger().log });
    try {
      await client.start();
      expect(client.status()).toMatchObject({ version: null, outdated: true });
    } finally {
      client.stop();
      cache.cleanup();
    }
  });
});

describe('signing key rotation', () => {
  it('moves gateways to a new key through a new anchor', async () => {
    const { rotateSigningKey, refreshAnchor } = await import('../../central/central.js');
    const c = await startTestCentral();
    try {
      const oldAnchor = parseAnchor(c.anchor);
      rotateSigningKey(c.stateDir, true);
      const overlap = parseAnchor(readFileSync(centralLayout(c.stateDir).anchor, 'utf8'));
      expect(overlap.certificates).toHaveLength(2);
      // Until central restarts it still signs with the old key, which both anchors accept.
      const before = await fetchConf(c.running.url);
      await verifyGlobalConf(before, overlap.anchor, overlap.certificates);
      await c.stop();
      await c.restart();
      const after = await fetchConf(c.running.url);
      await verifyGlobalConf(after, overlap.anchor, overlap.certificates);
      expect(await rejection(verifyGlobalConf(after, oldAnchor.anchor, oldAnchor.certificates))).toBe('signature');
      refreshAnchor(c.stateDir);
      expect(parseAnchor(readFileSync(centralLayout(c.stateDir).anchor, 'utf8')).certificates).toHaveLength(1);
    } finally {
      await c.close();
    }
  });
});

describe('limits on what a gateway takes as its configuration', () => {
  const MiB = 1024 * 1024;
  /** A configuration validly signed with central's own key, padded to about `bytes`. */
  async function signedOfSize(bytes: number): Promise<Buffer> {
    const layout = centralLayout(t.stateDir);
    const conf = await verify(await download());
    // base64url grows the payload by 4/3; the padding sits in a member's name.
    const padded: GlobalConf = { ...conf, version: conf.version + 1000, members: [...conf.members, { id: 'CAMDX/GOV/BIG', name: 'x'.repeat(Math.ceil((bytes * 3) / 4)), subsystems: [] }] };
    return Buffer.from(await signGlobalConf(padded, privateKeyFromPem(readFileSync(layout.signingKey)), new X509Certificate(readFileSync(layout.signingCert))));
  }

  it('refuses a 20 MiB configuration by its size, before parsing or verifying it, though it is validly signed', async () => {
    const big = await signedOfSize(20 * MiB);
    expect(big.length).toBeGreaterThan(20 * MiB);
    await expect(verify(big)).rejects.toThrow(/the configuration is \d+ bytes, more than the 10 MiB limit/);
    expect(await rejection(verify(big))).toBe('size');
    // Not even UTF-8 is looked at: 20 MiB of invalid bytes gives the same reason, not 'format'.
    expect(await rejection(verify(Buffer.alloc(20 * MiB, 0xff)))).toBe('size');
  }, 60_000);

  it('a gateway refuses to download a 20 MiB configuration, declared or streamed, and stays without one', async () => {
    const big = await signedOfSize(20 * MiB);
    const http = await import('node:http');
    const { listen, close } = await import('../../common/http.js');
    for (const declared of [true, false]) {
      const server = http.createServer((_req, res) => {
        res.writeHead(200, declared ? { 'content-length': String(big.length) } : {});
        res.end(big);
      });
      const port = await listen(server, 0, '127.0.0.1');
      const cache = tempDir();
      const client = new GlobalConfClient({ anchor: t.anchor.replace(t.running.url, `http://127.0.0.1:${port}`), cacheDir: cache.path, log: capturingLogger().log });
      try {
        await client.refresh();
        expect(client.status()).toMatchObject({ version: null, outdated: true });
        expect(client.status().lastError).toMatchObject({ kind: 'size', message: expect.stringMatching(/more than the 10 MiB limit/) });
      } finally {
        client.stop();
        cache.cleanup();
        await close(server);
      }
    }
  }, 60_000);

  it('a gateway with no cached copy refuses a configuration older than the floor in its anchor', async () => {
    const { withVersionFloor } = await import('../../central/globalconf/signing-key.js');
    const served = await verify(await download());
    const floored = withVersionFloor(t.anchor, served.version + 1);
    expect(parseAnchor(floored).anchor.minVersion).toBe(served.version + 1);
    const cache = tempDir();
    const client = new GlobalConfClient({ anchor: floored, cacheDir: cache.path, log: capturingLogger().log });
    try {
      expect(await client.accept(await download(), false)).toBe(false);
      expect(client.status().lastError).toMatchObject({ kind: 'rollback', message: expect.stringMatching(/oldest the configuration anchor accepts/) });
      // The anchor central hands out now carries today's version: today's configuration passes, an older one does not.
      const bin = join(import.meta.dirname, '../../bin/camdx.js');
      const { run } = await import('../support/run.js');
      const printed = await run(process.execPath, [bin, '--state-dir', t.stateDir, 'central', 'anchor']);
      expect(printed.code, printed.stderr).toBe(0);
      const handedOut = parseAnchor(printed.stdout);
      const now = await verifyGlobalConf(await download(), handedOut.anchor, handedOut.certificates);
      expect(handedOut.anchor.minVersion).toBe(now.version);
      const older = await signGlobalConf({ ...now, version: now.version - 1 }, privateKeyFromPem(readFileSync(centralLayout(t.stateDir).signingKey)), new X509Certificate(readFileSync(centralLayout(t.stateDir).signingCert)));
      expect(await rejection(verifyGlobalConf(Buffer.from(older), handedOut.anchor, handedOut.certificates))).toBe('rollback');
    } finally {
      client.stop();
      cache.cleanup();
    }
  });
});
