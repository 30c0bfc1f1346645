import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killAndRestart, outage, type FaultResult } from './faults.js';
import { fuzzCorpus, type FuzzCase } from './fuzz.js';
import { LoadDriver, ROUTES } from './load.js';
import { ChaosNetwork, GATEWAYS } from './network.js';
import { matchRecords, readMessageLog, type KillWindow, type SideRecord } from './records.js';
import { failures, renderReport, type ChaosSummary } from './report.js';
import { hostileTls, hostileTlsCases, sendRaw, slowHeaders, type RawAnswer } from './wire.js';

/** How much of everything a run does; both bounded in count and time. */
export interface ChaosPlan {
  readonly connections: number;
  readonly killsPerGateway: number;
  readonly gatewayDownMs: number;
  /** Long enough in the full run for each outage to show (sim/timings.ts: 30 s unstamped, 30 s OCSP freshness, 40 s configuration). */
  readonly outageMs: { readonly tsa: number; readonly ocsp: number; readonly central: number };
  readonly fuzzCases: number;
  readonly truncated: number;
  readonly slowConnections: number;
  readonly hostileRounds: number;
  readonly settleMs: number;
}

export const SHORT_PLAN: ChaosPlan = {
  connections: 8,
  killsPerGateway: 1,
  gatewayDownMs: 1000,
  outageMs: { tsa: 4000, ocsp: 4000, central: 4000 },
  fuzzCases: 500,
  truncated: 20,
  slowConnections: 200,
  hostileRounds: 2,
  settleMs: 2000,
};
export const FULL_PLAN: ChaosPlan = {
  connections: 16,
  killsPerGateway: 2,
  gatewayDownMs: 3000,
  outageMs: { tsa: 40_000, ocsp: 40_000, central: 50_000 },
  fuzzCases: 2500,
  truncated: 100,
  slowConnections: 200,
  hostileRounds: 10,
  settleMs: 5000,
};

/** A slow or hostile connection must be cut by then: the gateways' headersTimeoutMs (10 s), its check interval, and slack for a loaded machine. */
const CUT_BOUND_MS = 20_000;
const WARM_UP_MS = 120_000;

export interface ChaosOptions {
  readonly short: boolean;
  readonly seed: number;
  readonly portOffset: number;
  readonly onProgress?: (line: string) => void;
}

export interface ChaosRun {
  readonly summary: ChaosSummary;
  readonly report: string;
  readonly passed: boolean;
  /** Kept (with every part's log under logs/) when the run failed, else removed. */
  readonly stateDir: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function inParallel<T, R>(items: readonly T[], width: number, each: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await each(items[i]!);
      }
    }),
  );
  return out;
}

/** Bodies that stop early: a Content-Length never reached, a chunked body without its last chunk. */
function truncatedRequests(count: number, idPrefix: string): Buffer[] {
  return Array.from({ length: count }, (_, i) => {
    const head =
      `POST /r1/CAMDX/GOV/MOI/KYC/kyc/api/2.0/kyc/info HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Road-Client: CAMDX/COM/DEMOBANK/ONBOARDING\r\nX-Road-Id: ` +
      `${idPrefix}-${i}\r\nContent-Type: application/json\r\n`;
    return Buffer.from(i % 2 ? `${head}Content-Length: 5000\r\n\r\n{"idNumber":"0100` : `${head}Transfer-Encoding: chunked\r\n\r\n10\r\n{"idNumber":"010`);
  });
}

/** Waits until the load has had an answer on every route: the network is provisioned, configured and serving. */
async function everyRouteAnswered(load: LoadDriver, stateDir: string): Promise<void> {
  const since = Date.now();
  while (!ROUTES.every((r) => load.attempts.some((a) => a.answered && a.route === r.name))) {
    if (Date.now() - since > WARM_UP_MS) throw new Error(`the network did not answer on every route within ${WARM_UP_MS / 1000} s (logs in ${stateDir}/logs)`);
    await sleep(200);
  }
}

/** Truncated bodies and slow headers at the consumer ports, hostile TLS at MOI's peer port, all at once and under load. */
async function connectionAttacks(net: ChaosNetwork, plan: ChaosPlan, truncatedIds: string) {
  const consumer = (key: 'demobank' | 'moc') => net.ports.members[key].consumer;
  const [truncated, slow, hostile] = await Promise.all([
    inParallel(truncatedRequests(plan.truncated, truncatedIds), 4, (bytes): Promise<RawAnswer> => sendRaw(consumer('demobank'), bytes, { incomplete: true, abandonMs: 500 })),
    Promise.all(Array.from({ length: plan.slowConnections }, (_, i) => slowHeaders(consumer(i % 2 ? 'moc' : 'demobank'), CUT_BOUND_MS))),
    Promise.all(
      Array.from({ length: plan.hostileRounds }, () => hostileTlsCases())
        .flat()
        .map(async (c) => ({ name: c.name, cut: await hostileTls(c, net.ports.members.moi.peer, CUT_BOUND_MS) })),
    ),
  ]);
  return { truncated, slow, hostile };
}

/**
 * `camdx chaos`: starts a network of separate processes, drives load through it, and meanwhile
 * kills and restarts each gateway, takes the TSA, OCSP and central down and up, and sends
 * truncated bodies, slow headers, hostile TLS and a fuzz corpus; then matches the load's calls
 * with both sides' message logs and judges the run (report.ts).
 */
export async function runChaos(o: ChaosOptions): Promise<ChaosRun> {
  const plan = o.short ? SHORT_PLAN : FULL_PLAN;
  const progress = o.onProgress ?? (() => undefined);
  const started = Date.now();
  const stateDir = mkdtempSync(join(tmpdir(), 'camdx-chaos-'));
  const prefix = `chaos${o.seed}-${started.toString(36)}`;
  const ids = { load: `${prefix}-load`, fuzz: `${prefix}-fuzz`, truncated: `${prefix}-trunc` };
  progress(`starting the network (state in ${stateDir}, port offset ${o.portOffset})`);
  const net = await ChaosNetwork.start(stateDir, o.portOffset);
  let summary: ChaosSummary;
  let load: LoadDriver | undefined;
  try {
    const port = (key: 'demobank' | 'moc') => net.ports.members[key].consumer;
    load = new LoadDriver((key) => net.layout.gateways[key].consumerUrl, { connections: plan.connections, prefix: ids.load, maxAttempts: 1_000_000 });
    load.start();
    await everyRouteAnswered(load, stateDir);
    progress(`network answering after ${((Date.now() - started) / 1000).toFixed(1)} s; load on ${plan.connections} connections`);
    const rssBefore = GATEWAYS.map((g) => net.rssMb(`gateway-${g}`));

    const faults: FaultResult[] = [];
    const kills: KillWindow[] = [];
    for (let round = 0; round < plan.killsPerGateway; round++) {
      for (const g of GATEWAYS) {
        progress(`kill -9 gateway ${g}`);
        faults.push(await killAndRestart(net, load, g, plan.gatewayDownMs, kills));
      }
    }
    for (const service of ['tsa', 'ocsp', 'central'] as const) {
      progress(`${service} down for ${plan.outageMs[service] / 1000} s`);
      faults.push(await outage(net, load, service, plan.outageMs[service]));
    }

    progress(`${plan.truncated} truncated bodies, ${plan.slowConnections} slow-header connections, hostile TLS at MOI's peer port`);
    const { truncated, slow, hostile } = await connectionAttacks(net, plan, ids.truncated);

    const corpus = fuzzCorpus(o.seed, plan.fuzzCases, ids.fuzz);
    progress(`fuzz: ${corpus.length} requests (seed ${o.seed})`);
    const fuzz = await inParallel(corpus, 8, async (c: FuzzCase) => ({
      mutation: `${c.category}: ${c.mutation}`,
      clientMistake: c.clientMistake,
      answer: await sendRaw(port(c.consumer), c.bytes, { incomplete: c.incomplete }),
    }));

    await sleep(plan.settleMs);
    await load.stop();
    // Failure records are queued after their answers: give them a moment to commit.
    await sleep(1500);
    progress('matching records');
    const logs = GATEWAYS.map((g) => ({ gateway: g, ...readMessageLog(g, net.messageLogPath(g), Object.values(ids)) }));
    const records: SideRecord[] = logs.flatMap((l) => l.records);
    summary = {
      mode: o.short ? 'short' : 'full',
      seed: o.seed,
      seconds: (Date.now() - started) / 1000,
      attempts: load.attempts,
      fuzz,
      truncated,
      slowHeaders: slow,
      hostileTls: hostile,
      cutBoundMs: CUT_BOUND_MS,
      crashes: [...net.crashes],
      matching: matchRecords(load.attempts, records, [...kills, ...net.crashWindows]),
      records: { consumer: records.filter((r) => r.side === 'Client').length, provider: records.filter((r) => r.side === 'Producer').length },
      integrity: logs.map((l) => ({ gateway: l.gateway, result: l.integrity })),
      rss: GATEWAYS.map((g, i) => ({ gateway: g, beforeMb: rssBefore[i], afterMb: net.rssMb(`gateway-${g}`) })),
      faults,
    };
  } catch (err) {
    // The load loop would keep the process alive (and the CI waiting) after a failed step.
    await load?.stop();
    await net.stop();
    throw Object.assign(err as Error, { stateDir });
  }
  await net.stop();
  const passed = failures(summary).length === 0;
  if (passed) rmSync(stateDir, { recursive: true, force: true });
  return { summary, report: renderReport(summary), passed, stateDir };
}
