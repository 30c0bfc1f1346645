import { createHash } from 'node:crypto';
import { derHash } from './recurring.js';

/**
 * The hashes both gateways of an exchange compute alike: a difference in any of them is a
 * message that does not verify. Changing one is changing the protocol.
 */

/** SHA-512 over salt ‖ data, fed incrementally (a body streams through it). */
export class SaltedDigest {
  private readonly hash = createHash('sha512');
  private count = 0;

  constructor(salt: Buffer) {
    this.hash.update(salt);
  }

  update(chunk: Buffer): void {
    this.hash.update(chunk);
    this.count += chunk.length;
  }

  get bytes(): number {
    return this.count;
  }

  digest(): string {
    return this.hash.digest('base64');
  }
}

/** The salted digest of a whole head or body, base64: what a manifest commits to. */
export function saltedDigest(salt: Buffer, data: Buffer): string {
  return createHash('sha512').update(salt).update(data).digest('base64');
}

/**
 * A Merkle leaf: SHA-512 of 0x00 ‖ data. Inner nodes hash 0x01 ‖ left ‖ right (RFC 6962's
 * domain separation), so a leaf can never be passed off as an inner node.
 */
export function leafHash(data: Uint8Array): Buffer {
  return createHash('sha512').update(Buffer.of(0x00)).update(data).digest();
}

/** The Merkle leaf of a message: its manifest's bytes, what a batch signature (and later a timestamp) covers. */
export const manifestLeaf = (manifestBytes: Uint8Array): Buffer => leafHash(manifestBytes);

/** How a response names the request it answers (its manifest's `requestHash`, the X-Road-Request-Hash header): the request leaf, base64. */
export const requestHashOf = (requestLeaf: Buffer): string => requestLeaf.toString('base64');

/** How a certificate is named in the global configuration and logs: SHA-256 of its DER, hex (once per buffer). */
export const certificateHash = derHash;
