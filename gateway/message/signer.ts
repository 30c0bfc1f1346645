import { createHash, type KeyObject, type X509Certificate } from 'node:crypto';
import { buildTree, encodeProof } from './merkle.js';
import { XmlBatchSigner } from './xmldsig.js';

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

interface Waiting {
  readonly leaf: Buffer;
  resolve(signed: SignedLeaf): void;
  reject(err: Error): void;
}

/**
 * Signs message leaves. With batching, every leaf that asks during one turn of the event loop
 * (all the message bodies that finished in the same I/O phase) is signed with one signature
 * over their Merkle root, each getting its own hash chain — X-Road's batch signing. Without
 * batching each leaf is signed alone, at once.
 */
export class MessageSigner {
  private readonly xml: XmlBatchSigner;
  private queue: Waiting[] = [];
  private scheduled = false;

  constructor(
    key: KeyObject,
    readonly certificate: X509Certificate,
    private readonly options: { batching: boolean; maxBatch?: number; onBatch?: (size: number, ms: number) => void } = { batching: true },
  ) {
    this.xml = new XmlBatchSigner(key, certificate);
  }

  sign(leaf: Buffer): Promise<SignedLeaf> {
    return new Promise((resolve, reject) => {
      this.queue.push({ leaf, resolve, reject });
      if (!this.options.batching) return this.flush();
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const max = this.options.maxBatch ?? 1024;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.batching ? max : 1);
      const started = performance.now();
      try {
        const tree = buildTree(batch.map((w) => w.leaf));
        const signature = this.xml.sign({ root: tree.root, count: batch.length, signedAt: new Date() });
        const signatureHash = createHash('sha256').update(signature).digest('hex');
        const signMs = performance.now() - started;
        this.options.onBatch?.(batch.length, signMs);
        batch.forEach((w, i) => w.resolve({ signature, signatureHash, chain: encodeProof(tree.proofs[i]!), batchSize: batch.length, signMs }));
      } catch (err) {
        for (const w of batch) w.reject(err as Error);
      }
    }
  }
}
