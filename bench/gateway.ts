import http from 'node:http';
import autocannon from 'autocannon';
import { httpRate } from './measure.js';
import { medianRound, summarise, type Rate, type RoundsSummary } from './rounds.js';
import { BenchNetwork, type BenchTarget } from './network.js';
import { rssOf, rssSampler } from './proc.js';

export interface GatewayBenchOptions {
  readonly workDir: string;
  readonly rounds: number;
  readonly seconds: number;
  readonly connections: number;
  /** Load before the first round of each target, per body size, not counted (the JIT settles). */
  readonly warmUpSeconds: number;
  readonly bodySizes: readonly number[];
  /** Size of the large-transfer body (0 skips it). */
  readonly largeBytes: number;
  /** Write V8 CPU profiles of the gateways here (`--cpu-prof`). */
  readonly profileDir?: string;
  /** Told each measurement as it completes (a long run shows it is alive). */
  readonly onProgress?: (line: string) => void;
}

/** One target under one body size: the median round and the spread over rounds. */
export interface LoadRow {
  readonly target: TargetName;
  readonly bodyBytes: number;
  readonly rate: RoundsSummary;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly peakRssMb: { consumer: number; provider: number };
  /** CPU per exchange (mean over rounds): front and back process, echo service, load generator, and all of them. */
  readonly cpuMs: CpuPerExchange;
  /** Ours / reference, per round (rounds are interleaved so each pair saw the same machine state). */
  readonly ratio?: { median: number; min: number; max: number };
}

export interface CpuPerExchange {
  readonly front: number;
  readonly back: number;
  readonly echo: number;
  readonly load: number;
  readonly total: number;
}

export interface LargeTransfer {
  readonly target: TargetName;
  readonly bytes: number;
  readonly mbPerSecond: number;
  readonly idleRssMb: { consumer: number; provider: number };
  readonly peakRssMb: { consumer: number; provider: number };
}

export type TargetName = 'reference' | 'gateways' | 'gateways, batch signing off';

/** Latency of one exchange with nothing queued (one connection, smallest body): what the gateways add. */
export interface UnloadedLatency {
  readonly bodyBytes: number;
  readonly reference: { p50Ms: number; p99Ms: number };
  readonly gateways: { p50Ms: number; p99Ms: number };
  readonly addedP50Ms: number;
  readonly addedP99Ms: number;
}

export interface GatewayBenchResult {
  readonly rows: LoadRow[];
  readonly unloaded: UnloadedLatency;
  readonly large: LargeTransfer[];
}

const MB = 2 ** 20;
const mb = (r: Record<string, number>) => ({ consumer: r.consumer! / MB, provider: r.provider! / MB });

/** Load on one target for `seconds`, after a warm-up that is not counted, with the CPU each process spent. */
function round(target: BenchTarget, body: Buffer, connections: number, seconds: number, echoPid: number): Promise<Rate> {
  return httpRate(target.url, body, { ...target.headers, 'content-type': 'application/octet-stream' }, connections, seconds, {
    ...(target.logs ? { logs: target.logs } : {}),
    cpuOf: { front: target.pids.consumer, back: target.pids.provider, echo: echoPid },
  });
}

function meanCpu(rounds: readonly Rate[]): CpuPerExchange {
  const mean = (k: string) => rounds.reduce((sum, r) => sum + (r.cpuMsPerRequest?.[k] ?? 0), 0) / rounds.length;
  const [front, back, echo, load] = [mean('front'), mean('back'), mean('echo'), mean('load')];
  return { front, back, echo, load, total: front + back + echo + load };
}

async function warmUp(target: BenchTarget, sizes: readonly number[], connections: number, seconds: number): Promise<void> {
  for (const size of sizes) {
    await autocannon({ url: target.url, method: 'POST', body: Buffer.alloc(size, 0x61), headers: { ...target.headers, 'content-type': 'application/octet-stream' }, connections, duration: seconds });
  }
}

interface Series {
  readonly rounds: Rate[];
  readonly peak: Record<string, number>;
}

function row(target: TargetName, bodyBytes: number, s: Series, reference?: Series): LoadRow {
  const rate = summarise(s.rounds);
  const mid = medianRound(s.rounds);
  const ratios = reference ? s.rounds.map((r, i) => r.perSecond / reference.rounds[i % reference.rounds.length]!.perSecond).sort((a, b) => a - b) : [];
  return {
    target,
    bodyBytes,
    rate,
    p50Ms: mid.p50Ms!,
    p99Ms: mid.p99Ms!,
    peakRssMb: mb(s.peak),
    cpuMs: meanCpu(s.rounds),
    ...(reference ? { ratio: { median: ratios[Math.floor(ratios.length / 2)]!, min: ratios[0]!, max: ratios[ratios.length - 1]! } } : {}),
  };
}

/** Sends one body of `bytes` as a stream (never held in memory) and waits for the answer. */
function sendLarge(target: BenchTarget, bytes: number): Promise<number> {
  const chunk = Buffer.alloc(MB, 0x62);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request(target.url, { method: 'POST', headers: { ...target.headers, 'content-type': 'application/octet-stream', 'content-length': String(bytes) } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => {
        const answer = Buffer.concat(parts).toString();
        if (res.statusCode !== 200 || !answer.includes(`"bytes":${bytes}`)) reject(new Error(`large transfer through ${target.url}: HTTP ${res.statusCode} ${answer.slice(0, 300)}`));
        else resolve(performance.now() - started);
      });
    });
    req.on('error', reject);
    let sent = 0;
    const write = () => {
      while (sent < bytes) {
        const n = Math.min(chunk.length, bytes - sent);
        sent += n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void req.once('drain', write);
      }
      req.end();
    };
    write();
  });
}

async function largeTransfer(name: TargetName, target: BenchTarget, bytes: number): Promise<LargeTransfer> {
  await new Promise((r) => setTimeout(r, 1000)); // let the load's garbage be collected before idle is taken
  const idle = { consumer: rssOf(target.pids.consumer), provider: rssOf(target.pids.provider) };
  const sampler = rssSampler(target.pids, 50);
  const ms = await sendLarge(target, bytes);
  return { target: name, bytes, mbPerSecond: bytes / MB / (ms / 1000), idleRssMb: mb(idle), peakRssMb: mb(sampler.stop()) };
}

/**
 * The reference proxy chain and our gateway pair, both on one network in this run, driven by
 * the same load generator with the same bodies; rounds alternate between them so a slow
 * moment of the machine hits both. Then the pair again with batch signing off, and a large
 * streamed body through each.
 */
export async function benchGatewayPair(o: GatewayBenchOptions): Promise<GatewayBenchResult> {
  const network = await BenchNetwork.start(o.workDir);
  const targets: BenchTarget[] = [];
  const started = async (t: Promise<BenchTarget>) => {
    const target = await t;
    targets.push(target);
    return target;
  };
  try {
    const reference = await started(network.referenceChain());
    const ours = await started(network.gatewayPair({}, o.profileDir));
    // The JIT needs several seconds of traffic before rates settle; this first warm-up is not counted.
    for (const target of [reference, ours]) await warmUp(target, o.bodySizes, o.connections, o.warmUpSeconds);
    const size = o.bodySizes[0]!;
    const [refAlone, oursAlone] = [await round(reference, Buffer.alloc(size, 0x61), 1, o.seconds, network.echoPid), await round(ours, Buffer.alloc(size, 0x61), 1, o.seconds, network.echoPid)];
    const unloaded: UnloadedLatency = {
      bodyBytes: size,
      reference: { p50Ms: refAlone!.p50Ms!, p99Ms: refAlone!.p99Ms! },
      gateways: { p50Ms: oursAlone!.p50Ms!, p99Ms: oursAlone!.p99Ms! },
      addedP50Ms: oursAlone!.p50Ms! - refAlone!.p50Ms!,
      addedP99Ms: oursAlone!.p99Ms! - refAlone!.p99Ms!,
    };
    o.onProgress?.(`one connection, ${size / 1024} KiB: p99 ${unloaded.reference.p99Ms} ms reference, ${unloaded.gateways.p99Ms} ms gateways`);
    const rows: LoadRow[] = [];
    const referenceSeries = new Map<number, Series>();
    for (const size of o.bodySizes) {
      const body = Buffer.alloc(size, 0x61);
      const ref: Series = { rounds: [], peak: {} };
      const gw: Series = { rounds: [], peak: {} };
      for (let r = 0; r < o.rounds; r++) {
        for (const [target, series] of [
          [reference, ref],
          [ours, gw],
        ] as const) {
          const sampler = rssSampler(target.pids);
          series.rounds.push(await round(target, body, o.connections, o.seconds, network.echoPid));
          o.onProgress?.(`${target === reference ? 'reference' : 'gateways'}, ${size / 1024} KiB, round ${r + 1}: ${Math.round(series.rounds.at(-1)!.perSecond)}/s`);
          for (const [k, v] of Object.entries(sampler.stop())) series.peak[k] = Math.max(series.peak[k] ?? 0, v);
        }
      }
      referenceSeries.set(size, ref);
      rows.push(row('reference', size, ref), row('gateways', size, gw, ref));
    }
    const large: LargeTransfer[] = [];
    if (o.largeBytes > 0) {
      for (const [name, target] of [
        ['reference', reference],
        ['gateways', ours],
      ] as const) {
        large.push(await largeTransfer(name, target, o.largeBytes));
        o.onProgress?.(`${name}, one ${o.largeBytes / MB} MiB body: ${large.at(-1)!.mbPerSecond.toFixed(0)} MB/s`);
      }
    }
    await ours.stop();
    targets.splice(targets.indexOf(ours), 1);

    const unbatched = await started(network.gatewayPair({ signing: { batching: false } }));
    await warmUp(unbatched, o.bodySizes, o.connections, o.warmUpSeconds);
    for (const size of o.bodySizes) {
      const body = Buffer.alloc(size, 0x61);
      const series: Series = { rounds: [], peak: {} };
      const sampler = rssSampler(unbatched.pids);
      for (let r = 0; r < o.rounds; r++) {
        series.rounds.push(await round(unbatched, body, o.connections, o.seconds, network.echoPid));
        o.onProgress?.(`gateways with batch signing off, ${size / 1024} KiB, round ${r + 1}: ${Math.round(series.rounds.at(-1)!.perSecond)}/s`);
      }
      Object.assign(series.peak, sampler.stop());
      rows.push(row('gateways, batch signing off', size, series, referenceSeries.get(size)));
    }
    return { rows, unloaded, large };
  } finally {
    await Promise.all(targets.map((t) => t.stop()));
    await network.stop();
  }
}
