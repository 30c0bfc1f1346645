import { createHash, type KeyObject, type X509Certificate } from 'node:crypto';
import { buildTree, encodeProof } from './merkle.js';
import { ProfileSigner } from './signature-profile.js';

export interface SignedLeaf {
  /** The signature document for the batch this leaf was signed in. */
  readonly signature: string;
  /** SHA-256 (hex) of the document: batch members share it, so logs store it once. */
  readonly signatureHash: string;
  /** Encoded hash chain from the leaf to the signed root ('' for a batch of one). */
  readonly chain: string;
  readonly batchSize: number;
  readonly signMs: number;
}

/**
 * A signer that ran this recently is busy: the next batch gathers what the current turn queues.
 * Under load a turn of the event loop takes 1–3 ms (measured with 32 connections), so a 1 ms
 * window took a busy gateway for an idle one and signed most leaves alone.
 */
const BUSY_WITHIN_MS = 5;

interface Waiting {
  readonly leaf: Buffer;
  resolve(signed: SignedLeaf): void;
  reject(err: Error): void;
}

/**
 * Signs message leaves. With batching, the leaves queued when the signer runs are signed with
 * one signature over their Merkle root, each getting its own hash chain — X-Road's batch
 * signing. No leaf waits for company: the signer runs as soon as the work under way allows. A
 * leaf queued while the signer is idle (none signed in the last 5 ms) is signed in the
 * microtask after it — no timer, no turn of the event loop, so an idle gateway adds no
 * latency. Under load the signer runs once a turn (`setImmediate`, right after the turn's
 * socket reads), signing together what that turn queued: one signature document, one row of
 * the message log and one timestamp leaf for the batch instead of one each. The signature is a
 * fixed-profile document (signature-profile.ts, ~50 µs with node:crypto). Without batching
 * each leaf is signed alone, at once.
 */
export class MessageSigner {
  private readonly documents: ProfileSigner;
  private queue: Waiting[] = [];
  private scheduled = false;
  /** When the signer last ran (performance.now()), to tell an idle gateway from a busy one. */
  private lastRun = -Infinity;

  constructor(
    key: KeyObject,
    readonly certificate: X509Certificate,
    private readonly options: { batching: boolean; maxBatch?: number; onBatch?: (size: number, ms: number) => void; clock?: () => number } = { batching: true },
  ) {
    this.documents = new ProfileSigner(key, certificate);
  }

  sign(leaf: Buffer): Promise<SignedLeaf> {
    return new Promise((resolve, reject) => {
      this.queue.push({ leaf, resolve, reject });
      if (!this.options.batching) return this.flush();
      if (this.scheduled) return;
      this.scheduled = true;
      if (performance.now() - this.lastRun > BUSY_WITHIN_MS) queueMicrotask(() => this.flush());
      else setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    this.scheduled = false;
    this.lastRun = performance.now();
    const max = this.options.maxBatch ?? 1024;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.batching ? max : 1);
      try {
        this.signNow(batch.map((w) => w.leaf)).forEach((signed, i) => batch[i]!.resolve(signed));
      } catch (err) {
        for (const w of batch) w.reject(err as Error);
      }
    }
  }

  /** Signs `leaves` as one batch, now: one signature over their Merkle root, each its own chain. */
  signNow(leaves: readonly Buffer[]): SignedLeaf[] {
    const started = performance.now();
    const tree = buildTree(leaves);
    const signature = this.documents.sign({ root: tree.root, count: leaves.length, signedAt: new Date(this.options.clock?.() ?? Date.now()) });
    const signatureHash = createHash('sha256').update(signature).digest('hex');
    const signMs = performance.now() - started;
    this.options.onBatch?.(leaves.length, signMs);
    return leaves.map((_, i) => ({ signature, signatureHash, chain: encodeProof(tree.proofs[i]!), batchSize: leaves.length, signMs }));
  }
}
