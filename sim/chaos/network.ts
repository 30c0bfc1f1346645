import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { spawnCamdx, type ChildService } from '../../common/child.js';
import { GATEWAY_NODE_ARGS } from '../../gateway/heap.js';
import { ensureDir } from '../../common/files.js';
import { claimPort, releasePort } from '../../common/ports.js';
import { centralLayout } from '../../central/settings.js';
import { pkiLayout } from '../../certs/layout.js';
import { networkLayout, loopback, type ProvisionedNetwork } from '../network.js';
import { checkPortPlan, portPlan } from '../port-plan.js';
import { MEMBERS, simPorts, type MemberNode, type SimPorts } from '../topology.js';
import type { KillWindow } from './records.js';

export type GatewayKey = MemberNode['key'];
export const GATEWAYS: readonly GatewayKey[] = MEMBERS.map((m) => m.key);

/** A process that ended without being told to: the chaos run's "crash". */
export interface Crash {
  readonly part: string;
  readonly at: number;
  readonly code: number | null;
  readonly signal: string | null;
}

/**
 * The default network, one part per process as `camdx node <role>` runs them (docker-compose's
 * roles, on loopback), so each gateway can be SIGKILLed and restarted alone while the rest runs.
 * Its own state directory and port offset; every planned port is checked and claimed first.
 */
export class ChaosNetwork {
  readonly ports: SimPorts;
  readonly layout: ProvisionedNetwork;
  readonly crashes: Crash[] = [];
  /** From a gateway's crash to its restart: exchanges then may be in doubt, as around a kill. */
  readonly crashWindows: KillWindow[] = [];
  private readonly restarts: Promise<void>[] = [];
  private stopping = false;
  private readonly parts = new Map<string, ChildService>();
  /** Parts this run is stopping or killing on purpose: their exit is no crash. */
  private readonly expected = new Set<string>();
  private readonly claimed: number[] = [];

  private constructor(
    readonly stateDir: string,
    readonly offset: number,
  ) {
    this.ports = simPorts(offset);
    this.layout = networkLayout(stateDir, loopback(), this.ports);
  }

  static async start(stateDir: string, offset: number): Promise<ChaosNetwork> {
    const net = new ChaosNetwork(stateDir, offset);
    const plan = portPlan(net.ports);
    await checkPortPlan(plan, '127.0.0.1');
    for (const p of plan) {
      if (!claimPort(p.port)) throw new Error(`port ${p.port} (${p.part}) is claimed by another camdx process; pick another --port-offset`);
      net.claimed.push(p.port);
    }
    try {
      ensureDir(join(stateDir, 'logs'), 0o700);
      // Provision makes the PKI's files, the PKI and central wait for them: all three at once.
      await Promise.all([net.node('provision', ['provision'], /provision done/), net.node('pki', ['pki'], /PKI ready/), net.node('central', ['central'], /central ready/)]);
      await Promise.all([...GATEWAYS.map((g) => net.startGateway(g)), net.node('camdigikey', ['camdigikey'], /CamDigiKey ready/), net.node('moi', ['moi'], /MOI Open KYC ready/)]);
      return net;
    } catch (err) {
      await net.stop();
      throw err;
    }
  }

  private async node(name: string, role: string[], ready: RegExp): Promise<void> {
    await this.spawn(name, ['node', ...role, '--addressing', 'loopback', '--port-offset', String(this.offset)], ready);
    // The one-shot provision role ends by itself.
    if (name === 'provision') this.expected.add(name);
  }

  private async spawn(name: string, args: string[], ready: RegExp, nodeArgs: readonly string[] = []): Promise<void> {
    const child = await spawnCamdx(['--state-dir', this.stateDir, ...args], ready, { logFile: join(this.stateDir, 'logs', `${name}.log`), timeoutMs: 120_000, nodeArgs });
    this.expected.delete(name);
    this.parts.set(name, child);
    child.process.once('exit', (code, signal) => {
      if (this.expected.has(name)) return;
      const at = Date.now();
      this.crashes.push({ part: name, at, code, signal });
      // A crashed gateway is counted, then brought back, so the rest of the run still measures something.
      const key = GATEWAYS.find((g) => name === `gateway-${g}`);
      if (key && !this.stopping) {
        this.parts.delete(name);
        this.restarts.push(
          this.startGateway(key).then(
            () => void this.crashWindows.push({ gateway: key, from: at, to: Date.now() }),
            () => undefined,
          ),
        );
      }
    });
  }

  startGateway(key: GatewayKey): Promise<void> {
    return this.spawn(`gateway-${key}`, ['gateway', 'run', '--config', this.layout.gateways[key].config], /gateway \S+ ready/, GATEWAY_NODE_ARGS);
  }

  pid(part: string): number | undefined {
    return this.parts.get(part)?.process.pid;
  }

  /** SIGKILL: no shutdown, no flush — what a crash or an OOM kill leaves. */
  async killGateway(key: GatewayKey): Promise<void> {
    await Promise.allSettled(this.restarts);
    const name = `gateway-${key}`;
    const child = this.parts.get(name);
    if (!child) return;
    this.expected.add(name);
    const exited = new Promise((resolve) => child.process.once('exit', resolve));
    child.process.kill('SIGKILL');
    await exited;
    this.parts.delete(name);
  }

  /** Resident memory of a running part, in MB (Linux /proc), or undefined. */
  rssMb(part: string): number | undefined {
    const pid = this.pid(part);
    if (!pid) return undefined;
    try {
      const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      return kb ? Number(kb) / 1024 : undefined;
    } catch {
      return undefined;
    }
  }

  messageLogPath(key: GatewayKey): string {
    return join(this.stateDir, 'sim', key, 'messagelog.db');
  }

  /** The simulated outages of `camdx fault`, through the same admin APIs. */
  async fault(service: 'tsa' | 'ocsp' | 'central', down: boolean): Promise<void> {
    const token = (file: string) => readFileSync(file, 'utf8').trim();
    const [url, file] =
      service === 'central'
        ? [`http://127.0.0.1:${this.ports.centralConsole}/api/faults`, centralLayout(this.stateDir).adminToken]
        : [`http://127.0.0.1:${this.ports.pki}/admin/faults/${service}`, pkiLayout(this.stateDir).adminToken];
    const body = Buffer.from(JSON.stringify(service === 'tsa' ? { down, delayMs: 0 } : { down }));
    const answer = await put(url, token(file), body);
    if (answer.status !== 200) throw new Error(`${service} fault switch answered HTTP ${answer.status}`);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled(this.restarts);
    for (const name of this.parts.keys()) this.expected.add(name);
    await Promise.allSettled([...this.parts.values()].map((c) => c.stop()));
    this.parts.clear();
    for (const port of this.claimed.splice(0)) releasePort(port);
  }
}

/** PUT with node:http (the fault switches take PUT). */
function put(url: string, token: string, body: Buffer): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': String(body.length) } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('fault switch: no answer within 10 s')));
    req.on('error', reject);
    req.end(body);
  });
}
