import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../../../common/console/passwords.js';
import { SessionStore, IDLE_MS, ABSOLUTE_MS } from '../../../common/console/sessions.js';
import { LoginLimiter } from '../../../common/console/login-limit.js';
import { hostName, isLoopbackHost } from '../../../common/console/host-check.js';
import { sessionCookie } from '../../../common/console/cookies.js';

const cheap = { N: 16, r: 8, p: 1 };

describe('console core', () => {
  it('verifies a scrypt hash and rejects a wrong password', async () => {
    const stored = await hashPassword('s3cret', cheap);
    expect(stored.startsWith('scrypt$16$8$1$')).toBe(true);
    expect(await verifyPassword('s3cret', stored)).toBe(true);
    expect(await verifyPassword('s3creT', stored)).toBe(false);
  });

  it('stores only the hash of the session id and ends sessions idle 30 min or after 8 h', () => {
    let now = 1_000_000;
    const db = new Database(':memory:');
    const store = new SessionStore(db, () => now);
    const { id } = store.create('alice', 'administrator');
    const rows = db.prepare('SELECT id_hash FROM console_sessions').all() as { id_hash: string }[];
    expect(rows.map((r) => r.id_hash)).not.toContain(id);
    now += IDLE_MS - 1;
    expect(store.touch(id).ok).toBe(true);
    now += IDLE_MS;
    expect(store.touch(id)).toEqual({ ok: false, reason: 'idle' });
    const second = store.create('alice', 'administrator').id;
    const secondStart = now;
    for (let t = 0; t < 16; t++) { now += ABSOLUTE_MS / 17; expect(store.touch(second).ok).toBe(true); }
    now = secondStart + ABSOLUTE_MS;
    expect(store.touch(second)).toEqual({ ok: false, reason: 'absolute' });
    const third = store.create('alice', 'administrator').id;
    expect(store.endAllFor('alice')).toBe(1);
    expect(store.touch(third).ok).toBe(false);
  });

  it('refuses the 6th failure within a minute per name and per address', () => {
    let now = 0;
    const limiter = new LoginLimiter(() => now);
    for (let i = 0; i < 5; i++) { expect(limiter.retryAfter('bob', `10.0.0.${i}`)).toBe(0); limiter.recordFailure('bob', `10.0.0.${i}`); }
    expect(limiter.retryAfter('bob', '10.0.0.99')).toBeGreaterThan(0);
    expect(limiter.retryAfter('carol', '10.0.0.99')).toBe(0);
    for (let i = 0; i < 5; i++) limiter.recordFailure(`u${i}`, '10.9.9.9');
    expect(limiter.retryAfter('dave', '10.9.9.9')).toBeGreaterThan(0);
    now += 60_001;
    expect(limiter.retryAfter('bob', '10.9.9.9')).toBe(0);
  });

  it('knows loopback hosts with ports and sets the cookie attributes', () => {
    expect(['127.0.0.1:4010', '[::1]:4010', 'localhost', '127.5.6.7'].map(hostName).every(isLoopbackHost)).toBe(true);
    expect(isLoopbackHost(hostName('evil.example:4010'))).toBe(false);
    expect(sessionCookie('abc')).toBe('camdx_session=abc; HttpOnly; SameSite=Strict; Path=/');
  });
});
