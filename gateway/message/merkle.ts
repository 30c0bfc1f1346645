import { createHash } from 'node:crypto';
import { leafHash } from '../../protocol/message-hashes.js';

/**
 * Merkle trees over message digests, so one signature (or one timestamp) covers a batch and
 * each message carries a short hash chain to the signed root. Leaves and inner nodes are
 * domain-separated (0x00 / 0x01 prefixes, as in RFC 6962) so a leaf can never be passed off as
 * an inner node. An odd node at a level is carried up unchanged.
 */

export type Hash = Buffer;

export interface ProofStep {
  /** Which side the sibling is on. */
  readonly side: 'L' | 'R';
  readonly hash: Hash;
}

const sha512 = (...parts: Uint8Array[]) => {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest();
};

export { leafHash };
export const nodeHash = (left: Hash, right: Hash): Hash => sha512(Buffer.of(0x01), left, right);

export interface Tree {
  readonly root: Hash;
  /** proofs[i] leads from leaves[i] to the root. */
  readonly proofs: readonly (readonly ProofStep[])[];
}

export function buildTree(leaves: readonly Hash[]): Tree {
  if (leaves.length === 0) throw new Error('a Merkle tree needs at least one leaf');
  const proofs: ProofStep[][] = leaves.map(() => []);
  // positions[i] is the index, at the current level, of the node containing leaf i.
  let positions = leaves.map((_, i) => i);
  let level: Hash[] = [...leaves];
  while (level.length > 1) {
    const next: Hash[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? nodeHash(level[i]!, level[i + 1]!) : level[i]!);
    positions = positions.map((p, leaf) => {
      const sibling = p ^ 1;
      if (sibling < level.length) proofs[leaf]!.push({ side: p % 2 === 0 ? 'R' : 'L', hash: level[sibling]! });
      return p >> 1;
    });
    level = next;
  }
  return { root: level[0]!, proofs };
}

export function rootFromProof(leaf: Hash, proof: readonly ProofStep[]): Hash {
  return proof.reduce((acc, step) => (step.side === 'L' ? nodeHash(step.hash, acc) : nodeHash(acc, step.hash)), leaf);
}

/** Compact text form for transport and logs: "L:base64,R:base64" ('' for a batch of one). */
export function encodeProof(proof: readonly ProofStep[]): string {
  return proof.map((s) => `${s.side}:${s.hash.toString('base64')}`).join(',');
}

export function decodeProof(text: string): ProofStep[] {
  if (text === '') return [];
  const steps = text.split(',');
  if (steps.length > 64) throw new Error('hash chain too long');
  return steps.map((step) => {
    const match = /^([LR]):([A-Za-z0-9+/]{86}==)$/.exec(step);
    if (!match) throw new Error('malformed hash chain');
    return { side: match[1] as 'L' | 'R', hash: Buffer.from(match[2]!, 'base64') };
  });
}
