import { join } from 'node:path';
import { spawnCamdx, type ChildService } from '../common/child.js';
import { ensureDir } from '../common/files.js';
import type { Logger } from '../common/log.js';
import { pkiLayout } from '../certs/layout.js';
import { centralLayout } from '../central/settings.js';
import { startCore, type RunningCore } from './core.js';
import { startDemoBank } from './demo-bank.js';
import { demoBankClient, loopback, provisionNetwork, type ProvisionedNetwork } from './network.js';
import { exampleCalls } from './examples.js';
import { clientOf, MEMBERS, simPorts, type SimPorts } from './topology.js';

export interface SimulationOptions {
  readonly stateDir: string;
  readonly host: string;
  /** Added to every default port (sim/topology.ts). */
  readonly portOffset: number;
  readonly pkiPort?: number;
  readonly centralPort?: number;
  readonly log: Logger;
  readonly rootPassphrase?: string;
}

export interface Endpoint {
  readonly name: string;
  readonly url: string;
}

export interface RunningSimulation {
  readonly ports: SimPorts;
  readonly endpoints: readonly Endpoint[];
  readonly notes: readonly string[];
  /** Ready-to-paste commands: an allowed call, a denied call. */
  readonly examples: readonly string[];
  readonly network: ProvisionedNetwork;
  stop(): Promise<void>;
}

/**
 * Brings the default network up from the state directory, provisioning what is missing: PKI and
 * central in this process, then each member's gateway, CamDigiKey and MOI as their own
 * processes, and Demo Bank's web site (the QR-login demo) here.
 */
export async function startSimulation(o: SimulationOptions): Promise<RunningSimulation> {
  const base = simPorts(o.portOffset);
  const ports: SimPorts = { ...base, pki: o.pkiPort ?? base.pki, central: o.centralPort ?? base.central };
  const logs = ensureDir(join(o.stateDir, 'logs'), 0o700);
  const t0 = Date.now();
  const phase = (name: string) => o.log.info({ ms: Date.now() - t0 }, `simulation: ${name}`);
  const core: RunningCore = await startCore({ stateDir: o.stateDir, host: o.host, pkiPort: ports.pki, centralPort: ports.central, log: o.log, ...(o.rootPassphrase ? { rootPassphrase: o.rootPassphrase } : {}) });
  const children: ChildService[] = [];
  const stoppers: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    await Promise.allSettled(stoppers.splice(0).map((s) => s()));
    await Promise.allSettled(children.splice(0).map((c) => c.stop()));
    await core.stop();
  };
  try {
    phase('PKI and central up');
    const network = await provisionNetwork(core.provision, { stateDir: o.stateDir, addressing: loopback(o.host), ports });
    phase('network provisioned');
    const global = ['--state-dir', o.stateDir];
    const spawn = async (name: string, args: string[], ready: RegExp) => {
      const child = await spawnCamdx([...global, ...args], ready, { logFile: join(logs, `${name}.log`), timeoutMs: 60_000 });
      children.push(child);
      return child;
    };
    await Promise.all([
      ...MEMBERS.map((m) => spawn(`gateway-${m.key}`, ['gateway', 'run', '--config', network.gateways[m.key].config], /gateway \S+ ready/)),
      spawn('camdigikey', ['camdigikey', 'serve', '--host', o.host, '--http-port', String(ports.camdigikeyHttp), '--https-port', String(ports.camdigikeyHttps), '--web-url', network.camdigikey.webUrl, '--pki-url', core.pkiServer.url], /CamDigiKey ready/),
      spawn('moi', ['moi', 'serve', '--host', o.host, '--port', String(ports.moi)], /MOI Open KYC listening/),
    ]);
    phase('gateways and providers up');
    const demoBank = await startDemoBank({ ...demoBankClient(network), host: o.host, port: ports.demoBank, log: o.log });
    stoppers.push(demoBank.stop);

    const gw = network.gateways;
    return {
      ports,
      network,
      endpoints: [
        { name: 'Dashboard', url: `${core.central.url}/dashboard` },
        { name: 'Central server', url: core.central.url },
        { name: 'Central admin API', url: `${core.central.url}/api` },
        { name: 'Global configuration', url: `${core.central.url}/globalconf` },
        { name: 'PKI (CAs, RA, OCSP, TSA)', url: core.pkiServer.url },
        ...MEMBERS.map((m) => ({ name: `${m.key.toUpperCase()} gateway (${clientOf(m)})`, url: gw[m.key].consumerUrl })),
        { name: 'Gateway metrics', url: MEMBERS.map((m) => `${gw[m.key].adminUrl}/metrics`).join('  ') },
        { name: 'CamDigiKey (web, gateway API)', url: network.camdigikey.webUrl },
        { name: 'CamDigiKey (mTLS API)', url: network.camdigikey.httpsUrl },
        { name: 'MOI Open KYC (provider)', url: network.moiUrl },
        { name: 'Demo Bank (QR-login demo)', url: network.demoBankOrigin },
      ],
      notes: [
        `central admin token: ${centralLayout(o.stateDir).adminToken}`,
        `PKI admin token: ${pkiLayout(o.stateDir).adminToken}`,
        `demo CamDigiKey service account (CAMDIGIKEY_* env): ${network.camdigikey.envFile}`,
        `gateway configurations: ${join(o.stateDir, 'sim', '<member>', 'gateway.yaml')}`,
        `gateway admin tokens (/records, POST /ocsp/refresh): ${join(o.stateDir, 'sim', '<member>', 'admin-token')}`,
      ],
      examples: exampleCalls(network),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
