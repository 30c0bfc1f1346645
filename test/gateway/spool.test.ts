import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SpoolDirectory, SpoolQuotaExceeded } from '../../gateway/transport/spool.js';

async function roundTrip(limit: number, chunks: Buffer[]) {
  const dir = new SpoolDirectory();
  const spool = dir.spool(limit);
  await pipeline(Readable.from(chunks), spool);
  const onDisk = dir.files().map((f) => readFileSync(join(dir.path, f)));
  const out: Buffer[] = [];
  await pipeline(spool.reader(), new Writable({ write: (c: Buffer, _e, done) => (out.push(c), done()) }));
  await spool.dispose();
  const left = dir.files();
  dir.close();
  return { data: Buffer.concat(out), onDisk, spool, left };
}

describe('body spool', () => {
  it('keeps small bodies in memory', async () => {
    const body = randomBytes(1000);
    const r = await roundTrip(4096, [body]);
    expect(r.data.equals(body)).toBe(true);
    expect(r.onDisk).toHaveLength(0);
  });

  it('spools large bodies encrypted, reads them back intact, and deletes the file', async () => {
    const marker = Buffer.from('PLAINTEXT-MARKER-'.repeat(100));
    const chunks = [randomBytes(3000), marker, randomBytes(70_000), marker];
    const r = await roundTrip(1024, chunks);
    expect(r.data.equals(Buffer.concat(chunks))).toBe(true);
    expect(r.onDisk).toHaveLength(1);
    expect(r.onDisk[0]!.includes(Buffer.from('PLAINTEXT-MARKER'))).toBe(false);
    expect(r.left).toHaveLength(0);
    expect(r.spool.bytes).toBe(Buffer.concat(chunks).length);
  });

  it('gathers many small chunks into megabyte records and reads them back in order', async () => {
    const chunks = Array.from({ length: 224 }, (_, i) => Buffer.alloc(16 * 1024, i)); // 3.5 MiB in TLS-record-sized pieces
    const r = await roundTrip(1024, chunks);
    expect(r.data.equals(Buffer.concat(chunks))).toBe(true);
    // 4 records (3 full, 1 partial), each with a 4-byte length and a 16-byte tag: not 224 of them.
    expect(r.onDisk[0]!.length).toBe(3.5 * 1024 * 1024 + 4 * 20);
    expect(r.left).toHaveLength(0);
  });

  it('is a fresh 0700 directory of its own under the OS temp dir, removed on close', () => {
    const a = new SpoolDirectory();
    const b = new SpoolDirectory();
    try {
      expect(a.path).not.toBe(b.path);
      expect(dirname(a.path)).toBe(tmpdir());
      expect(statSync(a.path).mode & 0o777).toBe(0o700);
    } finally {
      a.close();
      b.close();
    }
    expect(existsSync(a.path)).toBe(false);
  });

  it('clears the directories of earlier runs whose process is gone, and no one else\'s', () => {
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    const leftover = mkdtempSync(join(tmpdir(), `camdx-spool-${dead.stdout.trim()}-`));
    writeFileSync(join(leftover, 'x.spool'), randomBytes(100));
    const alive = mkdtempSync(join(tmpdir(), `camdx-spool-${process.ppid}-`));
    const dir = new SpoolDirectory();
    try {
      expect(existsSync(leftover)).toBe(false);
      expect(existsSync(alive)).toBe(true);
    } finally {
      dir.close();
      rmSync(alive, { recursive: true, force: true });
      rmSync(leftover, { recursive: true, force: true });
    }
  });

  it('refuses a chunk that would pass the quota, keeps nothing of it, and frees the room on dispose', async () => {
    const dir = new SpoolDirectory(10_000);
    try {
      const first = dir.spool(1024);
      await pipeline(Readable.from([randomBytes(6000)]), first);
      const second = dir.spool(1024);
      const refused = await pipeline(Readable.from([randomBytes(3000), randomBytes(3000)]), second).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(SpoolQuotaExceeded);
      expect((refused as Error).message).toMatch(/10000 bytes .*limits\.spoolQuotaBytes/);
      expect(dir.heldBytes).toBe(9000);
      await second.dispose();
      await first.dispose();
      expect(dir.heldBytes).toBe(0);
      expect(dir.files()).toHaveLength(0);
      const third = dir.spool(1024);
      await pipeline(Readable.from([randomBytes(9000)]), third);
      await third.dispose();
    } finally {
      dir.close();
    }
  });
});
