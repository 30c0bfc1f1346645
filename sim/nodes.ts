import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic, writeSecretFile } from '../common/files.js';
import { baseUrl } from '../common/http.js';
import type { Logger } from '../common/log.js';
import { CentralAdminClient } from '../central/admin-client.js';
import { centralLayout } from '../central/settings.js';
import { initPki } from '../certs/hierarchy.js';
import { pkiLayout } from '../certs/layout.js';
import { camdigikeyLayout } from '../members/camdigikey/setup.js';
import { startCentralPart, startPkiPart } from './core.js';
import { startDemoBank } from './demo-bank.js';
import { demoBankClient, networkLayout, provisionNetwork, type Addressing } from './network.js';
import { MEMBERS, type SimPorts } from './topology.js';

/**
 * One part of the default network per process — what each container of docker-compose.yml
 * runs (`camdx node <role>`), and what tests run on loopback to check those containers' commands.
 * Every role waits for what it needs, so the start order is a matter of speed, not correctness.
 *
 * In compose each part sees only its own volume (its directory under the state dir). So the
 * one-shot `provision` role, which mounts them all, creates the PKI (the offline root key stays
 * in its own volume), hands central a copy of the PKI's admin token, and writes each member's
 * keys; the others wait for files in their own directory, never for another part's.
 */
export const ROLES = ['pki', 'central', 'provision', 'gateway', 'camdigikey', 'moi', 'demo-bank'] as const;
export type Role = (typeof ROLES)[number];

export interface NodeOptions {
  readonly stateDir: string;
  readonly addressing: Addressing;
  readonly ports: SimPorts;
  readonly log: Logger;
  /** For the gateway role: which member's. */
  readonly member?: string;
  /** For the provision role: the offline root key's passphrase (else generated beside the key). */
  readonly rootPassphrase?: string;
  readonly waitMs?: number;
}

export interface RunningNode {
  /** What to print once it serves. */
  readonly ready: string;
  stop(): Promise<void>;
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await Promise.resolve(check()).catch(() => false))) {
    if (Date.now() > end) throw new Error(`gave up waiting ${ms / 1000} s for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
const healthy = (url: string) => async () => (await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })).ok;
/** The PKI's admin token as central's volume holds it (central asks the PKI for enrolment tokens). */
const centralCopyOfPkiToken = (stateDir: string) => join(centralLayout(stateDir).dir, 'pki-admin-token');
/** Written into a part's own directory once the whole network is provisioned (services, rights): it may start then. */
const provisionedMarker = (dir: string) => join(dir, 'provisioned');

/** Runs one role; the provision role finishes and returns undefined, the others serve until stopped. */
export async function runNode(role: Role, o: NodeOptions): Promise<RunningNode | undefined> {
  const a = o.addressing;
  const wait = o.waitMs ?? 180_000;
  const pkiUrl = baseUrl(a.host('pki'), o.ports.pki);
  const centralUrl = baseUrl(a.host('central'), o.ports.central);
  const consoleUrl = baseUrl(a.host('central'), o.ports.centralConsole);
  const publicHosts = { pki: a.host('pki'), central: a.host('central') };
  const net = networkLayout(o.stateDir, a, o.ports);
  switch (role) {
    case 'pki': {
      // initPki writes the admin token last: then the online part is complete.
      await waitFor(`the PKI's files (made by provision) in ${pkiLayout(o.stateDir).dir}`, () => existsSync(pkiLayout(o.stateDir).adminToken), wait);
      const pki = await startPkiPart({ stateDir: o.stateDir, host: a.bind, pkiPort: o.ports.pki, log: o.log, publicHosts });
      return { ready: `PKI ready at ${pki.publicUrl}`, stop: pki.stop };
    }
    case 'central': {
      const tokenCopy = centralCopyOfPkiToken(o.stateDir);
      await waitFor(`the PKI at ${pkiUrl}`, async () => existsSync(tokenCopy) && (await healthy(pkiUrl)()), wait);
      const central = await startCentralPart(
        {
          stateDir: o.stateDir,
          host: a.bind,
          centralPort: o.ports.central,
          consolePort: o.ports.centralConsole,
          consoleHostNames: [a.host('central')],
          log: o.log,
          publicHosts,
          pkiAdminTokenFile: tokenCopy,
        },
        pkiUrl,
      );
      return { ready: `central ready at ${centralUrl} (console ${consoleUrl})`, stop: central.stop };
    }
    case 'provision': {
      const pkiFiles = pkiLayout(o.stateDir);
      initPki({ stateDir: o.stateDir, settings: { publicUrl: pkiUrl }, ...(o.rootPassphrase ? { rootPassphrase: o.rootPassphrase } : {}), log: o.log });
      writeSecretFile(centralCopyOfPkiToken(o.stateDir), readFileSync(pkiFiles.adminToken));
      await waitFor(`central at ${consoleUrl}`, healthy(consoleUrl), wait);
      const admin = new CentralAdminClient(consoleUrl, readFileSync(centralLayout(o.stateDir).adminToken, 'utf8').trim(), 'simulation');
      await provisionNetwork({ central: admin, centralUrl, pkiUrl, anchorFile: centralLayout(o.stateDir).anchor }, { stateDir: o.stateDir, addressing: a, ports: o.ports });
      for (const dir of [...MEMBERS.map((m) => dirname(net.gateways[m.key].config)), camdigikeyLayout(o.stateDir).dir]) writeFileAtomic(provisionedMarker(dir), `${new Date().toISOString()}\n`);
      return undefined;
    }
    case 'gateway': {
      const member = MEMBERS.find((m) => m.key === o.member)?.key;
      if (!member) throw new Error(`the gateway role needs a member: ${MEMBERS.map((m) => m.key).join(', ')}`);
      const config = net.gateways[member].config;
      await waitFor(`provisioning (${config})`, () => existsSync(provisionedMarker(dirname(config))), wait);
      const { loadGatewayConfig } = await import('../gateway/config.js');
      const { startGateway } = await import('../gateway/gateway.js');
      (await import('../gateway/heap.js')).tuneGatewayHeap();
      const gateway = await startGateway(loadGatewayConfig(config), o.log);
      for (const w of gateway.warnings) o.log.warn({}, w);
      return { ready: `gateway ${member} ready at ${net.gateways[member].consumerUrl}`, stop: gateway.stop };
    }
    case 'camdigikey': {
      const own = camdigikeyLayout(o.stateDir);
      await waitFor(`provisioning (${own.dir})`, () => existsSync(provisionedMarker(own.dir)), wait);
      const { startCamdigikey } = await import('../members/camdigikey/server.js');
      const { renderFace } = await import('../members/population/face.js');
      const cdk = await startCamdigikey({
        stateDir: o.stateDir,
        host: a.bind,
        httpPort: o.ports.camdigikeyHttp,
        httpsPort: o.ports.camdigikeyHttps,
        webBaseUrl: net.camdigikey.webUrl,
        renderFace: (p) => renderFace(p),
        log: o.log,
      });
      return { ready: `CamDigiKey ready at ${net.camdigikey.webUrl} and ${net.camdigikey.httpsUrl}`, stop: cdk.stop };
    }
    case 'moi': {
      const { startMoiService } = await import('../members/moi/server.js');
      const moi = await startMoiService({ stateDir: join(o.stateDir, 'moi'), host: a.bind, port: o.ports.moi, log: o.log });
      return { ready: `MOI Open KYC ready at ${net.moiUrl}`, stop: moi.close };
    }
    case 'demo-bank': {
      await waitFor(`the demo service account (${net.camdigikey.envFile})`, () => existsSync(net.camdigikey.envFile), wait);
      const client = demoBankClient(net);
      const bank = await startDemoBank({ ...client, host: a.bind, port: o.ports.demoBank, log: o.log });
      return { ready: `Demo Bank ready at ${net.demoBankOrigin}`, stop: bank.stop };
    }
  }
}
