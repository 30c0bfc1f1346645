import { KycError } from './errors.js';

/** Image checks on this machine take a few seconds; a minute of one means a hostile or broken input. */
export const DEFAULT_IMAGE_TIME_LIMIT_MS = 30_000;

/**
 * Admission for the image checks (OCR, faces, liveness): a few run at once, a bounded number
 * wait, and the rest are refused at once with `busy` — a burst of uploads then costs a quick
 * 503, not minutes of queueing and memory. Each check also has a time limit: past it the caller
 * gets `timeLimit` (503) at once and the task's signal is aborted, which ends the OCR worker and
 * stops face and liveness work at its next step. The slot frees when the work has really
 * stopped, so a runaway input cannot make room for more work than the machine can do.
 */
export class Gate {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly concurrency = 2,
    private readonly maxWaiting = 16,
    private readonly timeLimitMs = DEFAULT_IMAGE_TIME_LIMIT_MS,
  ) {}

  async run<T>(task: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.maxWaiting) throw new KycError('busy');
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.running++;
    const stop = new AbortController();
    const work = task(stop.signal).finally(() => {
      this.running--;
      this.waiting.shift()?.();
    });
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        const error = new KycError('timeLimit', `stopped after ${this.timeLimitMs} ms`);
        stop.abort(error);
        reject(error);
      }, this.timeLimitMs);
    });
    // What the work still reports after the caller has been answered is of no use to anyone.
    work.catch(() => undefined);
    try {
      return await Promise.race([work, expired]);
    } finally {
      clearTimeout(timer);
    }
  }
}
