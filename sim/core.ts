import { existsSync, readFileSync } from 'node:fs';
import { CentralAdminClient } from '../central/admin-client.js';
import { hostName, isLoopbackHost } from '../common/console/host-check.js';
import { initCentral, startCentral, updateCentralAddresses, type RunningCentral } from '../central/central.js';
import { centralLayout, readCentralSettings, writeCentralSettings, type CentralSettings } from '../central/settings.js';
import { initPki } from '../certs/hierarchy.js';
import { pkiLayout } from '../certs/layout.js';
import { loadOnlinePki, type OnlinePki } from '../certs/online.js';
import { readSettings } from '../certs/settings.js';
import { startPkiServer, type RunningPki } from '../certs/server.js';
import { baseUrl } from '../common/http.js';
import { freePort } from '../common/ports.js';
import type { Logger } from '../common/log.js';
import { ensureConsoleAdmin } from './console-admin.js';
import type { ProvisionContext } from './provision.js';
import { SIMULATION_CENTRAL_TIMINGS, type CentralTimings } from './timings.js';

export interface CoreOptions {
  readonly stateDir: string;
  /** Address to bind. */
  readonly host: string;
  /** 0 picks free ports. */
  readonly pkiPort: number;
  readonly centralPort: number;
  /** Central's console listener (0 picks a free port). */
  readonly consolePort?: number;
  /** `Host` names central's console answers besides loopback (compose: `central`). */
  readonly consoleHostNames?: readonly string[];
  readonly log: Logger;
  readonly rootPassphrase?: string;
  readonly central?: Partial<CentralSettings>;
  /** Central's timings, set at every start (default: the simulation's, sim/timings.ts). */
  readonly timings?: CentralTimings;
  /** Names others reach the services by, when not the bound address (containers). */
  readonly publicHosts?: { readonly pki: string; readonly central: string };
}

export interface RunningPkiPart {
  readonly pki: OnlinePki;
  readonly server: RunningPki;
  /** The URL in certificates (OCSP) and in central's settings. */
  readonly publicUrl: string;
  stop(): Promise<void>;
}

/**
 * Creates the PKI on the first run and serves it. The public URL is fixed at creation (it is
 * inside every certificate as the OCSP address), so a later start on another address is refused.
 */
export async function startPkiPart(o: Pick<CoreOptions, 'stateDir' | 'host' | 'pkiPort' | 'log' | 'rootPassphrase' | 'publicHosts'>): Promise<RunningPkiPart> {
  const port = o.pkiPort || (await freePort(o.host));
  const publicUrl = baseUrl(o.publicHosts?.pki ?? o.host, port);
  const settingsFile = pkiLayout(o.stateDir).settings;
  if (existsSync(settingsFile) && readSettings(settingsFile).publicUrl !== publicUrl) {
    throw new Error(
      `the PKI in ${o.stateDir} was created at ${readSettings(settingsFile).publicUrl} (its certificates name that OCSP address); start on the same ports, or delete the state directory to start over`,
    );
  }
  initPki({ stateDir: o.stateDir, settings: { publicUrl }, ...(o.rootPassphrase ? { rootPassphrase: o.rootPassphrase } : {}), log: o.log });
  const pki = loadOnlinePki(o.stateDir);
  const server = await startPkiServer(pki, { host: o.host, port, log: o.log });
  return {
    pki,
    server,
    publicUrl,
    stop: async () => {
      await server.close();
      pki.close();
    },
  };
}

export interface RunningCentralPart {
  readonly central: RunningCentral;
  readonly admin: CentralAdminClient;
  readonly provision: ProvisionContext;
  stop(): Promise<void>;
}

/**
 * Creates central on the first run (simulation mode: management requests approved as they
 * verify), follows address changes, sets the timings, serves it, and approves the PKI's CAs and TSA.
 */
export async function startCentralPart(
  o: Pick<CoreOptions, 'stateDir' | 'host' | 'centralPort' | 'consolePort' | 'consoleHostNames' | 'log' | 'central' | 'timings' | 'publicHosts'> & {
    /** Where central reads the PKI's admin token, if not in the PKI's own directory (a container sees only its own volume). */
    readonly pkiAdminTokenFile?: string;
  },
  pkiUrl: string,
): Promise<RunningCentralPart> {
  const port = o.centralPort || (await freePort(o.host));
  const consolePort = o.consolePort || (await freePort(o.host));
  const centralHost = o.publicHosts?.central ?? o.host;
  // The console answers to loopback names, and to the name its printed URL carries (`npm start --host 192.0.2.10`).
  const hostNames = [...new Set([...(o.consoleHostNames ?? []), hostName(centralHost)])].filter((h) => !isLoopbackHost(h));
  const addresses = {
    publicUrl: baseUrl(centralHost, port),
    consoleUrl: baseUrl(centralHost, consolePort),
    ...(hostNames.length ? { console: { hostNames } } : {}),
    pki: { url: pkiUrl, adminTokenFile: o.pkiAdminTokenFile ?? pkiLayout(o.stateDir).adminToken },
  };
  initCentral(o.stateDir, { ...addresses, autoApprove: true, ...o.central });
  updateCentralAddresses(o.stateDir, addresses);
  applyCentralTimings(o.stateDir, o.timings ?? SIMULATION_CENTRAL_TIMINGS);
  const central = await startCentral({ stateDir: o.stateDir, host: o.host, port, console: { port: consolePort }, log: o.log });
  const cl = centralLayout(o.stateDir);
  const admin = new CentralAdminClient(central.consoleUrl, readFileSync(cl.adminToken, 'utf8').trim(), 'simulation');
  await admin.call('POST', '/approved/from-pki');
  await ensureConsoleAdmin(o.stateDir, admin);
  return { central, admin, provision: { central: admin, centralUrl: central.url, pkiUrl, anchorFile: cl.anchor }, stop: () => central.stop() };
}

/**
 * Writes the timings into central's settings when they differ. At every start, not only at
 * creation, as gateway.yaml is rewritten at every start: a state directory made before the
 * simulation had its own timings gets them too.
 */
function applyCentralTimings(stateDir: string, timings: CentralTimings): void {
  const file = centralLayout(stateDir).settings;
  const current = readCentralSettings(file);
  const next: CentralSettings = { ...current, ...timings };
  if (JSON.stringify(next) !== JSON.stringify(current)) writeCentralSettings(file, next);
}

/** The trust infrastructure every network needs: the PKI and the central server, in this process. */
export interface RunningCore {
  readonly pki: OnlinePki;
  readonly pkiServer: RunningPki;
  readonly central: RunningCentral;
  readonly admin: CentralAdminClient;
  readonly provision: ProvisionContext;
  stop(): Promise<void>;
}

export async function startCore(o: CoreOptions): Promise<RunningCore> {
  const pki = await startPkiPart(o);
  try {
    const central = await startCentralPart(o, pki.publicUrl);
    return {
      pki: pki.pki,
      pkiServer: pki.server,
      central: central.central,
      admin: central.admin,
      provision: central.provision,
      stop: async () => {
        await central.stop();
        await pki.stop();
      },
    };
  } catch (err) {
    await pki.stop();
    throw err;
  }
}
