import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Every leaf's chain must lead to the root its signature document states. */
function expectChainsVerify(leaves: Buffer[], signed: SignedLeaf[]) {
  signed.forEach((s, i) => {
    const statement = verifySignatureDocument(s.signature, signing.cert.publicKey);
    expect(rootFromProof(leaves[i]!, decodeProof(s.chain)).equals(statement.root)).toBe(true);
    expect(statement.count).toBe(s.batchSize);
  });
}

describe('batch signing', () => {
  it('signs a lone leaf once a turn has added nothing to its batch, as a batch of one with an empty chain', async () => {
    const signer = new MessageSigner(signing.key.privateKey, signing.cert);
    let settled = false;
    const pending = signer.sign(leaf(0)).finally(() => (settled = true));
    await turn();
    await turn();
    expect(settled).toBe(true);
    const signed = await pending;
    expect(signed.batchSize).toBe(1);
    expect(signed.chain).toBe('');
    expectChainsVerify([leaf(0)], [signed]);
  });

  it('keeps a batch open while it grows, so leaves asking over a few turns share one signature', async () => {
    const sizes: number[] = [];
    const signer = new MessageSigner(signing.key.privateKey, signing.cert, { batching: true, maxTurns: 3, onBatch: (size) => sizes.push(size) });
    const leaves = [0, 1, 2, 3, 4, 5].map(leaf);
    const pending = [signer.sign(leaves[0]!), signer.sign(leaves[1]!)];
    await turn();
    pending.push(signer.sign(leaves[2]!), signer.sign(leaves[3]!));
    await turn();
    pending.push(signer.sign(leaves[4]!));
    const first = await Promise.all(pending);
    // The batch closed after three turns; a later leaf starts the next one.
    const late = await signer.sign(leaves[5]!);
    expect(sizes).toEqual([5, 1]);
    expect(new Set(first.map((s) => s.signature)).size).toBe(1);
    expect(first.every((s) => s.batchSize === 5)).toBe(true);
    expect(late.signature).not.toBe(first[0]!.signature);
    expectChainsVerify(leaves.slice(0, 5), first);
  });

  it('closes a batch at the first turn in which it did not grow', async () => {
    const sizes: number[] = [];
    const signer = new MessageSigner(signing.key.privateKey, signing.cert, { batching: true, maxTurns: 10, onBatch: (size) => sizes.push(size) });
    const a = signer.sign(leaf(0));
    await turn();
    await turn();
    await turn();
    const b = signer.sign(leaf(1));
    await Promise.all([a, b]);
    expect(sizes).toEqual([1, 1]);
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
