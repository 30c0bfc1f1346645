import { readFileSync } from 'node:fs';
import type { Logger } from '../common/log.js';
import { baseUrl, freePort } from '../common/http.js';
import { initPki } from '../certs/hierarchy.js';
import { loadOnlinePki } from '../certs/online.js';
import { startPkiServer } from '../certs/server.js';
import { DEFAULT_PKI_PORT } from '../certs/settings.js';
import { CentralAdminClient } from '../central/admin-client.js';
import { initCentral, startCentral, updateCentralAddresses } from '../central/central.js';
import { centralLayout, DEFAULT_CENTRAL_PORT } from '../central/settings.js';

export interface SimulationOptions {
  readonly stateDir: string;
  readonly host: string;
  readonly pkiPort: number;
  readonly centralPort: number;
  readonly log: Logger;
  readonly rootPassphrase?: string;
}

export interface Endpoint {
  readonly name: string;
  readonly url: string;
}

export interface RunningSimulation {
  readonly endpoints: readonly Endpoint[];
  readonly notes: readonly string[];
  stop(): Promise<void>;
}

export const DEFAULT_PORTS = { pki: DEFAULT_PKI_PORT, central: DEFAULT_CENTRAL_PORT } as const;

/**
 * Brings the network up from the state directory, provisioning what is missing: the PKI, then
 * the central server (in simulation mode: management requests are approved as they verify)
 * with the PKI's CA and TSA approved. Gateways and member services join as they are built.
 */
export async function startSimulation(options: SimulationOptions): Promise<RunningSimulation> {
  const pkiUrl = baseUrl(options.host, options.pkiPort || DEFAULT_PKI_PORT);
  const { layout } = initPki({
    stateDir: options.stateDir,
    settings: { publicUrl: pkiUrl },
    ...(options.rootPassphrase ? { rootPassphrase: options.rootPassphrase } : {}),
    log: options.log,
  });
  const pki = loadOnlinePki(options.stateDir);
  const pkiServer = await startPkiServer(pki, { host: options.host, port: options.pkiPort, log: options.log });

  const centralPort = options.centralPort || (await freePort(options.host));
  const centralAddresses = { publicUrl: baseUrl(options.host, centralPort), pki: { url: pkiServer.url, adminTokenFile: layout.adminToken } };
  initCentral(options.stateDir, { ...centralAddresses, autoApprove: true });
  updateCentralAddresses(options.stateDir, centralAddresses);
  const central = await startCentral({ stateDir: options.stateDir, host: options.host, port: centralPort, log: options.log });
  const cl = centralLayout(options.stateDir);
  const admin = new CentralAdminClient(central.url, readFileSync(cl.adminToken, 'utf8').trim(), 'simulation');
  await admin.call('POST', '/approved/from-pki');

  return {
    endpoints: [
      { name: 'PKI service', url: pkiServer.url },
      { name: 'CA certificates', url: `${pkiServer.url}/ca` },
      { name: 'RA (POST a CSR)', url: `${pkiServer.url}/ra/certificates` },
      { name: 'OCSP responder', url: `${pkiServer.url}/ocsp` },
      { name: 'Timestamping authority', url: `${pkiServer.url}/tsa` },
      { name: 'Central server', url: central.url },
      { name: 'Global configuration', url: `${central.url}/globalconf` },
      { name: 'Central admin API', url: `${central.url}/api` },
    ],
    notes: [
      `PKI admin token: ${layout.adminToken}`,
      `central admin token: ${cl.adminToken}`,
      `configuration anchor: ${cl.anchor}`,
      `root CA certificate: ${layout.caCert('root-ca')}`,
    ],
    stop: async () => {
      await central.stop();
      await pkiServer.close();
      pki.close();
    },
  };
}
