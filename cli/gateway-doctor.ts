import type { CheckResult } from '../gateway/diagnostics/run.js';
import { failCommand, stateDirOf, type GlobalOptions } from './context.js';
import { simGatewayConfig } from './sim-member.js';

export interface DoctorOptions {
  config?: string;
  dir?: string;
  member?: string;
}

/** The gateway to examine: exactly one of `--config FILE`, `--dir DIR` (holding gateway.yaml), or in the simulation `--member CODE`. */
function gatewayOf(o: DoctorOptions, globals: GlobalOptions): string {
  const given = [o.config, o.dir, o.member].filter((v) => v !== undefined);
  if (given.length !== 1) failCommand('say which gateway, once: --config FILE (its gateway.yaml), --dir DIR (its directory) or, in the simulation, --member CODE (e.g. MOI)', 2);
  if (o.member !== undefined) return simGatewayConfig(o.member, stateDirOf(globals)).config;
  return (o.config ?? o.dir)!;
}

/** `ok   central      http://…/globalconf 12 ms: serves version 7…` / `FAIL ocsp         http://…/ocsp 3 ms: …` */
export function formatCheck(r: CheckResult): string {
  return `${r.ok ? 'ok  ' : 'FAIL'} ${r.name.padEnd(12)} ${r.target}${r.latencyMs === undefined ? '' : ` ${r.latencyMs} ms`}: ${r.detail}`;
}

/**
 * The checks' share of the command's 10 s: what process start and loading left of 8.8 s (a cut check and the exit take the rest), at most
 * the usual deadline, at least 3 s (one round of handshakes). On a loaded machine node can take
 * seconds to start; without this the command would overrun its bound by that much.
 */
function checkingBudget(usual: number): number {
  return Math.max(3000, Math.min(usual, Math.floor(8800 - performance.now())));
}

/** `camdx gateway doctor`: one line per check on stdout, exit 1 if any failed (2 if the gateway's configuration cannot be read). */
export async function doctor(globals: GlobalOptions, o: DoctorOptions): Promise<void> {
  const source = gatewayOf(o, globals);
  const { runDiagnostics, DEFAULT_DEADLINE_MS } = await import('../gateway/diagnostics/run.js');
  const { ConfigError } = await import('../gateway/config.js');
  let results: CheckResult[];
  const started = performance.now();
  try {
    results = await runDiagnostics(source, { deadlineMs: checkingBudget(DEFAULT_DEADLINE_MS) });
  } catch (err) {
    if (err instanceof ConfigError) failCommand(err.message, 2);
    throw err;
  }
  for (const r of results) process.stdout.write(`${formatCheck(r)}\n`);
  const failed = results.filter((r) => !r.ok).length;
  process.stdout.write(`${results.length} checks, ${failed} failed, in ${Math.round(performance.now() - started)} ms\n`);
  // Exit now: a pooled keep-alive connection to a checked service must not hold the verdict back.
  process.exit(failed === 0 ? 0 : 1);
}
