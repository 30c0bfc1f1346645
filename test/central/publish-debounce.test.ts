import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CentralAdminClient } from '../../central/admin-client.js';
import { initCentral, startCentral, type RunningCentral } from '../../central/central.js';
import { ConfPublisher } from '../../central/globalconf/publisher.js';
import { loadSigningKey } from '../../central/globalconf/signing-key.js';
import { Registry } from '../../central/registry/registry.js';
import { centralLayout, readCentralSettings } from '../../central/settings.js';
import { parseAnchor } from '../../protocol/anchor.js';
import { verifyGlobalConf, type GlobalConf } from '../../protocol/globalconf.js';
import { capturingLogger } from '../support/pki.js';
import { tempDir } from '../support/tmp.js';

const CHANGES = 200;
/** The burst is spread over 1.5 s, inside the 2 s the issue names, one change every 7.5 ms. */
const BURST_MS = 1500;

/**
 * Makes `CHANGES` changes at evenly spaced moments over `BURST_MS`, each as soon as its moment
 * has come (a late timer catches up), so changes keep arriving while signings run.
 */
async function burst(change: (i: number) => void | Promise<unknown>): Promise<void> {
  const started = performance.now();
  const pending: Array<void | Promise<unknown>> = [];
  for (let i = 0; i < CHANGES; i++) {
    const wait = started + (i * BURST_MS) / CHANGES - performance.now();
    if (wait > 0) await sleep(wait);
    pending.push(change(i));
  }
  await Promise.all(pending);
}

const memberId = (i: number) => `CAMDX/GOV/BURST${i}`;

function verifierFor(stateDir: string) {
  const { anchor, certificates } = parseAnchor(readFileSync(centralLayout(stateDir).anchor, 'utf8'));
  return (jws: string | Uint8Array): Promise<GlobalConf> => verifyGlobalConf(typeof jws === 'string' ? Buffer.from(jws) : jws, anchor, certificates);
}

describe('configuration publisher, in process', () => {
  const tmp = tempDir();
  let registry: Registry;
  let publisher: ConfPublisher;
  let verify: ReturnType<typeof verifierFor>;
  beforeAll(async () => {
    initCentral(tmp.path);
    const layout = centralLayout(tmp.path);
    registry = new Registry(layout.database, 'CAMDX', ['GOV', 'COM', 'NGO']);
    publisher = new ConfPublisher(registry, readCentralSettings(layout.settings), loadSigningKey(layout), capturingLogger().log);
    await publisher.start();
    verify = verifierFor(tmp.path);
  });
  afterAll(() => {
    publisher.stop();
    registry.close();
    tmp.cleanup();
  });

  it('coalesces 200 registry changes within 2 s into at most 4 new versions, the last change included', async () => {
    const before = publisher.current.version;
    await burst((i) => void registry.members.add('test', { instance: 'CAMDX', memberClass: 'GOV', memberCode: `BURST${i}` }, `Burst ${i}`));
    await publisher.settled();
    const conf = await verify(publisher.current.jws);
    expect(publisher.current.version - before).toBeLessThanOrEqual(4);
    expect(conf.version).toBe(publisher.current.version);
    expect(conf.members.map((m) => m.id)).toContain(memberId(CHANGES - 1));
    expect(conf.members.filter((m) => m.id.startsWith('CAMDX/GOV/BURST'))).toHaveLength(CHANGES);
  });

  it('signs a lone change after a quiet second in one new version', async () => {
    await publisher.settled();
    await sleep(1100);
    const before = publisher.current.version;
    registry.members.add('test', { instance: 'CAMDX', memberClass: 'GOV', memberCode: 'LONE' }, 'Lone');
    await publisher.settled();
    expect(publisher.current.version).toBe(before + 1);
    expect((await verify(publisher.current.jws)).members.map((m) => m.id)).toContain('CAMDX/GOV/LONE');
  });

  it('signs nothing after stop, even for a change still waiting its turn', async () => {
    await publisher.settled();
    registry.members.add('test', { instance: 'CAMDX', memberClass: 'GOV', memberCode: 'FIRST' }, 'First');
    await publisher.settled();
    // Signed just now, so this change waits (for the burst to end or the second to pass), and stop comes first.
    registry.members.add('test', { instance: 'CAMDX', memberClass: 'GOV', memberCode: 'AFTER' }, 'After');
    const version = publisher.current.version;
    publisher.stop();
    await publisher.settled();
    await sleep(1100);
    expect(publisher.current.version).toBe(version);
    expect((await verify(publisher.current.jws)).members.map((m) => m.id)).not.toContain('CAMDX/GOV/AFTER');
  });
});

describe('configuration publisher, over the admin API', () => {
  const tmp = tempDir();
  let running: RunningCentral;
  let admin: CentralAdminClient;
  beforeAll(async () => {
    initCentral(tmp.path);
    running = await startCentral({ stateDir: tmp.path, host: '127.0.0.1', port: 0, log: capturingLogger().log });
    admin = new CentralAdminClient(running.consoleUrl, readFileSync(centralLayout(tmp.path).adminToken, 'utf8').trim());
  });
  afterAll(async () => {
    await running?.stop();
    tmp.cleanup();
  });

  it('answers 200 member registrations within 2 s with at most 4 new versions, each answer after its change is published', async () => {
    const verify = verifierFor(tmp.path);
    const before = running.publisher.current.version;
    const publishedOnAnswer: boolean[] = [];
    await burst(async (i) => {
      await admin.call('POST', '/members', { id: memberId(i), name: `Burst ${i}` });
      // The admin API answers a write only once a configuration carrying it is served.
      const conf = await verify(running.publisher.current.jws);
      publishedOnAnswer[i] = conf.members.some((m) => m.id === memberId(i));
    });
    const res = await fetch(`${running.url}/globalconf`);
    const conf = await verify(Buffer.from(await res.arrayBuffer()));
    expect(conf.version - before).toBeLessThanOrEqual(4);
    expect(conf.members.map((m) => m.id)).toContain(memberId(CHANGES - 1));
    expect(publishedOnAnswer.filter(Boolean)).toHaveLength(CHANGES);
  });
});
