import { readFileSync } from 'node:fs';
import { CentralAdminClient } from '../central/admin-client.js';
import { initCentral, startCentral, updateCentralAddresses, type RunningCentral } from '../central/central.js';
import { centralLayout, type CentralSettings } from '../central/settings.js';
import { initPki } from '../certs/hierarchy.js';
import { pkiLayout } from '../certs/layout.js';
import { loadOnlinePki, type OnlinePki } from '../certs/online.js';
import { startPkiServer, type RunningPki } from '../certs/server.js';
import { baseUrl, freePort } from '../common/http.js';
import type { Logger } from '../common/log.js';
import type { ProvisionContext } from './provision.js';

export interface CoreOptions {
  readonly stateDir: string;
  readonly host: string;
  /** 0 picks free ports. */
  readonly pkiPort: number;
  readonly centralPort: number;
  readonly log: Logger;
  readonly rootPassphrase?: string;
  readonly central?: Partial<CentralSettings>;
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

/**
 * Provisions (idempotently) and starts the PKI and the central server in simulation mode
 * (management requests approved as they verify), with the PKI's CA and TSA approved.
 */
export async function startCore(o: CoreOptions): Promise<RunningCore> {
  const pkiPort = o.pkiPort || (await freePort(o.host));
  initPki({ stateDir: o.stateDir, settings: { publicUrl: baseUrl(o.host, pkiPort) }, ...(o.rootPassphrase ? { rootPassphrase: o.rootPassphrase } : {}), log: o.log });
  const pki = loadOnlinePki(o.stateDir);
  const pkiServer = await startPkiServer(pki, { host: o.host, port: pkiPort, log: o.log });

  const centralPort = o.centralPort || (await freePort(o.host));
  const addresses = { publicUrl: baseUrl(o.host, centralPort), pki: { url: pkiServer.url, adminTokenFile: pkiLayout(o.stateDir).adminToken } };
  initCentral(o.stateDir, { ...addresses, autoApprove: true, ...o.central });
  updateCentralAddresses(o.stateDir, addresses);
  const central = await startCentral({ stateDir: o.stateDir, host: o.host, port: centralPort, log: o.log });
  const cl = centralLayout(o.stateDir);
  const admin = new CentralAdminClient(central.url, readFileSync(cl.adminToken, 'utf8').trim(), 'simulation');
  await admin.call('POST', '/approved/from-pki');
  return {
    pki,
    pkiServer,
    central,
    admin,
    provision: { central: admin, centralUrl: central.url, pkiUrl: pkiServer.url, anchorFile: cl.anchor },
    stop: async () => {
      await central.stop();
      await pkiServer.close();
      pki.close();
    },
  };
}
