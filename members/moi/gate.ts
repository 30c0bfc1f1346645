import { KycError } from './errors.js';

/**
 * Admission for the image checks (OCR, faces, liveness): a few run at once, a bounded number
 * wait, and the rest are refused at once with `busy` — a burst of uploads then costs a quick
 * 503, not minutes of queueing and memory.
 */
export class Gate {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly concurrency = 2,
    private readonly maxWaiting = 16,
  ) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.maxWaiting) throw new KycError('busy');
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.running++;
    try {
      return await task();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}
