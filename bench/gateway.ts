import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { spawnCamdx, type ChildService } from '../common/child.js';
import { freePort } from '../common/http.js';
import { silentLogger } from '../common/log.js';
import { startCore } from '../sim/core.js';
import { provisionGateway, type GatewaySpec } from '../sim/provision.js';
import { rssSampler } from './rss.js';
import { summarise, type Rate, type RoundsSummary } from './measure.js';

export interface GatewayBenchOptions {
  readonly workDir: string;
  readonly rounds: number;
  readonly seconds: number;
  readonly connections: number;
  readonly bodySizes: readonly number[];
  /** Write V8 CPU profiles of the gateways here (`--cpu-prof`). */
  readonly profileDir?: string;
}

export interface GatewayBenchRow {
  readonly bodyBytes: number;
  readonly rate: RoundsSummary;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly peakRssMb: { consumer: number; provider: number };
}

const CLIENT = 'CAMDX/COM/BENCHBANK/CLIENT';
const SERVICE = 'CAMDX/GOV/BENCHGOV/API/echo';

async function spec(member: string, name: string, subsystem: string, services?: GatewaySpec['services']): Promise<GatewaySpec> {
  return {
    member,
    name,
    serverCode: 'SS1',
    subsystems: [subsystem],
    host: '127.0.0.1',
    ports: { consumer: await freePort(), peer: await freePort(), admin: await freePort() },
    extraConfig: { log: { level: 'warn' } },
    ...(services ? { services } : {}),
  };
}

/** Load on one URL for `seconds`, after a warm-up that is not counted. */
async function load(url: string, body: Buffer, connections: number, seconds: number): Promise<Rate> {
  const options = { url, method: 'POST' as const, body, headers: { 'x-road-client': CLIENT, 'content-type': 'application/octet-stream' }, connections, duration: seconds };
  await autocannon({ ...options, duration: 2 });
  const result = await autocannon(options);
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${result.non2xx} non-2xx answers and ${result.errors} errors under load`);
  return { perSecond: result.requests.average, p50Ms: result.latency.p50, p99Ms: result.latency.p99 };
}

/**
 * Requests/s and latency through a consumer gateway → provider gateway → echo service, each
 * gateway its own process, with everything on: signing, verification, OCSP, access rights,
 * the message log.
 */
export async function benchGatewayPair(o: GatewayBenchOptions): Promise<GatewayBenchRow[]> {
  const stateDir = join(o.workDir, 'gateway-network');
  rmSync(stateDir, { recursive: true, force: true });
  const core = await startCore({ stateDir, host: '127.0.0.1', pkiPort: 0, centralPort: 0, log: silentLogger });
  const children: ChildService[] = [];
  try {
    const echo = await spawnCamdx(['echo', '--port', '0'], /listening on (http:\S+)/);
    children.push(echo);
    const provider = await spec('CAMDX/GOV/BENCHGOV', 'Bench Ministry', 'API', { [SERVICE]: { url: echo.ready[1]!, endpoints: [{ method: 'POST', path: '/**' }] } });
    const consumer = await spec('CAMDX/COM/BENCHBANK', 'Bench Bank', 'CLIENT');
    const configs = [];
    for (const s of [provider, consumer]) {
      const dir = join(stateDir, 'gateways', s.member.split('/')[2]!);
      mkdirSync(dir, { recursive: true });
      configs.push(await provisionGateway(core.provision, s, dir));
    }
    await core.admin.call('POST', '/access-rights', { subject: CLIENT, service: SERVICE, method: 'POST', path: '/**' });
    const [providerGw, consumerGw] = await Promise.all(configs.map((c) => spawnCamdx(['gateway', 'run', '--config', c], /ready/, o.profileDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${o.profileDir}`] } : {})));
    children.push(providerGw!, consumerGw!);
    const pids = { consumer: consumerGw!.process.pid!, provider: providerGw!.process.pid! };
    const url = `http://127.0.0.1:${consumer.ports.consumer}/r1/${SERVICE}/bench`;
    const rows: GatewayBenchRow[] = [];
    for (const size of o.bodySizes) {
      const body = Buffer.alloc(size, 0x61);
      const sampler = rssSampler(pids);
      const rounds: Rate[] = [];
      for (let r = 0; r < o.rounds; r++) rounds.push(await load(url, body, o.connections, o.seconds));
      const peak = sampler.stop();
      const mid = [...rounds].sort((a, b) => a.perSecond - b.perSecond)[Math.floor(rounds.length / 2)]!;
      rows.push({ bodyBytes: size, rate: summarise(rounds), p50Ms: mid.p50Ms!, p99Ms: mid.p99Ms!, peakRssMb: { consumer: peak.consumer! / 2 ** 20, provider: peak.provider! / 2 ** 20 } });
    }
    return rows;
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await core.stop();
  }
}
