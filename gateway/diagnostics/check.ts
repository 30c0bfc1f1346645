import type { GatewayConfig } from '../config.js';
import type { ConfView } from '../globalconf/view.js';
import type { GatewayKeys } from '../keys.js';

/** One line of `camdx gateway doctor`: what was checked, whether it passed, and why (with the time it took). */
export interface CheckResult {
  /** The kind of check: central, globalconf, registration, keys, ocsp, tsa, peer, service. */
  readonly name: string;
  /** What was checked: a URL, a server id and address, a service id. */
  readonly target: string;
  readonly ok: boolean;
  readonly detail: string;
  readonly latencyMs?: number;
}

/** What the checks look at: the gateway's own configuration and keys, and its verified global configuration. */
export interface DiagnosticsTarget {
  readonly config: GatewayConfig;
  /** Undefined when the keystores cannot be read (a `keys` check says why). */
  readonly keys: GatewayKeys | undefined;
  /** Undefined when the gateway holds no usable global configuration (the `globalconf` check says why). */
  readonly view: ConfView | undefined;
  readonly clock: () => number;
}

/** Each network check's own bound, as X-Road's connection tests and the issue ask ("3 s each"). */
export const CHECK_TIMEOUT_MS = 3000;

/** How long one check may wait: its signal aborts after `ms`, or earlier when the whole run's bound runs out. */
export interface Budget {
  readonly signal: AbortSignal;
  readonly ms: number;
}

/** A check still to run: its name and target are known before it starts, so one never started can still be reported. */
export interface PendingCheck {
  readonly name: string;
  readonly target: string;
  run(budget: Budget): Promise<CheckResult>;
}

export const pass = (c: Pick<CheckResult, 'name' | 'target'>, detail: string, latencyMs?: number): CheckResult => ({ ...c, ok: true, detail, ...(latencyMs === undefined ? {} : { latencyMs }) });
export const fail = (c: Pick<CheckResult, 'name' | 'target'>, detail: string, latencyMs?: number): CheckResult => ({ ...c, ok: false, detail, ...(latencyMs === undefined ? {} : { latencyMs }) });

/** Milliseconds since `started` (a performance.now() reading), whole. */
export const since = (started: number): number => Math.round(performance.now() - started);

/** Why a fetch or socket failed, in words a person can act on: a code (ECONNREFUSED), or the wait that ran out. */
export function reasonOf(err: unknown, budget: Budget): string {
  if (budget.signal.aborted) return `no answer within ${budget.ms / 1000} s`;
  const e = err as Error & { cause?: { code?: string; message?: string }; code?: string };
  return e.cause?.code ?? e.code ?? e.cause?.message ?? e.message;
}
