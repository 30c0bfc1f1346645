import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/log.js';
import { encodeManifest, manifestLeaf, newSalt, type Manifest } from '../../gateway/message/format.js';
import { ReplayGuard, VerificationError } from '../../gateway/message/verifier.js';
import { MessageLog, type ExchangeRecord } from '../../gateway/messagelog/log.js';
import { tempDir } from '../support/tmp.js';

const MINUTE = 60_000;

function guardAt(start: number) {
  const clock = { now: start };
  return { clock, guard: new ReplayGuard(10 * MINUTE, () => clock.now) };
}

const iso = (ms: number) => new Date(ms).toISOString();

describe('replay guard', () => {
  it('takes a message once and refuses it the second time, also after a restart that remembers the log', () => {
    const start = Date.parse('2026-11-25T10:00:00Z');
    const { guard } = guardAt(start);
    const leaf = randomBytes(64);
    guard.check(leaf, iso(start));
    expect(() => guard.check(leaf, iso(start))).toThrow(/already received \(replay\)/);
    guard.check(randomBytes(64), iso(start));

    const restarted = guardAt(start + MINUTE).guard;
    restarted.remember(leaf.toString('hex'), start);
    const err = (() => {
      try {
        restarted.check(leaf, iso(start));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(VerificationError);
    expect((err as VerificationError).code).toBe('InvalidSignatureValue');
  });

  it('refuses messages signed outside the window, before or after now', () => {
    const start = Date.parse('2026-11-25T10:00:00Z');
    const { guard } = guardAt(start);
    expect(() => guard.check(randomBytes(64), iso(start - 11 * MINUTE))).toThrow(/outside the accepted window of 10 minutes/);
    expect(() => guard.check(randomBytes(64), iso(start + 11 * MINUTE))).toThrow(/ahead of this server's clock/);
    expect(guard.size).toBe(0);
  });

  it('refuses a message signed more than 60 s ahead of its clock, and takes one within the skew', () => {
    const start = Date.parse('2026-11-25T10:00:00Z');
    const { guard } = guardAt(start);
    expect(() => guard.check(randomBytes(64), iso(start + 10 * MINUTE))).toThrow(/signed at .* more than 60 s ahead of this server's clock/);
    expect(() => guard.check(randomBytes(64), iso(start + 61_000))).toThrow(VerificationError);
    guard.check(randomBytes(64), iso(start + 60_000));
    expect(() => guard.check(randomBytes(64), 'not a time')).toThrow(/no valid signing time/);
    expect(guard.size).toBe(1);
  });

  it('forgets what the window already refuses, so memory follows the traffic of one window', () => {
    const start = Date.parse('2026-11-25T10:00:00Z');
    const { clock, guard } = guardAt(start);
    const first = randomBytes(64);
    guard.check(first, iso(start));
    for (let i = 1; i <= 600; i++) {
      clock.now = start + i * 1000;
      guard.check(randomBytes(64), iso(clock.now));
    }
    // Ten minutes in, every message is still within the window and remembered.
    expect(guard.size).toBe(601);
    expect(() => guard.check(first, iso(start))).toThrow(/replay/);
    for (let i = 601; i <= 1200; i++) {
      clock.now = start + i * 1000;
      guard.check(randomBytes(64), iso(clock.now));
    }
    // Twenty minutes in: only the last window's messages are left; the first is refused by the window.
    expect(guard.size).toBeLessThanOrEqual(601);
    expect(guard.size).toBeGreaterThanOrEqual(600);
    expect(() => guard.check(first, iso(start))).toThrow(/outside the accepted window/);
  });
});

describe('replay guard across a restart (the message log remembers)', () => {
  const dirs: Array<ReturnType<typeof tempDir>> = [];
  afterEach(() => dirs.splice(0).forEach((d) => d.cleanup()));

  /** A provider-side record of a request signed at `signedAt` that arrived at `arrivedAt`. */
  function received(signedAt: number, arrivedAt: number): { record: ExchangeRecord; leaf: Buffer } {
    const manifest: Manifest = {
      v: 1,
      type: 'request',
      id: `id-${randomBytes(4).toString('hex')}`,
      requestId: `rq-${randomBytes(4).toString('hex')}`,
      client: 'CAMDX/COM/DEMOBANK/ONBOARDING',
      service: 'CAMDX/GOV/MOI/KYC/echo',
      signedAt: iso(signedAt),
      salt: newSalt().toString('base64'),
      headDigest: 'h',
      bodyDigest: 'b',
      bodyBytes: 0,
    };
    const encoded = encodeManifest(manifest);
    const leaf = manifestLeaf(encoded.bytes);
    const part = { manifest: encoded.text, chain: '', leaf: leaf.toString('hex'), signature: '<x/>', signatureHash: randomBytes(32).toString('hex'), batchSize: 1, signerDer: Buffer.from('signer'), ocspDer: Buffer.from('ocsp') };
    const record: ExchangeRecord = {
      messageId: manifest.id, requestId: manifest.requestId, side: 'Producer', client: manifest.client, service: manifest.service, endpoint: 'POST /echo/**', peerServer: 'CAMDX/COM/DEMOBANK/SS1',
      requestInTs: arrivedAt, requestOutTs: arrivedAt, responseInTs: arrivedAt, responseOutTs: arrivedAt, requestSize: 0, responseSize: 0, status: 200, succeeded: true,
      faultCode: null, faultString: null, request: part, response: null,
    };
    return { record, leaf };
  }

  /** What the gateway does at start: a fresh guard fed from the log. */
  function restartedGuard(database: string, now: number): ReplayGuard {
    const log = new MessageLog(database, silentLogger);
    try {
      const guard = new ReplayGuard(10 * MINUTE, () => now);
      for (const { leaf, at } of log.recentRequestLeaves(guard.windowMilliseconds, now)) guard.remember(leaf, at);
      return guard;
    } finally {
      log.close();
    }
  }

  it('refuses a future-signed replay after a restart: the leaf is kept while its window, counted from signing, is open', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const database = join(dir.path, 'messagelog.db');
    // Real time: the restart happens now, 10 min 20 s after a message signed 50 s ahead arrived.
    const now = Date.now();
    const arrived = now - 10 * MINUTE - 20_000;
    const ahead = received(arrived + 50_000, arrived);
    const onTime = received(arrived, arrived);
    const before = new ReplayGuard(10 * MINUTE, () => arrived);
    before.check(ahead.leaf, iso(arrived + 50_000));
    before.check(onTime.leaf, iso(arrived));
    const log = new MessageLog(database, silentLogger);
    await Promise.all([log.record(ahead.record), log.record(onTime.record)]);
    log.close();

    const guard = restartedGuard(database, now);
    // Its window is open for 30 s more; the copy must be refused as a replay, not taken as new.
    expect(() => guard.check(ahead.leaf, iso(arrived + 50_000))).toThrow(/already received \(replay\)/);
    // The one signed on time is past its window, forgotten, and refused by the window instead.
    expect(guard.size).toBe(1);
    expect(() => guard.check(onTime.leaf, iso(arrived))).toThrow(/outside the accepted window/);
  });
});
