import { join } from 'node:path';
import { spawnCamdx, type ChildService } from '../common/child.js';
import { GATEWAY_NODE_ARGS } from '../gateway/heap.js';
import { ensureDir } from '../common/files.js';
import type { Logger } from '../common/log.js';
import { pkiLayout } from '../certs/layout.js';
import { centralLayout } from '../central/settings.js';
import { consolePasswordFile, SIM_CONSOLE_ADMIN } from './console-admin.js';
import { startCore, type RunningCore } from './core.js';
import { startDemoBank } from './demo-bank.js';
import { demoBankClient, loopback, provisionNetwork, type ProvisionedNetwork } from './network.js';
import { exampleCalls } from './examples.js';
import { networkFilePath, readNetworkFile, removeNetworkFile, writeNetworkFile } from './network-file.js';
import { checkPortPlan, portPlan } from './port-plan.js';
import { writePrometheusFile } from './prometheus-file.js';
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

/** The state directory already serves a running network: nothing was started. */
export class AlreadyRunningError extends Error {}

/** A second network on the same state directory would rewrite the first one's gateway configurations under it. */
function refuseIfRunning(stateDir: string): void {
  const running = readNetworkFile(stateDir);
  if (!running || running.pid === process.pid) return;
  throw new AlreadyRunningError(
    `a network is already running from the state directory ${stateDir} (pid ${running.pid}, since ${running.startedAt}); nothing was started. Stop it ` +
      `first, or give this one its own CAMDX_STATE_DIR (if pid ${running.pid} is not camdx, delete ${networkFilePath(stateDir)})`,
  );
}

/**
 * Brings the default network up from the state directory, provisioning what is missing: PKI and
 * central in this process, then each member's gateway, CamDigiKey and MOI as their own
 * processes, and Demo Bank's web site (the QR-login demo) here. Every port is checked first
 * (PortClashError, nothing started; AlreadyRunningError for a state directory in use); once all is up, `<stateDir>/network.json` says where the
 * network is and `<stateDir>/prometheus.yml` how to scrape it.
 */
export async function startSimulation(o: SimulationOptions): Promise<RunningSimulation> {
  const base = simPorts(o.portOffset);
  const ports: SimPorts = { ...base, pki: o.pkiPort ?? base.pki, central: o.centralPort ?? base.central };
  refuseIfRunning(o.stateDir);
  await checkPortPlan(portPlan(ports), o.host);
  const logs = ensureDir(join(o.stateDir, 'logs'), 0o700);
  const t0 = Date.now();
  const phase = (name: string) => o.log.info({ ms: Date.now() - t0 }, `simulation: ${name}`);
  const core: RunningCore = await startCore({
    stateDir: o.stateDir,
    host: o.host,
    pkiPort: ports.pki,
    centralPort: ports.central,
    consolePort: ports.centralConsole,
    log: o.log,
    ...(o.rootPassphrase ? { rootPassphrase: o.rootPassphrase } : {}),
  });
  const children: ChildService[] = [];
  const stoppers: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    removeNetworkFile(o.stateDir);
    await Promise.allSettled(stoppers.splice(0).map((s) => s()));
    await Promise.allSettled(children.splice(0).map((c) => c.stop()));
    await core.stop();
  };
  try {
    phase('PKI and central up');
    const network = await provisionNetwork(core.provision, { stateDir: o.stateDir, addressing: loopback(o.host), ports });
    phase('network provisioned');
    const global = ['--state-dir', o.stateDir];
    const spawn = async (name: string, args: string[], ready: RegExp, nodeArgs: readonly string[] = []) => {
      const child = await spawnCamdx([...global, ...args], ready, { logFile: join(logs, `${name}.log`), timeoutMs: 60_000, nodeArgs });
      children.push(child);
      return child;
    };
    await Promise.all([
      ...MEMBERS.map((m) => spawn(`gateway-${m.key}`, ['gateway', 'run', '--config', network.gateways[m.key].config], /gateway \S+ ready/, GATEWAY_NODE_ARGS)),
      spawn(
        'camdigikey',
        [
          'camdigikey',
          'serve',
          '--host',
          o.host,
          '--http-port',
          String(ports.camdigikeyHttp),
          '--https-port',
          String(ports.camdigikeyHttps),
          '--web-url',
          network.camdigikey.webUrl,
          '--pki-url',
          core.pkiServer.url,
        ],
        /CamDigiKey ready/,
      ),
      spawn('moi', ['moi', 'serve', '--host', o.host, '--port', String(ports.moi)], /MOI Open KYC listening/),
    ]);
    phase('gateways and providers up');
    const demoBank = await startDemoBank({ ...demoBankClient(network), host: o.host, port: ports.demoBank, log: o.log });
    stoppers.push(demoBank.stop);

    const gw = network.gateways;
    const files = writeRunningFiles(o, ports, core, network);
    return {
      ports,
      network,
      endpoints: [
        { name: 'Central console', url: `${core.central.consoleUrl}/console` },
        { name: 'Dashboard', url: `${core.central.consoleUrl}/dashboard` },
        { name: 'API catalogue', url: `${core.central.consoleUrl}/catalogue` },
        { name: 'Central admin API', url: `${core.central.consoleUrl}/api` },
        { name: 'Central server (public)', url: core.central.url },
        { name: 'Global configuration', url: `${core.central.url}/globalconf` },
        { name: 'PKI (CAs, RA, OCSP, TSA)', url: core.pkiServer.url },
        ...MEMBERS.map((m) => ({ name: `${m.key.toUpperCase()} gateway (${clientOf(m)})`, url: gw[m.key].consumerUrl })),
        { name: 'Gateway metrics', url: MEMBERS.map((m) => `${gw[m.key].adminUrl}/metrics`).join('  ') },
        { name: 'Gateway console APIs', url: MEMBERS.map((m) => `${gw[m.key].consoleUrl}/api/v1`).join('  ') },
        { name: 'CamDigiKey (web, gateway API)', url: network.camdigikey.webUrl },
        { name: 'CamDigiKey (mTLS API)', url: network.camdigikey.httpsUrl },
        { name: 'MOI Open KYC (provider)', url: network.moiUrl },
        { name: 'Demo Bank (QR-login demo)', url: network.demoBankOrigin },
      ],
      notes: [
        `console sign-in: user ${SIM_CONSOLE_ADMIN}, password in ${consolePasswordFile(o.stateDir)}`,
        `central admin token (scripts, camdx central …): ${centralLayout(o.stateDir).adminToken}`,
        `PKI admin token: ${pkiLayout(o.stateDir).adminToken}`,
        `demo CamDigiKey service account (CAMDIGIKEY_* env): ${network.camdigikey.envFile}`,
        `gateway configurations: ${join(o.stateDir, 'sim', '<member>', 'gateway.yaml')}`,
        `gateway admin tokens (console APIs /api/v1: records, OCSP refresh, key reload): ${join(o.stateDir, 'sim', '<member>', 'admin-token')}`,
        `where this network is (acl-test, fault, pki, central and log read it): ${files.network}`,
        `Prometheus configuration for these ports: ${files.prometheus}`,
      ],
      examples: exampleCalls(network),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** network.json (removed again by stop) and prometheus.yml, for the ports the network really runs on. */
function writeRunningFiles(o: SimulationOptions, ports: SimPorts, core: RunningCore, network: ProvisionedNetwork): { network: string; prometheus: string } {
  const gateways = Object.fromEntries(
    MEMBERS.map((m) => {
      const g = network.gateways[m.key];
      return [m.key, { member: m.member, client: clientOf(m), consumerUrl: g.consumerUrl, adminUrl: g.adminUrl, consoleUrl: g.consoleUrl, config: g.config }];
    }),
  );
  writeNetworkFile(o.stateDir, {
    host: o.host,
    portOffset: o.portOffset,
    ports,
    urls: {
      central: core.central.url,
      pki: core.pkiServer.url,
      console: core.central.consoleUrl,
      dashboard: `${core.central.consoleUrl}/dashboard`,
      camdigikey: network.camdigikey.webUrl,
      moi: network.moiUrl,
      demoBank: network.demoBankOrigin,
    },
    gateways,
  });
  const prometheus = writePrometheusFile(o.stateDir, { centralUrl: core.central.consoleUrl, gateways: MEMBERS.map((m) => ({ member: m.member, adminUrl: network.gateways[m.key].adminUrl })) });
  return { network: networkFilePath(o.stateDir), prometheus };
}
