import http from 'node:http';
import autocannon from 'autocannon';
import { httpRate } from './measure.js';
import { medianRound, summarise, type Rate, type RoundsSummary } from './rounds.js';
import { BenchNetwork, type BenchTarget } from './network.js';
import { pssOf, pssSampler, rssOf, rssSampler } from './proc.js';

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

/** What the gateways add to the reference's latency at some number of connections, smallest body, over rounds. */
export interface AddedLatency {
  readonly connections: number;
  readonly bodyBytes: number;
  /** Medians over rounds (each round's p50 and p99), and the spread of the added p50 and p99 over rounds. */
  readonly reference: { p50Ms: number; p99Ms: number };
  readonly gateways: { p50Ms: number; p99Ms: number };
  readonly addedP50Ms: { median: number; min: number; max: number };
  readonly addedP99Ms: { median: number; min: number; max: number };
}

/** Resident and proportional set sizes of each process, idle (started, a few lone exchanges, settled; before any load) and at their peak under load, in MB. */
export interface MemoryFigures {
  readonly idle: { gateways: ProcessMemory; reference: ProcessMemory };
  readonly peak: { gateways: ProcessMemory; reference: ProcessMemory };
}

export interface ProcessMemory {
  readonly rssMb: { consumer: number; provider: number };
  readonly pssMb: { consumer: number; provider: number };
}

export interface GatewayBenchResult {
  /** Connections of the throughput rounds. */
  readonly connections: number;
  readonly rows: LoadRow[];
  readonly unloaded: UnloadedLatency;
  readonly latency: AddedLatency[];
  readonly memory: MemoryFigures;
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

/** The highest RSS each process reached over several series. */
function mergedPeak(series: readonly Series[]): Series {
  const peak: Record<string, number> = {};
  for (const s of series) for (const [k, v] of Object.entries(s.peak)) peak[k] = Math.max(peak[k] ?? 0, v);
  return { rounds: [], peak };
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

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const spreadOf = (values: readonly number[]) => ({ median: median(values), min: Math.min(...values), max: Math.max(...values) });

/** The added latency from pairs of rounds (reference, gateways) that saw the same machine state. */
function addedLatency(connections: number, bodyBytes: number, reference: readonly Rate[], gateways: readonly Rate[]): AddedLatency {
  const p = (rounds: readonly Rate[], k: 'p50Ms' | 'p99Ms') => rounds.map((r) => r[k]!);
  return {
    connections,
    bodyBytes,
    reference: { p50Ms: median(p(reference, 'p50Ms')), p99Ms: median(p(reference, 'p99Ms')) },
    gateways: { p50Ms: median(p(gateways, 'p50Ms')), p99Ms: median(p(gateways, 'p99Ms')) },
    addedP50Ms: spreadOf(gateways.map((g, i) => g.p50Ms! - reference[i]!.p50Ms!)),
    addedP99Ms: spreadOf(gateways.map((g, i) => g.p99Ms! - reference[i]!.p99Ms!)),
  };
}

/** Alternating rounds at a few connection counts, smallest body: latency, not throughput. */
async function latencyRounds(reference: BenchTarget, ours: BenchTarget, o: GatewayBenchOptions, echoPid: number, connections: readonly number[]): Promise<AddedLatency[]> {
  const size = o.bodySizes[0]!;
  const out: AddedLatency[] = [];
  for (const c of connections) {
    const ref: Rate[] = [];
    const gw: Rate[] = [];
    for (let r = 0; r < o.rounds; r++) {
      ref.push(await round(reference, Buffer.alloc(size, 0x61), c, o.seconds, echoPid));
      gw.push(await round(ours, Buffer.alloc(size, 0x61), c, o.seconds, echoPid));
    }
    out.push(addedLatency(c, size, ref, gw));
    o.onProgress?.(`${c} connection${c === 1 ? '' : 's'}, ${size / 1024} KiB: added p50 ${out.at(-1)!.addedP50Ms.median} ms, p99 ${out.at(-1)!.addedP99Ms.median} ms`);
  }
  return out;
}

/** Idle: started, a few lone exchanges through each (so the message path is loaded), then settled — before any load. */
async function idleMemory(reference: BenchTarget, ours: BenchTarget, bodyBytes: number): Promise<MemoryFigures['idle']> {
  for (const target of [reference, ours]) {
    await autocannon({ url: target.url, method: 'POST', body: Buffer.alloc(bodyBytes, 0x61), headers: { ...target.headers, 'content-type': 'application/octet-stream' }, connections: 1, amount: 10 });
  }
  await new Promise((r) => setTimeout(r, 2000));
  return { gateways: memoryOf(ours.pids), reference: memoryOf(reference.pids) };
}

const memoryOf = (pids: BenchTarget['pids']): ProcessMemory => ({
  rssMb: mb({ consumer: rssOf(pids.consumer), provider: rssOf(pids.provider) }),
  pssMb: mb({ consumer: pssOf(pids.consumer), provider: pssOf(pids.provider) }),
});

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
    const idle = await idleMemory(reference, ours, o.bodySizes[0]!);
    // The JIT needs several seconds of traffic before rates settle; this first warm-up is not counted.
    for (const target of [reference, ours]) await warmUp(target, o.bodySizes, o.connections, o.warmUpSeconds);
    const latency = await latencyRounds(reference, ours, o, network.echoPid, [1, 8]);
    const alone = latency[0]!;
    const unloaded: UnloadedLatency = {
      bodyBytes: alone.bodyBytes,
      reference: alone.reference,
      gateways: alone.gateways,
      addedP50Ms: alone.addedP50Ms.median,
      addedP99Ms: alone.addedP99Ms.median,
    };
    const rows: LoadRow[] = [];
    const referenceSeries = new Map<number, Series>();
    const gatewaySeries = new Map<number, Series>();
    const [referencePss, gatewaysPss]: Array<Record<string, number>> = [{}, {}];
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
          const pss = pssSampler(target.pids);
          series.rounds.push(await round(target, body, o.connections, o.seconds, network.echoPid));
          o.onProgress?.(`${target === reference ? 'reference' : 'gateways'}, ${size / 1024} KiB, round ${r + 1}: ${Math.round(series.rounds.at(-1)!.perSecond)}/s`);
          for (const [k, v] of Object.entries(sampler.stop())) series.peak[k] = Math.max(series.peak[k] ?? 0, v);
          const peakPss = target === reference ? referencePss : gatewaysPss;
          for (const [k, v] of Object.entries(pss.stop())) peakPss[k] = Math.max(peakPss[k] ?? 0, v);
        }
      }
      referenceSeries.set(size, ref);
      gatewaySeries.set(size, gw);
      rows.push(row('reference', size, ref), row('gateways', size, gw, ref));
    }
    // Under full load, from the throughput rounds of the smallest body.
    const smallest = o.bodySizes[0]!;
    latency.push(addedLatency(o.connections, smallest, referenceSeries.get(smallest)!.rounds, gatewaySeries.get(smallest)!.rounds));
    const peakOf = (series: Series, pss: Record<string, number>): ProcessMemory => ({ rssMb: mb(series.peak), pssMb: mb(pss) });
    const memory: MemoryFigures = {
      idle,
      peak: { gateways: peakOf(mergedPeak([...gatewaySeries.values()]), gatewaysPss), reference: peakOf(mergedPeak([...referenceSeries.values()]), referencePss) },
    };
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
    return { connections: o.connections, rows, unloaded, latency, memory, large };
  } finally {
    await Promise.all(targets.map((t) => t.stop()));
    await network.stop();
  }
}
