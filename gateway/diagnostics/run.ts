import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { GlobalConf } from '../../protocol/globalconf.js';
import { loadGatewayConfig, type GatewayConfig } from '../config.js';
import { ConfView } from '../globalconf/view.js';
import { loadGatewayKeys, type GatewayKeys } from '../keys.js';
import { runBounded } from './bounded.js';
import { centralCheck } from './central.js';
import { fail, type CheckResult, type DiagnosticsTarget, type PendingCheck } from './check.js';
import { globalConfCheck, loadCachedConf, registrationCheck } from './configuration.js';
import { ocspChecks } from './ocsp.js';
import { peerChecks } from './peers.js';
import { serviceChecks } from './services.js';
import { tsaChecks } from './tsa.js';

export type { CheckResult } from './check.js';

/**
 * The whole run's bound. With 3 s per check and 8 at once, 20 silent peers take three rounds;
 * the third is cut short here, so that `camdx gateway doctor`, process start included, ends within 10 s.
 */
export const DEFAULT_DEADLINE_MS = 6500;
/** Peer handshakes under way at once. */
export const PEER_CONCURRENCY = 8;
/** Other network checks (central, OCSP, TSA, services) under way at once. */
const OTHER_CONCURRENCY = 8;

export interface DiagnosticsOptions {
  readonly clock?: () => number;
  readonly deadlineMs?: number;
  readonly peerConcurrency?: number;
  /** A running gateway's keys in use, instead of reading the keystores. */
  readonly keys?: GatewayKeys;
  /** A running gateway's configuration in use, instead of its cached copy on disk. */
  readonly conf?: GlobalConf;
}

/** A gateway directory (holding gateway.yaml), its gateway.yaml, or its loaded configuration. */
function configOf(source: string | GatewayConfig): GatewayConfig {
  if (typeof source !== 'string') return source;
  const file = existsSync(source) && statSync(source).isDirectory() ? join(source, 'gateway.yaml') : source;
  return loadGatewayConfig(file);
}

/**
 * X-Road's connection tests for one gateway (ug-ss §14.3): central reachable, the global
 * configuration's version and age, this server's registration, each OCSP responder and TSA,
 * each peer this gateway's clients may call (TLS handshake and pin), each own service's base
 * URL. Network checks run at most 8 at once, 3 s each, and the whole run ends within
 * `deadlineMs`. Throws only for a configuration that cannot be read (ConfigError).
 */
export async function runDiagnostics(source: string | GatewayConfig, opts: DiagnosticsOptions = {}): Promise<CheckResult[]> {
  const config = configOf(source);
  const clock = opts.clock ?? Date.now;
  const local: CheckResult[] = [];
  let keys = opts.keys;
  if (!keys) {
    try {
      keys = loadGatewayKeys(config);
    } catch (err) {
      local.push(fail({ name: 'keys', target: config.keystores.auth.file }, (err as Error).message));
    }
  }
  const loaded = opts.conf ? { conf: opts.conf } : await loadCachedConf(config);
  local.unshift(globalConfCheck(config, loaded, clock()));
  if ('conf' in loaded && keys) local.splice(1, 0, registrationCheck(config, loaded.conf, keys));
  const target: DiagnosticsTarget = { config, keys, view: 'conf' in loaded ? new ConfView(loaded.conf) : undefined, clock };

  const deadlineMs = opts.deadlineMs ?? DEFAULT_DEADLINE_MS;
  const overall = { signal: AbortSignal.timeout(deadlineMs), deadline: performance.now() + deadlineMs };
  const others = [central(config), ...ocspChecks(target), ...tsaChecks(target), ...serviceChecks(target)];
  const [checked, peers] = await Promise.all([runBounded(others, OTHER_CONCURRENCY, overall), runBounded(peerChecks(target), opts.peerConcurrency ?? PEER_CONCURRENCY, overall)]);
  const [centralResult, ...rest] = checked;
  const services = rest.filter((r) => r.name === 'service');
  return [centralResult!, ...local, ...rest.filter((r) => r.name !== 'service'), ...peers, ...services];
}

/** The central check, or its failure when the anchor itself cannot be read. */
function central(config: GatewayConfig): PendingCheck {
  try {
    return centralCheck(config);
  } catch (err) {
    const c = { name: 'central', target: config.anchor };
    return { ...c, run: async () => fail(c, `the configuration anchor cannot be read: ${(err as Error).message}`) };
  }
}
