import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ReplayGuard, VerificationError } from '../../gateway/message/verifier.js';

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
    expect(() => guard.check(randomBytes(64), iso(start + 11 * MINUTE))).toThrow(/outside the accepted window/);
    expect(guard.size).toBe(0);
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
