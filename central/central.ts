import { randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { limitConnections, listenerOptions } from '../common/listen.js';
import { writeFileAtomic, writeSecretFile } from '../common/files.js';
import { baseUrl, close, listen } from '../common/http.js';
import type { Logger } from '../common/log.js';
import { parseAnchor } from '../protocol/anchor.js';
import type { ScryptCost } from '../common/console/passwords.js';
import { createConsoleApp } from './console-app.js';
import { createPublicApp } from './public-app.js';
import { ServerMonitor, type MonitorOptions } from './dashboard/monitor.js';
import { CentralFaults } from './faults.js';
import { ConfPublisher } from './globalconf/publisher.js';
import { buildAnchor, createSigningKey, loadSigningKey } from './globalconf/signing-key.js';
import { ManagementService } from './management/service.js';
import { CentralMetrics } from './metrics.js';
import { PkiClient } from './pki-client.js';
import { Registry } from './registry/registry.js';
import { centralLayout, DEFAULT_CENTRAL_SETTINGS, readCentralSettings, writeCentralSettings, type CentralSettings } from './settings.js';

export interface CentralInitResult {
  readonly created: readonly string[];
  /** Printed once, when it is created; afterwards it is only in the 0600 file. */
  readonly adminToken?: string;
}

/** Creates settings, the configuration signing key, the admin token and the anchor when missing. */
export function initCentral(stateDir: string, settings: Partial<CentralSettings> = {}): CentralInitResult {
  const layout = centralLayout(stateDir);
  const created: string[] = [];
  if (!existsSync(layout.settings)) {
    writeCentralSettings(layout.settings, { ...DEFAULT_CENTRAL_SETTINGS, ...settings });
    created.push('settings');
  }
  if (!existsSync(layout.signingKey)) {
    createSigningKey(layout);
    created.push('configuration signing key');
  }
  if (!existsSync(layout.anchor)) {
    writeFileAtomic(layout.anchor, buildAnchor(readCentralSettings(layout.settings), [new X509Certificate(readFileSync(layout.signingCert))]));
    created.push('anchor');
  }
  let adminToken: string | undefined;
  if (!existsSync(layout.adminToken)) {
    adminToken = randomBytes(32).toString('base64url');
    writeSecretFile(layout.adminToken, `${adminToken}\n`);
    created.push('admin token');
  }
  return { created, ...(adminToken ? { adminToken } : {}) };
}

/**
 * Points existing central state at new addresses (the simulation's ports can change between
 * runs). A changed public URL rewrites the anchor, keeping its certificates.
 */
export function updateCentralAddresses(stateDir: string, change: { publicUrl: string; consoleUrl?: string; console?: CentralSettings['console']; pki?: CentralSettings['pki'] }): void {
  const layout = centralLayout(stateDir);
  const current = readCentralSettings(layout.settings);
  const next: CentralSettings = {
    ...current,
    publicUrl: change.publicUrl,
    ...(change.consoleUrl ? { consoleUrl: change.consoleUrl } : {}),
    ...(change.console ? { console: change.console } : {}),
    ...(change.pki ? { pki: change.pki } : {}),
  };
  if (JSON.stringify(next) === JSON.stringify(current)) return;
  writeCentralSettings(layout.settings, next);
  if (next.publicUrl !== current.publicUrl) {
    const certificates = parseAnchor(readFileSync(layout.anchor, 'utf8')).certificates;
    writeFileAtomic(layout.anchor, buildAnchor(next, certificates));
  }
}

/**
 * Replaces the configuration signing key. Gateways trust only the certificates in their
 * anchor, so the new anchor written here must reach every gateway (as at installation).
 */
export function rotateSigningKey(stateDir: string, keepOld: boolean): void {
  const layout = centralLayout(stateDir);
  const old = new X509Certificate(readFileSync(layout.signingCert));
  const fresh = createSigningKey(layout);
  writeFileAtomic(layout.anchor, buildAnchor(readCentralSettings(layout.settings), keepOld ? [fresh.cert, old] : [fresh.cert]));
}

/** Rewrites the anchor with the current signing certificate alone. */
export function refreshAnchor(stateDir: string): void {
  const layout = centralLayout(stateDir);
  writeFileAtomic(layout.anchor, buildAnchor(readCentralSettings(layout.settings), [new X509Certificate(readFileSync(layout.signingCert))]));
}

export interface RunningCentral {
  /** The public port: global configuration and management requests. */
  readonly url: string;
  readonly port: number;
  /** The console listener: `/console`, `/api`, `/dashboard`, `/catalogue`, `/metrics`, `/health`. */
  readonly consoleUrl: string;
  readonly consolePort: number;
  readonly registry: Registry;
  readonly publisher: ConfPublisher;
  readonly settings: CentralSettings;
  readonly server: Server;
  readonly consoleServer: Server;
  readonly metrics: CentralMetrics;
  /** Polls the security servers' monitoring addresses for the dashboard. */
  readonly monitor: ServerMonitor;
  stop(): Promise<void>;
}

export async function startCentral(options: {
  stateDir: string;
  host: string;
  port: number;
  log: Logger;
  /**
   * The console listener; its host defaults to `host`, its port to one the OS picks. `clock`
   * moves sessions and sign-in limits alone (tests), `scryptCost` lowers password hashing (tests).
   */
  console?: { host?: string; port?: number; clock?: () => number; scryptCost?: ScryptCost };
  clock?: () => number;
  /** Polling of the security servers for the dashboard (default: every 5 s, 2 s timeout). */
  monitoring?: Partial<MonitorOptions>;
}): Promise<RunningCentral> {
  const layout = centralLayout(options.stateDir);
  if (!existsSync(layout.settings)) throw new Error(`no central server under ${layout.dir}: run 'camdx central init' first`);
  const settings = readCentralSettings(layout.settings);
  const registry = new Registry(layout.database, settings.instance, settings.memberClasses, options.clock);
  const publisher = new ConfPublisher(registry, settings, loadSigningKey(layout), options.log, options.clock);
  await publisher.start();
  const management = new ManagementService(registry, { autoApprove: settings.autoApprove, ocspFreshnessSeconds: settings.ocspFreshnessSeconds, clock: options.clock });
  const pki = settings.pki ? new PkiClient(settings.pki.url, settings.pki.adminTokenFile) : undefined;
  const monitor = new ServerMonitor(registry, options.log, options.monitoring, options.clock);
  const metrics = new CentralMetrics({ publisher, registry, monitor });
  const faults = new CentralFaults(publisher, options.log);
  const publicApp = createPublicApp({ publisher, management, settings, metrics, faults, log: options.log });
  const consoleApp = createConsoleApp({
    registry,
    management,
    publisher,
    settings,
    pki,
    log: options.log,
    metrics,
    monitor,
    faults,
    adminToken: readFileSync(layout.adminToken, 'utf8').trim(),
    ...(options.console?.clock ? { consoleClock: options.console.clock } : {}),
    ...(options.console?.scryptCost ? { scryptCost: options.console.scryptCost } : {}),
  });
  const server = limitConnections(createServer(listenerOptions(), publicApp));
  const consoleServer = limitConnections(createServer(listenerOptions(), consoleApp));
  const port = await listen(server, options.port, options.host);
  const consoleHost = options.console?.host ?? options.host;
  let consolePort: number;
  try {
    consolePort = await listen(consoleServer, options.console?.port ?? 0, consoleHost);
  } catch (err) {
    await close(server);
    registry.close();
    throw err;
  }
  monitor.start();
  return {
    url: baseUrl(options.host, port),
    port,
    consoleUrl: baseUrl(consoleHost, consolePort),
    consolePort,
    consoleServer,
    registry,
    publisher,
    settings,
    server,
    metrics,
    monitor,
    stop: async () => {
      await monitor.stop();
      faults.stop();
      publisher.stop();
      await Promise.all([close(server), close(consoleServer)]);
      registry.close();
    },
  };
}
