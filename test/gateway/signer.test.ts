import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeProof, leafHash, rootFromProof } from '../../gateway/message/merkle.js';
import { MessageSigner, type SignedLeaf } from '../../gateway/message/signer.js';
import { verifySignatureDocument } from '../../gateway/message/xmldsig.js';
import { MOI, startTestPki, type TestPki } from '../support/pki.js';

let t: TestPki;
let signing: ReturnType<TestPki['issue']>;
beforeAll(async () => {
  t = await startTestPki();
  signing = t.issue('member-signing', MOI);
});
afterAll(() => t.close());

const leaf = (n: number) => leafHash(Buffer.from(`message ${n}`));

/** Every leaf's chain must lead to the root its signature document states. */
function expectChainsVerify(leaves: Buffer[], signed: SignedLeaf[]) {
  signed.forEach((s, i) => {
    const statement = verifySignatureDocument(s.signature, signing.cert.publicKey);
    expect(rootFromProof(leaves[i]!, decodeProof(s.chain)).equals(statement.root)).toBe(true);
    expect(statement.count).toBe(s.batchSize);
  });
}

describe('batch signing', () => {
  it('signs a lone leaf without waiting for any timer or turn, as a batch of one with an empty chain', async () => {
    const signer = new MessageSigner(signing.key.privateKey, signing.cert);
    // With every timer faked and none advanced, only microtasks run: a lone leaf must not wait for company.
    vi.useFakeTimers({ toFake: ['setImmediate', 'setTimeout', 'setInterval', 'clearImmediate', 'clearTimeout', 'clearInterval'] });
    try {
      const signed = await signer.sign(leaf(0));
      expect(vi.getTimerCount()).toBe(0);
      expect(signed.batchSize).toBe(1);
      expect(signed.chain).toBe('');
      expectChainsVerify([leaf(0)], [signed]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('gives the leaves queued in one turn one signature', async () => {
    const sizes: number[] = [];
    const signer = new MessageSigner(signing.key.privateKey, signing.cert, { batching: true, onBatch: (size) => sizes.push(size) });
    const leaves = [0, 1, 2, 3, 4].map(leaf);
    vi.useFakeTimers({ toFake: ['setImmediate', 'setTimeout', 'setInterval'] });
    try {
      const signed = await Promise.all(leaves.map((l) => signer.sign(l)));
      expect(sizes).toEqual([5]);
      expect(new Set(signed.map((s) => s.signature)).size).toBe(1);
      expect(signed.every((s) => s.batchSize === 5)).toBe(true);
      expectChainsVerify(leaves, signed);
    } finally {
      vi.useRealTimers();
    }
  });

  it('busy (it ran within the last 5 ms), signs once a turn what the turn queued; a later leaf starts the next batch', async () => {
    const sizes: number[] = [];
    const signer = new MessageSigner(signing.key.privateKey, signing.cert, { batching: true, onBatch: (size) => sizes.push(size) });
    await signer.sign(leaf(0));
    // Straight after a batch: the next leaves wait for the turn's end instead of a microtask each.
    let settled = false;
    const queued = [1, 2, 3].map((n) => signer.sign(leaf(n)));
    void Promise.all(queued).then(() => (settled = true));
    await Promise.resolve();
    await Promise.resolve();
    expect(settled).toBe(false);
    await new Promise<void>((resolve) => setImmediate(resolve));
    const batch = await Promise.all(queued);
    expect(sizes).toEqual([1, 3]);
    expect(new Set(batch.map((s) => s.signature)).size).toBe(1);
    expectChainsVerify([1, 2, 3].map(leaf), batch);
  });

  it('splits at maxBatch and, with batching off, signs every leaf alone', async () => {
    const sizes: number[] = [];
    const capped = new MessageSigner(signing.key.privateKey, signing.cert, { batching: true, maxBatch: 4, onBatch: (size) => sizes.push(size) });
    const leaves = Array.from({ length: 10 }, (_, i) => leaf(i));
    expectChainsVerify(leaves, await Promise.all(leaves.map((l) => capped.sign(l))));
    expect(sizes).toEqual([4, 4, 2]);

    const alone = new MessageSigner(signing.key.privateKey, signing.cert, { batching: false });
    const signed = await Promise.all(leaves.slice(0, 3).map((l) => alone.sign(l)));
    expect(signed.map((s) => s.batchSize)).toEqual([1, 1, 1]);
    expect(new Set(signed.map((s) => s.signature)).size).toBe(3);
  });
});
