import { X509Certificate } from 'node:crypto';
import type { Logger } from '../../common/log.js';
import { buildTimestampQuery, readTimestampResponse } from '../../certs/tsa/client.js';
import { verifyTimestampToken } from '../../certs/tsa/verify.js';
import { XRoadError } from '../../protocol/errors.js';
import type { GlobalConf } from '../../protocol/globalconf.js';
import { buildTree, encodeProof, leafHash } from '../message/merkle.js';
import type { GatewayMetrics } from '../opmon/metrics.js';
import type { MessageLog, UnstampedSignature } from './log.js';

/** The Merkle leaf a signature document contributes to a timestamp batch. */
export const stampLeaf = (xml: string): Buffer => leafHash(Buffer.from(xml, 'utf8'));

/** The longest wait between rounds while every TSA fails (and never more than half the interval). */
export const RETRY_CAP_MS = 8000;

export interface TimestamperOptions {
  /** How long stamping may fail before new exchanges are refused (X-Road default 14,400 s). */
  readonly acceptableFailureSeconds: number;
  /** At most this many documents per token. */
  readonly maxBatch?: number;
}

/**
 * Stamps the message log asynchronously in batches (X-Road's model): every
 * `timestampingIntervalSeconds` it builds a Merkle tree over the signature documents not yet
 * stamped, asks an approved TSA for one RFC 3161 token over the root, and stores the token once
 * and each document's chain to the root. Exchanges continue while the oldest unstamped document
 * is younger than the acceptable failure period, and are refused with TimestampingFailed after it.
 *
 * Rounds are chained timeouts, not a fixed interval: the first comes at start (what a crash or a
 * restart left unstamped must not wait a whole interval, or a gateway restarted more often than
 * the interval would never stamp), and after a round in which every approved TSA failed the next
 * comes after a short back-off (1 s doubling, at most RETRY_CAP_MS and below the interval), so
 * the backlog is stamped within seconds of a TSA answering again. After a success: the interval.
 */
export class Timestamper {
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private running: Promise<void> | undefined;
  private conf: GlobalConf | undefined;
  private failures = 0;
  private lastSuccess: number | null = null;
  /** The oldest unstamped record's time, as last read from the log (read at most once a second, not per request). */
  private oldest: { value: number | null; readAt: number } | undefined;

  constructor(
    private readonly messageLog: MessageLog,
    private readonly options: TimestamperOptions,
    private readonly log: Logger,
    private readonly metrics: GatewayMetrics,
    private readonly clock: () => number = Date.now,
  ) {}

  setConf(conf: GlobalConf): void {
    const first = !this.conf;
    const changed = conf.timestampingIntervalSeconds !== this.conf?.timestampingIntervalSeconds;
    this.conf = conf;
    if (!this.started) return;
    // A configuration arriving after start: what waited for its TSAs is stamped now.
    if (first) this.scheduleIn(0);
    else if (changed && this.failures === 0) this.scheduleIn(this.intervalMs());
  }

  /** Starts the rounds with one now (if there is a configuration to find a TSA in; else when one arrives). */
  start(): void {
    this.started = true;
    if (this.conf) this.scheduleIn(0);
  }

  stop(): void {
    this.started = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private intervalMs(): number {
    return (this.conf?.timestampingIntervalSeconds ?? 60) * 1000;
  }

  /** After `failures` failed rounds in a row: 1 s, 2 s, 4 s … at most RETRY_CAP_MS and half the interval. */
  private retryDelayMs(): number {
    return Math.min(1000 * 2 ** Math.min(this.failures - 1, 10), RETRY_CAP_MS, this.intervalMs() / 2);
  }

  private scheduleIn(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    try {
      await this.runBatch();
    } catch (err) {
      this.log.error({ reason: (err as Error).message }, 'a timestamping round could not read the message log');
    }
    if (this.started && !this.timer) this.scheduleIn(this.failures > 0 ? this.retryDelayMs() : this.intervalMs());
  }

  /** Refuses new exchanges once stamping has failed for longer than the acceptable period. */
  check(side: 'Server.ClientProxy' | 'Server.ServerProxy'): void {
    const now = this.clock();
    // A cached "oldest" stays true until a batch is stamped (which forgets it): newer records are never older.
    if (!this.oldest || Math.abs(now - this.oldest.readAt) >= 1000) this.oldest = { value: this.messageLog.unstampedStats().oldest, readAt: now };
    const oldest = this.oldest.value;
    if (oldest !== null && now - oldest > this.options.acceptableFailureSeconds * 1000) {
      throw new XRoadError(
        side,
        'TimestampingFailed',
        `message log records have waited more than ${this.options.acceptableFailureSeconds} s for a timestamp; exchanges resume once an approved TSA answers`,
      );
    }
  }

  status() {
    const { count, oldest } = this.messageLog.unstampedStats();
    return { unstamped: count, oldestAgeSeconds: oldest === null ? 0 : (this.clock() - oldest) / 1000, consecutiveFailures: this.failures, lastSuccess: this.lastSuccess };
  }

  /** One round: stamps everything waiting (in batches of maxBatch); overlapping calls share it. */
  runBatch(): Promise<void> {
    if (this.running) return this.running;
    this.running = (async () => {
      for (;;) {
        const waiting = this.messageLog.unstamped(this.options.maxBatch ?? 10_000);
        if (waiting.length === 0) return;
        if (!(await this.stamp(waiting))) return;
        if (waiting.length < (this.options.maxBatch ?? 10_000)) return;
      }
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Stamps the given documents now (synchronous-timestamping services); throws TimestampingFailed if no TSA answers. */
  async stampNow(hashes: readonly string[], side: 'Server.ClientProxy' | 'Server.ServerProxy'): Promise<void> {
    const docs = this.messageLog.unstampedOf(hashes);
    if (docs.length === 0) return;
    const wasFailing = this.failures > 0;
    if (!(await this.stamp(docs))) throw new XRoadError(side, 'TimestampingFailed', 'no approved TSA could timestamp this exchange');
    // A TSA answers again: the backlog need not wait for the back-off to run out.
    if (wasFailing && this.started) this.scheduleIn(0);
  }

  private async stamp(docs: readonly UnstampedSignature[]): Promise<boolean> {
    const tsas = this.conf?.approvedTSAs ?? [];
    if (tsas.length === 0) {
      this.log.warn('no approved TSA in the global configuration; the message log stays unstamped');
      return false;
    }
    const tree = buildTree(docs.map((d) => stampLeaf(d.xml)));
    for (const tsa of tsas) {
      const started = performance.now();
      try {
        const res = await fetch(tsa.url, {
          method: 'POST',
          headers: { 'content-type': 'application/timestamp-query' },
          body: new Uint8Array(buildTimestampQuery(tree.root, 'sha512', { certReq: true })),
          signal: AbortSignal.timeout(10_000),
        });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const answer = readTimestampResponse(new Uint8Array(await res.arrayBuffer()));
        if (answer.status !== 0 || !answer.token) throw new Error(`the TSA refused: ${answer.statusText ?? `status ${answer.status}`}`);
        const verified = verifyTimestampToken(answer.token, tree.root, [new X509Certificate(tsa.certificate)]);
        this.metrics.tsaSeconds.observe({ tsa: tsa.name }, (performance.now() - started) / 1000);
        this.oldest = undefined;
        this.messageLog.storeTimestamp({
          token: answer.token,
          root: tree.root.toString('hex'),
          tsa: tsa.name,
          genTime: verified.genTime.getTime(),
          chains: new Map(docs.map((d, i) => [d.hash, encodeProof(tree.proofs[i]!)])),
        });
        this.metrics.stampBatchSize.observe(docs.length);
        this.failures = 0;
        this.lastSuccess = this.clock();
        return true;
      } catch (err) {
        this.metrics.tsaFailures.inc({ tsa: tsa.name });
        this.log.warn({ tsa: tsa.name, reason: (err as Error).message }, 'timestamping failed; trying the next approved TSA');
      }
    }
    // Every TSA failed: the next round comes after the back-off (retryDelayMs).
    this.failures++;
    return false;
  }
}
