import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { claimPort, freePort, LOCK_DIR, portFree, releasePort } from '../../common/ports.js';

describe('port claims', () => {
  it('hands out free ports below the ephemeral range, each claimed once', async () => {
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    expect(new Set(ports).size).toBe(20);
    for (const p of ports) {
      expect(p).toBeGreaterThanOrEqual(20_000);
      expect(p).toBeLessThan(32_768);
      expect(claimPort(p)).toBe(false);
    }
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(ports[0], '127.0.0.1', resolve));
    expect(await portFree(ports[0]!)).toBe(false);
    await new Promise((resolve) => server.close(resolve));
    ports.forEach(releasePort);
    expect(claimPort(ports[0]!)).toBe(true);
    releasePort(ports[0]!);
  });

  it('takes over the claim of a process that has exited, and respects a live one', () => {
    const port = 65_001; // never handed out, so no other test's claim is touched
    mkdirSync(LOCK_DIR, { recursive: true });
    releasePort(port);
    writeFileSync(join(LOCK_DIR, `${port}.lock`), '2147483646'); // no such process
    expect(claimPort(port)).toBe(true);
    releasePort(port);
    writeFileSync(join(LOCK_DIR, `${port}.lock`), String(process.ppid)); // alive: the test runner
    expect(claimPort(port)).toBe(false);
    writeFileSync(join(LOCK_DIR, `${port}.lock`), '2147483646');
    expect(claimPort(port)).toBe(true);
    releasePort(port);
  });
});
