import { CHECK_TIMEOUT_MS, fail, type Budget, type CheckResult, type PendingCheck } from './check.js';

/** The whole run's bound: `signal` aborts at `deadline` (a performance.now() time). */
export interface Overall {
  readonly signal: AbortSignal;
  readonly deadline: number;
}

/** How long after its budget ran out a check that has not answered is reported for it (it should end itself first). */
const GRACE_MS = 200;

/**
 * Runs the checks with at most `limit` under way at once, each bounded by CHECK_TIMEOUT_MS and
 * by the overall deadline; one not started before the deadline is reported as not checked.
 * Results come back in the order of `checks`.
 */
export async function runBounded(checks: readonly PendingCheck[], limit: number, overall: Overall): Promise<CheckResult[]> {
  const results: CheckResult[] = new Array(checks.length);
  let next = 0;
  const worker = async () => {
    while (next < checks.length) {
      const i = next++;
      const check = checks[i]!;
      const left = Math.floor(overall.deadline - performance.now());
      if (overall.signal.aborted || left <= 0) {
        results[i] = fail(check, 'not checked: the run reached its overall time limit first');
        continue;
      }
      results[i] = await runOne(check, { signal: AbortSignal.any([AbortSignal.timeout(Math.min(CHECK_TIMEOUT_MS, left)), overall.signal]), ms: Math.min(CHECK_TIMEOUT_MS, left) });
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, checks.length) }, worker));
  return results;
}

/**
 * One check, never longer than its budget and a short grace: the checks end their own sockets
 * and requests when the signal aborts, and this guard keeps a forgotten one from holding the run.
 */
async function runOne(check: PendingCheck, budget: Budget): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  let expire = () => undefined as void;
  const guard = new Promise<CheckResult>((resolve) => {
    expire = () => {
      timer = setTimeout(() => resolve(fail(check, `no answer within ${budget.ms / 1000} s`)), GRACE_MS);
    };
    if (budget.signal.aborted) expire();
    else budget.signal.addEventListener('abort', expire, { once: true });
  });
  try {
    return await Promise.race([check.run(budget).catch((err: Error) => fail(check, err.message)), guard]);
  } finally {
    budget.signal.removeEventListener('abort', expire);
    clearTimeout(timer);
  }
}
