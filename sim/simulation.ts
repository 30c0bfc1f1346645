import type { Logger } from '../common/log.js';
import { initPki } from '../certs/hierarchy.js';
import { loadOnlinePki } from '../certs/online.js';
import { startPkiServer } from '../certs/server.js';
import { baseUrl } from '../common/http.js';
import { DEFAULT_PKI_PORT } from '../certs/settings.js';

export interface SimulationOptions {
  readonly stateDir: string;
  readonly host: string;
  readonly pkiPort: number;
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

export const DEFAULT_PORTS = { pki: DEFAULT_PKI_PORT } as const;

/**
 * Brings the network up from the state directory, provisioning what is missing. Today that
 * is the PKI; the central server, gateways and members join as they are built.
 */
export async function startSimulation(options: SimulationOptions): Promise<RunningSimulation> {
  const { layout } = initPki({
    stateDir: options.stateDir,
    settings: { publicUrl: baseUrl(options.host, options.pkiPort || DEFAULT_PKI_PORT) },
    ...(options.rootPassphrase ? { rootPassphrase: options.rootPassphrase } : {}),
    log: options.log,
  });
  const pki = loadOnlinePki(options.stateDir);
  const server = await startPkiServer(pki, { host: options.host, port: options.pkiPort, log: options.log });
  return {
    endpoints: [
      { name: 'PKI service', url: server.url },
      { name: 'CA certificates', url: `${server.url}/ca` },
      { name: 'RA (POST a CSR)', url: `${server.url}/ra/certificates` },
      { name: 'OCSP responder', url: `${server.url}/ocsp` },
      { name: 'Timestamping authority', url: `${server.url}/tsa` },
    ],
    notes: [`PKI admin token: ${layout.adminToken}`, `root CA certificate: ${layout.caCert('root-ca')}`],
    stop: async () => {
      await server.close();
      pki.close();
    },
  };
}
