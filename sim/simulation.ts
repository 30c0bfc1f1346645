import type { Logger } from '../common/log.js';
import { pkiLayout } from '../certs/layout.js';
import { DEFAULT_PKI_PORT } from '../certs/settings.js';
import { centralLayout, DEFAULT_CENTRAL_PORT } from '../central/settings.js';
import { startCore } from './core.js';

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

/** Brings the network up from the state directory, provisioning what is missing. */
export async function startSimulation(options: SimulationOptions): Promise<RunningSimulation> {
  const core = await startCore(options);
  const pkiUrl = core.pkiServer.url;
  const centralUrl = core.central.url;
  return {
    endpoints: [
      { name: 'PKI service', url: pkiUrl },
      { name: 'CA certificates', url: `${pkiUrl}/ca` },
      { name: 'RA (POST a CSR)', url: `${pkiUrl}/ra/certificates` },
      { name: 'OCSP responder', url: `${pkiUrl}/ocsp` },
      { name: 'Timestamping authority', url: `${pkiUrl}/tsa` },
      { name: 'Central server', url: centralUrl },
      { name: 'Global configuration', url: `${centralUrl}/globalconf` },
      { name: 'Central admin API', url: `${centralUrl}/api` },
    ],
    notes: [
      `PKI admin token: ${pkiLayout(options.stateDir).adminToken}`,
      `central admin token: ${centralLayout(options.stateDir).adminToken}`,
      `configuration anchor: ${centralLayout(options.stateDir).anchor}`,
      `root CA certificate: ${pkiLayout(options.stateDir).caCert('root-ca')}`,
    ],
    stop: () => core.stop(),
  };
}
