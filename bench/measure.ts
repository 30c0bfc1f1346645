import autocannon from 'autocannon';
import { cpuMeter } from './proc.js';
import type { Rate } from './rounds.js';

/** Calls `fn` for `seconds` after a short warm-up and returns calls per second. */
export function inProcessRate(fn: () => void, seconds: number): Rate {
  const warmUntil = performance.now() + 300;
  while (performance.now() < warmUntil) fn();
  let calls = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    fn();
    calls++;
  }
  return { perSecond: calls / ((performance.now() - start) / 1000) };
}

/**
 * Drives one HTTP endpoint with a fixed body over a fixed number of connections, after a 1 s
 * warm-up that is not counted. Any non-2xx answer or error fails the measurement, naming the
 * status codes (and `logs`, where the server's reasons are).
 */
export async function httpRate(
  url: string,
  body: Buffer,
  headers: Record<string, string>,
  connections: number,
  seconds: number,
  o: { logs?: string; cpuOf?: Record<string, number> } = {},
): Promise<Rate> {
  const options = { url, method: 'POST' as const, body, headers, connections, duration: seconds };
  await autocannon({ ...options, duration: 1 });
  const meter = o.cpuOf ? cpuMeter({ ...o.cpuOf, load: process.pid }) : undefined;
  const result = await autocannon(options);
  const cpu = meter?.stop();
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${url}: ${result.non2xx} non-2xx answers (${JSON.stringify(result.statusCodeStats)}) and ${result.errors} errors under load${o.logs ? `; see ${o.logs}` : ''}`);
  }
  const requests = result.requests.total || 1;
  return {
    perSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    ...(cpu ? { cpuMsPerRequest: Object.fromEntries(Object.entries(cpu).map(([k, ms]) => [k, ms / requests])) } : {}),
  };
}
