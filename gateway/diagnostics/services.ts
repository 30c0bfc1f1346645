import { fail, pass, reasonOf, since, type DiagnosticsTarget, type PendingCheck } from './check.js';

/**
 * One check per service this gateway provides: its base URL (`services.<id>.url`) answers an
 * HTTP request. Any status counts (a base URL need not serve anything itself); a refused
 * connection, a TLS failure or silence does not.
 */
export function serviceChecks(t: DiagnosticsTarget): PendingCheck[] {
  return Object.entries(t.config.services).map(([id, { url }]) => {
    const c = { name: 'service', target: `${id} ${url}` };
    return {
      ...c,
      async run(budget) {
        const started = performance.now();
        try {
          // HEAD: no body to read, and safe to send to any API.
          const res = await fetch(url, { method: 'HEAD', signal: budget.signal, redirect: 'manual' });
          await res.body?.cancel();
          return pass(c, `reachable (HTTP ${res.status})`, since(started));
        } catch (err) {
          return fail(c, `the base URL is unreachable (${reasonOf(err, budget)})`, since(started));
        }
      },
    };
  });
}
