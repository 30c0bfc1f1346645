import { randomBytes } from 'node:crypto';
import { PassThrough, Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SaltedDigest } from '../../gateway/message/format.js';
import { BodyTooLarge, carry } from '../../gateway/transport/carry.js';

const salt = Buffer.alloc(16, 7);
const expected = (data: Buffer) => {
  const d = new SaltedDigest(salt);
  d.update(data);
  return d.digest();
};

/** A sink that takes its time, so back-pressure is exercised. */
function slowSink(received: Buffer[]) {
  return new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _e, done) {
      received.push(chunk);
      setImmediate(done);
    },
  });
}

describe('carrying a body', () => {
  it('delivers every byte in order through a slow sink, with the salted digest and the count', async () => {
    const chunks = Array.from({ length: 200 }, () => randomBytes(4096));
    const received: Buffer[] = [];
    const sink = slowSink(received);
    const result = await carry(Readable.from(chunks), sink, { salt, limit: 10 * 2 ** 20, end: true });
    expect(Buffer.concat(received).equals(Buffer.concat(chunks))).toBe(true);
    expect(result).toEqual({ digest: expected(Buffer.concat(chunks)), bytes: 200 * 4096 });
    expect(sink.writableFinished).toBe(true);
  });

  it('holds a small body in a corked sink for one write, and uncorks a large one at the first back-pressure', async () => {
    const writes: number[] = [];
    const sink = () =>
      new Writable({
        highWaterMark: 16 * 1024,
        writev(chunks, done) {
          writes.push(chunks.length);
          setImmediate(done);
        },
        write(_chunk: Buffer, _e, done) {
          writes.push(1);
          setImmediate(done);
        },
      });
    const small = sink();
    small.cork();
    await carry(Readable.from([Buffer.alloc(100), Buffer.alloc(100)]), small, { salt, limit: 2 ** 20, end: false });
    expect(writes).toEqual([]);
    small.end(Buffer.from('trailer'));
    small.uncork();
    await new Promise((resolve) => small.once('finish', resolve));
    expect(writes).toEqual([3]);

    // Without the uncork this would wait for a drain that a corked sink never emits.
    const large = sink();
    large.cork();
    const body = Array.from({ length: 64 }, () => randomBytes(4096));
    const result = await carry(Readable.from(body), large, { salt, limit: 2 ** 20, end: true });
    expect(result.bytes).toBe(64 * 4096);
    expect(large.writableCorked).toBe(0);
  });

  it('leaves the sink open when asked (the signature follows as trailers)', async () => {
    const sink = new PassThrough();
    await carry(Readable.from([Buffer.from('abc')]), sink, { salt, limit: 100, end: false });
    expect(sink.writableEnded).toBe(false);
    sink.end('!');
    expect(Buffer.concat(await sink.toArray()).toString()).toBe('abc!');
  });

  it('stops at the size limit with BodyTooLarge', async () => {
    const sink = new PassThrough();
    sink.resume();
    const err = await carry(Readable.from([Buffer.alloc(60), Buffer.alloc(60)]), sink, { salt, limit: 100, end: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BodyTooLarge);
    expect((err as BodyTooLarge).limit).toBe(100);
  });

  it('fails when the sender goes away before the end', async () => {
    const source = new PassThrough();
    const sink = new PassThrough();
    sink.resume();
    const carried = carry(source, sink, { salt, limit: 100, end: false });
    source.write('partial');
    source.destroy();
    await expect(carried).rejects.toThrow('closed before the body ended');
  });

  it('fails when the receiver goes away', async () => {
    const source = new PassThrough();
    const sink = new PassThrough();
    const carried = carry(source, sink, { salt, limit: 100, end: true });
    sink.destroy(new Error('receiver reset'));
    await expect(carried).rejects.toThrow('receiver reset');
  });
});
