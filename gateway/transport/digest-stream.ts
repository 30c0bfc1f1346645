import { Transform, type TransformCallback } from 'node:stream';
import { SaltedDigest } from '../message/format.js';

export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`the body is larger than ${limit} bytes`);
  }
}

/** Passes a body through unchanged while digesting it (salted SHA-512) and enforcing a size limit. */
export class DigestingStream extends Transform {
  private readonly digest: SaltedDigest;

  constructor(
    salt: Buffer,
    private readonly limit: number,
  ) {
    super();
    this.digest = new SaltedDigest(salt);
  }

  get bytes(): number {
    return this.digest.bytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.digest.bytes + chunk.length > this.limit) return done(new BodyTooLarge(this.limit));
    this.digest.update(chunk);
    done(null, chunk);
  }

  /** Call once the stream has ended. */
  result(): { digest: string; bytes: number } {
    return { digest: this.digest.digest(), bytes: this.digest.bytes };
  }
}
