import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnCamdx, type ChildService } from '../common/child.js';
import { freePort } from '../common/ports.js';
import { silentLogger } from '../common/log.js';
import { pkiLayout } from '../certs/layout.js';
import type { RawGatewayConfig } from '../gateway/config.js';
import { POOL_SIZE } from '../gateway/consumer/pools.js';
import { GATEWAY_NODE_ARGS } from '../gateway/heap.js';
import { startCore, type RunningCore } from '../sim/core.js';
import { provisionGateway, type GatewaySpec } from '../sim/provision.js';
import { X_ROAD_CENTRAL_TIMINGS } from '../sim/timings.js';

export const BENCH_CLIENT = 'CAMDX/COM/BENCHBANK/CLIENT';
export const BENCH_SERVICE = 'CAMDX/GOV/BENCHGOV/API/echo';

/** Something under load: the URL the load generator calls and the processes whose memory is watched. */
export interface BenchTarget {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly pids: { readonly consumer: number; readonly provider: number };
  /** Where the processes' logs go, if anywhere. */
  readonly logs?: string;
  /** Prometheus endpoints of the two processes, if they have them. */
  readonly metrics?: { readonly consumer: string; readonly provider: string };
  stop(): Promise<void>;
}

/**
 * The bench network: PKI and central in this process, an echo service, and two provisioned
 * members (a consumer bank and a provider ministry whose `echo` service the bank may call).
 * Gateway pairs with different settings, and the reference proxy chain, are started on it.
 */
export class BenchNetwork {
  private constructor(
    private readonly stateDir: string,
    private readonly core: RunningCore,
    private readonly echo: ChildService,
    private readonly specs: { provider: GatewaySpec; consumer: GatewaySpec },
  ) {}

  static async start(workDir: string): Promise<BenchNetwork> {
    const stateDir = join(workDir, 'gateway-network');
    rmSync(stateDir, { recursive: true, force: true });
    // X-Road's timings, not the simulation's: the bench measures what production would do.
    const core = await startCore({ stateDir, host: '127.0.0.1', pkiPort: 0, centralPort: 0, log: silentLogger, timings: X_ROAD_CENTRAL_TIMINGS });
    try {
      const echo = await spawnCamdx(['echo', '--port', '0', '--mirror'], /listening on (http:\S+)/);
      const spec = async (member: string, name: string, subsystem: string, services?: GatewaySpec['services']): Promise<GatewaySpec> => ({
        member,
        name,
        serverCode: 'SS1',
        subsystems: [subsystem],
        host: '127.0.0.1',
        ports: { consumer: await freePort(), peer: await freePort(), admin: await freePort() },
        ...(services ? { services } : {}),
      });
      const provider = await spec('CAMDX/GOV/BENCHGOV', 'Bench Ministry', 'API', { [BENCH_SERVICE]: { url: echo.ready[1]!, endpoints: [{ method: 'POST', path: '/**' }] } });
      // The load generator is a demo client: plain HTTP, as the reference proxy is called.
      const consumer = { ...(await spec('CAMDX/COM/BENCHBANK', 'Bench Bank', 'CLIENT')), plainHttpClients: true };
      const network = new BenchNetwork(stateDir, core, echo, { provider, consumer });
      await network.provision({});
      await core.admin.call('POST', '/access-rights', { subject: BENCH_CLIENT, service: BENCH_SERVICE, method: 'POST', path: '/**' });
      return network;
    } catch (err) {
      await core.stop();
      throw err;
    }
  }

  /** The echo service's process: its CPU counts in every exchange, ours and the reference's. */
  get echoPid(): number {
    return this.echo.process.pid!;
  }

  private dir(spec: GatewaySpec): string {
    return join(this.stateDir, 'gateways', spec.member.split('/')[2]!);
  }

  private async provision(extra: Partial<RawGatewayConfig>): Promise<string[]> {
    const configs: string[] = [];
    for (const spec of [this.specs.provider, this.specs.consumer]) {
      mkdirSync(this.dir(spec), { recursive: true });
      configs.push(await provisionGateway(this.core.provision, { ...spec, extraConfig: { log: { level: 'warn' }, ...extra } }, this.dir(spec)));
    }
    return configs;
  }

  /** Consumer gateway → provider gateway → echo, each gateway its own process, everything on. */
  async gatewayPair(extra: Partial<RawGatewayConfig>, profileDir?: string): Promise<BenchTarget> {
    const configs = await this.provision(extra);
    const logs = join(this.stateDir, 'gateway-logs');
    mkdirSync(logs, { recursive: true });
    const [provider, consumer] = await Promise.all(
      configs.map((c, i) =>
        spawnCamdx(['gateway', 'run', '--config', c], /ready/, {
          logFile: join(logs, `${i ? 'consumer' : 'provider'}.log`),
          nodeArgs: [...GATEWAY_NODE_ARGS, ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])],
        }),
      ),
    );
    return {
      url: `http://127.0.0.1:${this.specs.consumer.ports.consumer}/r1/${BENCH_SERVICE}/bench`,
      headers: { 'x-road-client': BENCH_CLIENT },
      logs,
      metrics: { consumer: `http://127.0.0.1:${this.specs.consumer.ports.admin}/metrics`, provider: `http://127.0.0.1:${this.specs.provider.ports.admin}/metrics` },
      pids: { consumer: consumer!.process.pid!, provider: provider!.process.pid! },
      stop: async () => void (await Promise.all([consumer!.stop(), provider!.stop()])),
    };
  }

  /**
   * The reference: two minimal proxies with mutual TLS between them, using the gateways' own
   * authentication keys (so the same key type and handshake) and a pool of the same size.
   */
  async referenceChain(): Promise<BenchTarget> {
    const layout = pkiLayout(this.stateDir);
    const caFile = join(this.stateDir, 'reference-ca.pem');
    writeFileSync(caFile, readFileSync(layout.caCert('root-ca'), 'utf8') + readFileSync(layout.caCert('camdx-ca'), 'utf8'));
    const proxy = (role: string, target: string, spec: GatewaySpec) =>
      spawnCamdx(
        ['reference-proxy', '--role', role, '--target', target, '--keystore', join(this.dir(spec), 'auth.p12'), '--ca', caFile, '--max-sockets', String(POOL_SIZE)],
        /listening on (https?:\S+)/,
      );
    const back = await proxy('back', this.echo.ready[1]!, this.specs.provider);
    const front = await proxy('front', back.ready[1]!, this.specs.consumer).catch(async (err) => {
      await back.stop();
      throw err;
    });
    return {
      url: `${front.ready[1]}/bench`,
      headers: {},
      pids: { consumer: front.process.pid!, provider: back.process.pid! },
      stop: async () => void (await Promise.all([front.stop(), back.stop()])),
    };
  }

  async stop(): Promise<void> {
    await this.echo.stop();
    await this.core.stop();
  }
}
