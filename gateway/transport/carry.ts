import type { Readable, Writable } from 'node:stream';
import { CamdxError } from '../../protocol/errors.js';
import { SaltedDigest } from '../../protocol/message-hashes.js';

export class BodyTooLarge extends CamdxError<'BodyTooLarge'> {
  constructor(readonly limit: number) {
    super('BodyTooLarge', `the body is larger than ${limit} bytes`);
  }
}

/** The source's connection closed before its body ended: the sender left (or was cut off). */
export class SourceClosed extends CamdxError<'SourceClosed'> {
  constructor() {
    super('SourceClosed', 'the connection closed before the body ended');
  }
}

export interface Carried {
  /** Salted SHA-512 of the body, base64. */
  readonly digest: string;
  readonly bytes: number;
}

/**
 * Moves a body from `source` to `sink`, digesting it (salted SHA-512) and enforcing a size
 * limit on the way, with back-pressure. With `end`, it ends the sink and settles once the sink
 * has finished; without, it settles when the source has ended and leaves the sink open (the
 * signature still has to follow as trailers). A corked sink is uncorked at the first
 * back-pressure, so only bodies below the sink's buffer size are held for one write.
 *
 * This is what a Transform inside `stream/promises` pipeline did; done by hand it costs no
 * extra stream and no AbortController per message, which the profile showed on every request.
 */
/** How long a corked sink waits for the rest of a small body before what it holds is sent. */
const CORK_HOLD_MS = 100;
const uncork = (sink: Writable) => {
  while (sink.writableCorked) sink.uncork();
};

export function carry(source: Readable, sink: Writable, o: { salt: Buffer; limit: number; end: boolean }): Promise<Carried> {
  const digest = new SaltedDigest(o.salt);
  return new Promise((resolve, reject) => {
    let settled = false;
    // A sink corked for a small message must not hold back its head while a slow body trickles
    // in: the receiver would see no headers and cut the connection at its headers timeout.
    const release = sink.writableCorked ? setTimeout(() => uncork(sink), CORK_HOLD_MS) : undefined;
    const settle = (err?: Error | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(release);
      source.off('data', onData).off('end', onEnd).off('error', onSourceError).off('close', onSourceClose);
      sink.off('drain', onDrain).off('error', settle).off('finish', onFinish).off('close', onSinkClose);
      if (err) {
        source.pause();
        reject(err);
      } else resolve({ digest: digest.digest(), bytes: digest.bytes });
    };
    const onData = (chunk: Buffer) => {
      if (digest.bytes + chunk.length > o.limit) return settle(new BodyTooLarge(o.limit));
      digest.update(chunk);
      if (!sink.write(chunk)) {
        source.pause();
        // A sink corked to send a small body with its trailers in one write must not wait for a drain it holds back.
        while (sink.writableCorked) sink.uncork();
      }
    };
    const onDrain = () => source.resume();
    const onEnd = () => (o.end ? sink.end() : settle());
    const onFinish = () => settle();
    // A message stream fails only when its connection does (ECONNRESET 'aborted').
    const onSourceError = () => settle(new SourceClosed());
    const onSourceClose = () => {
      if (!source.readableEnded) settle(new SourceClosed());
    };
    const onSinkClose = () => {
      if (!sink.writableFinished) settle(new Error('the receiving side closed before the body was delivered'));
    };
    source.on('data', onData).on('end', onEnd).on('error', onSourceError).on('close', onSourceClose);
    sink.on('drain', onDrain).on('error', settle).on('finish', onFinish).on('close', onSinkClose);
    // A client cut off (a request timeout) while its call waited for a connection: its 'close'
    // has passed, and waiting for it would hold the pooled connection for ever.
    if (source.destroyed && !source.readableEnded) settle(new SourceClosed());
  });
}
