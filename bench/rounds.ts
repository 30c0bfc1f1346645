// What a measurement yields, and how rounds are summed up: no load generator here, so the CLI can
// format figures without loading one.

export interface Rate {
  readonly perSecond: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  /** CPU milliseconds per request of each measured process; `load` is this process (the load generator). */
  readonly cpuMsPerRequest?: Record<string, number>;
}

export interface RoundsSummary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly rounds: readonly Rate[];
}

/** The round with the median rate: its latencies are the ones reported beside the median. */
export function medianRound(rounds: readonly Rate[]): Rate {
  return [...rounds].sort((a, b) => a.perSecond - b.perSecond)[Math.floor(rounds.length / 2)]!;
}

export function summarise(rounds: readonly Rate[]): RoundsSummary {
  const sorted = rounds.map((r) => r.perSecond).sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)]!, min: sorted[0]!, max: sorted[sorted.length - 1]!, rounds };
}
