import { randomInt } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Ports handed out before the service that will bind them has started. They are drawn below
 * Linux's ephemeral range (32768 and up), where an outgoing connection of any process could take
 * a port between the pick and the bind, and each is claimed with a lock file that processes of
 * this project (test files running side by side, bench networks) respect until the claimant exits.
 */
const LOWEST = 20_000;
const HIGHEST = 32_767;
// One directory per user: another user's locks can be neither taken over nor removed (a sticky
// tmpdir), and their services are still kept off by the bind check in freePort.
export const LOCK_DIR = join(tmpdir(), `camdx-ports-${process.getuid?.() ?? 'user'}`);
const held = new Set<string>();
process.once('exit', () => held.forEach((f) => rmSync(f, { force: true })));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Claims `port` for this process; false if a live process holds it. A dead claimant's lock is taken over. */
export function claimPort(port: number): boolean {
  mkdirSync(LOCK_DIR, { recursive: true, mode: 0o700 });
  const file = join(LOCK_DIR, `${port}.lock`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      held.add(file);
      return true;
    } catch {
      let owner: number;
      try {
        owner = Number(readFileSync(file, 'utf8'));
      } catch {
        continue; // released meanwhile
      }
      if (owner === process.pid || alive(owner)) return false;
      try {
        rmSync(file, { force: true });
      } catch {
        return false; // not ours to remove: leave the port alone
      }
    }
  }
  return false;
}

export function releasePort(port: number): void {
  const file = join(LOCK_DIR, `${port}.lock`);
  if (held.delete(file)) rmSync(file, { force: true });
}

/** Whether nothing listens on `port` right now. */
export function portFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

/** A port that is free and claimed by this process, for a service whose URL must be known before it starts. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const port = randomInt(LOWEST, HIGHEST + 1);
    if (!claimPort(port)) continue;
    if (await portFree(port, host)) return port;
    releasePort(port);
  }
  throw new Error(`no free port between ${LOWEST} and ${HIGHEST}`);
}
