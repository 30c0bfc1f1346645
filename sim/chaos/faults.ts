import { ROUTES, type LoadDriver, type Route } from './load.js';
import type { ChaosNetwork, GatewayKey } from './network.js';
import type { KillWindow } from './records.js';

/**
 * How soon traffic must pass again after each fault ends: the README's Faults section under the
 * simulation's timings (sim/timings.ts), plus PROBE_SLACK_MS for the exchange that shows it on a
 * loaded machine. A restarted gateway has no documented time of its own: from ready it needs
 * its stored OCSP responses and cached configuration, and its peers a new connection, so 10 s.
 */
export const PROBE_SLACK_MS = 3000;
export const RECOVERY_BOUNDS_MS = {
  gateway: 10_000,
  /** "after up, the next batch (every 10 s) clears it": calls pass within ~20 s. */
  tsa: 20_000 + PROBE_SLACK_MS,
  /** "after up, fresh responses within 8 s" (a refresh every quarter of ocspFreshnessSeconds). */
  ocsp: 8000 + PROBE_SLACK_MS,
  /** "after up, gateways have a fresh one at their next poll (5 s)". */
  central: 5000 + PROBE_SLACK_MS,
} as const;

export interface FaultResult {
  readonly name: string;
  readonly boundMs: number;
  /** From up (or the restarted process being ready) until every affected route has answered a call again; null: not within twice the bound. */
  readonly recoveryMs: number | null;
}

export const recovered = (f: FaultResult) => f.recoveryMs !== null && f.recoveryMs <= f.boundMs;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Until every affected route has had an answered call again: one gateway recovering is not the network recovering. */
async function recoveryAfter(load: LoadDriver, since: number, routes: readonly Route[], boundMs: number): Promise<number | null> {
  const giveUp = since + 2 * boundMs;
  for (;;) {
    const firsts = routes.map((r) => load.firstAnsweredSince(since, (a) => a.route === r.name));
    if (firsts.every((f) => f !== undefined)) return Math.max(...(firsts as number[])) - since;
    if (Date.now() > giveUp) return null;
    await sleep(100);
  }
}

/** SIGKILL a gateway under load, leave it down `downMs`, restart it; its kill window goes to `kills`. */
export async function killAndRestart(net: ChaosNetwork, load: LoadDriver, key: GatewayKey, downMs: number, kills: KillWindow[]): Promise<FaultResult> {
  const from = Date.now();
  await net.killGateway(key);
  await sleep(downMs);
  const restartAt = Date.now();
  await net.startGateway(key);
  const readyAt = Date.now();
  kills.push({ gateway: key, from, to: readyAt });
  // Counted from ready: how long the process takes to start (bundle or TypeScript sources, a busy machine) is not the gateway's recovery.
  const recoveryMs = await recoveryAfter(
    load,
    readyAt,
    ROUTES.filter((r) => r.consumer === key || r.provider === key),
    RECOVERY_BOUNDS_MS.gateway,
  );
  return { name: `kill -9 gateway ${key}, restart (ready in ${((readyAt - restartAt) / 1000).toFixed(1)} s)`, boundMs: RECOVERY_BOUNDS_MS.gateway, recoveryMs };
}

/** `camdx fault <service> down`, `downMs` of load, then `up`. */
export async function outage(net: ChaosNetwork, load: LoadDriver, service: 'tsa' | 'ocsp' | 'central', downMs: number): Promise<FaultResult> {
  await net.fault(service, true);
  await sleep(downMs);
  const upAt = Date.now();
  await net.fault(service, false);
  const boundMs = RECOVERY_BOUNDS_MS[service];
  return { name: `${service} down ${Math.round(downMs / 1000)} s, up`, boundMs, recoveryMs: await recoveryAfter(load, upAt, ROUTES, boundMs) };
}
