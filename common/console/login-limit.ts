/** More than `max` failures within `windowMs`, per name or per address, refuses further attempts. */
export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();
  constructor(
    private readonly clock: () => number = Date.now,
    private readonly max = 5,
    private readonly windowMs = 60_000,
  ) {}

  private recent(key: string): number[] {
    const since = this.clock() - this.windowMs;
    const times = (this.failures.get(key) ?? []).filter((t) => t > since);
    if (times.length) this.failures.set(key, times);
    else this.failures.delete(key);
    return times;
  }

  /** Seconds to wait, or 0 when an attempt is allowed. */
  retryAfter(name: string, address: string): number {
    let wait = 0;
    for (const key of [`n:${name}`, `a:${address}`]) {
      const times = this.recent(key);
      if (times.length >= this.max) wait = Math.max(wait, Math.ceil((times[0]! + this.windowMs - this.clock()) / 1000));
    }
    return wait;
  }

  recordFailure(name: string, address: string): void {
    for (const key of [`n:${name}`, `a:${address}`]) this.failures.set(key, [...this.recent(key), this.clock()]);
  }
}
