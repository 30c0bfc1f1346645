import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SpoolDirectory } from '../../gateway/transport/spool.js';

async function roundTrip(limit: number, chunks: Buffer[]) {
  const dir = new SpoolDirectory(`test-${process.pid}-${limit}`);
  const spool = dir.spool(limit);
  await pipeline(Readable.from(chunks), spool);
  const onDisk = dir.files().map((f) => readFileSync(join(dir.path, f)));
  const out: Buffer[] = [];
  await pipeline(spool.reader(), new Writable({ write: (c: Buffer, _e, done) => (out.push(c), done()) }));
  await spool.dispose();
  return { data: Buffer.concat(out), onDisk, spool, left: dir.files() };
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

  it('clears leftovers of an earlier run at start', async () => {
    const first = new SpoolDirectory('restart-test');
    const spool = first.spool(0);
    await pipeline(Readable.from([randomBytes(100)]), spool);
    expect(first.files()).toHaveLength(1);
    const second = new SpoolDirectory('restart-test');
    expect(second.files()).toHaveLength(0);
  });
});
