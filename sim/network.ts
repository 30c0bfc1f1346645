import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/files.js';
import { baseUrl } from '../common/http.js';
import { CentralApiError } from '../central/admin-client.js';
import { pkiLayout } from '../certs/layout.js';
import { readKeystore } from '../certs/pkcs12.js';
import { CamDigiKeyClient } from '../members/camdigikey/client/client.js';
import { camdigikeyLayout, createServiceAccount, initCamdigikey } from '../members/camdigikey/setup.js';
import { openApiDocument } from './openapi-docs.js';
import { provisionGateway, type GatewaySpec, type ProvisionContext } from './provision.js';
import { SIMULATION_GATEWAY_TIMINGS } from './timings.js';
import {
  ACCESS_RULES,
  CAMDIGIKEY_ENDPOINTS,
  CAMDIGIKEY_SERVICE,
  clientOf,
  DEMO_CLIENTS_OVER_HTTP,
  DEMO_RELYING_PARTY,
  KYC_ENDPOINTS,
  KYC_SERVICE,
  MEMBERS,
  type MemberNode,
  type SimPorts,
} from './topology.js';

export type NodeName = 'pki' | 'central' | 'camdigikey' | 'moi' | 'demo-bank' | `gw-${MemberNode['key']}`;

/** How the parts of the network find each other: one loopback address, or one name per container. */
export interface Addressing {
  /** Address every service binds. */
  readonly bind: string;
  /** Name the other parts reach `node` by. */
  host(node: NodeName): string;
  /** Host name a browser on this machine uses for the web pages (CamDigiKey checks return URLs against it). */
  readonly browserHost: string;
}

export const loopback = (host = '127.0.0.1'): Addressing => ({ bind: host, host: () => host, browserHost: host === '127.0.0.1' || host === '0.0.0.0' ? 'localhost' : host });
/** docker-compose: services named as in docker-compose.yml, ports published to the host unchanged. */
export const compose: Addressing = { bind: '0.0.0.0', host: (node) => node, browserHost: 'localhost' };

export interface ProvisionedNetwork {
  readonly gateways: Record<MemberNode['key'], { readonly config: string; readonly consumerUrl: string; readonly adminUrl: string; readonly consoleUrl: string }>;
  readonly camdigikey: { readonly httpUrl: string; readonly httpsUrl: string; readonly webUrl: string; readonly envFile: string };
  readonly moiUrl: string;
  readonly demoBankOrigin: string;
}

const isIp = (host: string) => /^[\d.]+$|:/.test(host);

/** Where everything of the network is, derived from the state directory, addressing and ports alone. */
export function networkLayout(stateDir: string, a: Addressing, ports: SimPorts): ProvisionedNetwork {
  const gateways = Object.fromEntries(
    MEMBERS.map((m) => {
      const p = ports.members[m.key];
      return [
        m.key,
        {
          config: join(stateDir, 'sim', m.key, 'gateway.yaml'),
          consumerUrl: baseUrl(a.host(`gw-${m.key}`), p.consumer),
          adminUrl: baseUrl(a.host(`gw-${m.key}`), p.admin),
          consoleUrl: baseUrl(a.host(`gw-${m.key}`), p.console),
        },
      ];
    }),
  ) as ProvisionedNetwork['gateways'];
  return {
    gateways,
    camdigikey: {
      httpUrl: baseUrl(a.host('camdigikey'), ports.camdigikeyHttp),
      httpsUrl: baseUrl(a.browserHost, ports.camdigikeyHttps, 'https'),
      webUrl: baseUrl(a.browserHost, ports.camdigikeyHttp),
      envFile: join(camdigikeyLayout(stateDir).accounts, DEMO_RELYING_PARTY.clientId, 'camdigikey.env'),
    },
    moiUrl: baseUrl(a.host('moi'), ports.moi),
    demoBankOrigin: `http://${a.browserHost}:${ports.demoBank}`,
  };
}

/** One member's gateway and the services it provides, as the default network provisions them. */
export function specOf(m: MemberNode, a: Addressing, ports: SimPorts, net: ProvisionedNetwork): GatewaySpec {
  const services: NonNullable<GatewaySpec['services']> =
    m.provides?.code === 'kyc'
      ? { [KYC_SERVICE]: { url: net.moiUrl, endpoints: KYC_ENDPOINTS, openApi: openApiDocument('kyc') } }
      : m.provides?.code === 'camdigikey'
        ? { [CAMDIGIKEY_SERVICE]: { url: net.camdigikey.httpUrl, endpoints: CAMDIGIKEY_ENDPOINTS, openApi: openApiDocument('camdigikey') } }
        : {};
  return {
    member: m.member,
    name: m.name,
    serverCode: m.serverCode,
    subsystems: [m.subsystem],
    host: a.bind,
    publicHost: a.host(`gw-${m.key}`),
    ports: ports.members[m.key],
    services,
    plainHttpClients: DEMO_CLIENTS_OVER_HTTP,
    // The simulation's timings: each `camdx fault … down` shows within a minute.
    extraConfig: SIMULATION_GATEWAY_TIMINGS,
  };
}

/**
 * Provisions the default network into the state directory, doing only what is missing. The
 * default access rights and the demo service account are created on the first run only, so
 * rights a user removed stay removed across restarts.
 */
export async function provisionNetwork(ctx: ProvisionContext, o: { stateDir: string; addressing: Addressing; ports: SimPorts }): Promise<ProvisionedNetwork> {
  const a = o.addressing;
  const net = networkLayout(o.stateDir, a, o.ports);
  const marker = join(o.stateDir, 'sim', 'provisioned.json');
  const firstRun = !existsSync(marker);
  const pki = { url: ctx.pkiUrl, adminToken: readFileSync(pkiLayout(o.stateDir).adminToken, 'utf8').trim() };
  const cdkHost = a.host('camdigikey');
  await initCamdigikey(o.stateDir, pki, isIp(cdkHost) ? { dns: ['localhost'], ip: [cdkHost] } : { dns: [cdkHost, 'localhost'], ip: ['127.0.0.1'] });

  for (const m of MEMBERS) await provisionGateway(ctx, specOf(m, a, o.ports, net), join(o.stateDir, 'sim', m.key));

  if (firstRun) {
    for (const rule of ACCESS_RULES) {
      try {
        await ctx.central.call('POST', '/access-rights', rule);
      } catch (err) {
        if (!(err instanceof CentralApiError && err.status === 409)) throw err;
      }
    }
    if (!existsSync(net.camdigikey.envFile)) {
      await createServiceAccount(o.stateDir, pki, {
        ...DEMO_RELYING_PARTY,
        domain: a.browserHost,
        serverBaseUrl: net.camdigikey.httpsUrl,
        callbackUrl: `${net.demoBankOrigin}/callback`,
        fallbackUrl: `${net.demoBankOrigin}/fallback`,
      });
    }
    writeFileAtomic(marker, `${JSON.stringify({ provisionedAt: new Date().toISOString(), rules: ACCESS_RULES.length }, null, 2)}\n`);
  }
  return net;
}

/** The demo service account's `CAMDIGIKEY_*` environment, as a relying party reads it. */
export function readAccountEnv(envFile: string): Record<string, string> {
  return Object.fromEntries(
    readFileSync(envFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

/** Demo Bank's CamDigiKey client: the demo account's keys, through Demo Bank's own gateway. */
export function demoBankClient(network: ProvisionedNetwork) {
  const env = readAccountEnv(network.camdigikey.envFile);
  const demobank = MEMBERS.find((m) => m.key === 'demobank')!;
  const gateway = network.gateways.demobank.consumerUrl;
  const camdigikey = new CamDigiKeyClient({
    clientId: env.CAMDIGIKEY_CLIENT_ID!,
    hmacKey: env.CAMDIGIKEY_HMAC_KEY!,
    aesSecretKey: env.CAMDIGIKEY_AES_SECRET_KEY!,
    aesIvParams: env.CAMDIGIKEY_AES_IV_PARAMS!,
    clientDomain: env.CAMDIGIKEY_CLIENT_DOMAIN!,
    serverBaseUrl: `${gateway}/r1/${CAMDIGIKEY_SERVICE}`,
    trustRoot: readKeystore(readFileSync(env.CAMDIGIKEY_CLIENT_TRUST_STORE_FILE!), env.CAMDIGIKEY_CLIENT_TRUST_STORE_FILE_PASSWORD!).certificates[0]!,
    xroadClient: clientOf(demobank),
  });
  return { camdigikey, kycUrl: `${gateway}/r1/${KYC_SERVICE}`, xroadClient: clientOf(demobank), origin: network.demoBankOrigin };
}
