import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildTree, decodeProof, encodeProof, leafHash, nodeHash, rootFromProof } from '../../gateway/message/merkle.js';

describe('Merkle batches', () => {
  it.each([1, 2, 3, 4, 5, 7, 8, 33])('every one of %i leaves proves the root', (n) => {
    const leaves = Array.from({ length: n }, () => leafHash(randomBytes(40)));
    const tree = buildTree(leaves);
    leaves.forEach((leaf, i) => {
      const proof = decodeProof(encodeProof(tree.proofs[i]!));
      expect(rootFromProof(leaf, proof).equals(tree.root)).toBe(true);
    });
    expect(Math.max(...tree.proofs.map((p) => p.length))).toBeLessThanOrEqual(Math.ceil(Math.log2(n)));
  });

  it('a batch of one is its own root with an empty chain', () => {
    const leaf = leafHash(Buffer.from('x'));
    const tree = buildTree([leaf]);
    expect(tree.root.equals(leaf)).toBe(true);
    expect(encodeProof(tree.proofs[0]!)).toBe('');
  });

  it('fails for a changed leaf, a changed step, or a leaf posing as a node', () => {
    const leaves = [Buffer.from('a'), Buffer.from('b'), Buffer.from('c')].map(leafHash);
    const tree = buildTree(leaves);
    expect(rootFromProof(leafHash(Buffer.from('z')), tree.proofs[0]!).equals(tree.root)).toBe(false);
    const bad = tree.proofs[0]!.map((s, i) => (i === 0 ? { ...s, hash: Buffer.from(s.hash).fill(1) } : s));
    expect(rootFromProof(leaves[0]!, bad).equals(tree.root)).toBe(false);
    // The inner node over a and b cannot be presented as a leaf of the same tree.
    expect(nodeHash(leaves[0]!, leaves[1]!).equals(leafHash(Buffer.concat([leaves[0]!, leaves[1]!])))).toBe(false);
  });

  it('rejects malformed chains', () => {
    expect(() => decodeProof('X:abc')).toThrow(/malformed/);
    expect(() => decodeProof(Array(65).fill(`L:${Buffer.alloc(64).toString('base64')}`).join(','))).toThrow(/too long/);
  });
});
