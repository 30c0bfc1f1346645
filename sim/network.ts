import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/files.js';
import { baseUrl } from '../common/http.js';
import { CentralApiError } from '../central/admin-client.js';
import { pkiLayout } from '../certs/layout.js';
import { readKeystore } from '../certs/pkcs12.js';
import { CamDigiKeyClient } from '../members/camdigikey/client/client.js';
import { camdigikeyLayout, createServiceAccount, initCamdigikey } from '../members/camdigikey/setup.js';
import type { RunningCore } from './core.js';
import { provisionGateway, type GatewaySpec } from './provision.js';
import { ACCESS_RULES, CAMDIGIKEY_ENDPOINTS, CAMDIGIKEY_SERVICE, clientOf, DEMO_RELYING_PARTY, KYC_ENDPOINTS, KYC_SERVICE, MEMBERS, serviceOf, type MemberNode, type SimPorts } from './topology.js';

export interface ProvisionedNetwork {
  readonly gateways: Record<MemberNode['key'], { readonly config: string; readonly consumerUrl: string; readonly adminUrl: string }>;
  readonly camdigikey: { readonly httpUrl: string; readonly httpsUrl: string; readonly envFile: string };
  readonly demoBankOrigin: string;
}

const hostsOf = (host: string) => (/^[\d.]+$|:/.test(host) ? { dns: ['localhost'], ip: [host] } : { dns: [host, 'localhost'], ip: ['127.0.0.1'] });
/** Browsers reach loopback services by name, and CamDigiKey checks return URLs against the account's domain. */
const publicHost = (host: string) => (host === '127.0.0.1' || host === '0.0.0.0' ? 'localhost' : host);

function specOf(m: MemberNode, ports: SimPorts, host: string): GatewaySpec {
  const services: NonNullable<GatewaySpec['services']> =
    m.provides?.code === 'kyc'
      ? { [KYC_SERVICE]: { url: baseUrl(host, ports.moi), endpoints: KYC_ENDPOINTS } }
      : m.provides?.code === 'camdigikey'
        ? { [CAMDIGIKEY_SERVICE]: { url: baseUrl(host, ports.camdigikeyHttp), endpoints: CAMDIGIKEY_ENDPOINTS } }
        : {};
  return {
    member: m.member,
    name: m.name,
    serverCode: m.serverCode,
    subsystems: [m.subsystem],
    host,
    ports: ports.members[m.key],
    services,
    // Short polls so a changed access right shows within seconds, as a user trying things expects.
    extraConfig: { globalconf: { pollSeconds: 5 } },
  };
}

/**
 * Provisions the default network into the state directory, doing only what is missing. The
 * default access rights and the demo service account are created on the first run only, so
 * rights a user removed stay removed across restarts.
 */
export async function provisionNetwork(core: RunningCore, o: { stateDir: string; host: string; ports: SimPorts }): Promise<ProvisionedNetwork> {
  const marker = join(o.stateDir, 'sim', 'provisioned.json');
  const firstRun = !existsSync(marker);
  const pki = { url: core.pkiServer.url, adminToken: readFileSync(pkiLayout(o.stateDir).adminToken, 'utf8').trim() };
  await initCamdigikey(o.stateDir, pki, hostsOf(o.host));

  const gateways = {} as ProvisionedNetwork['gateways'];
  for (const m of MEMBERS) {
    const spec = specOf(m, o.ports, o.host);
    const config = await provisionGateway(core.provision, spec, join(o.stateDir, 'sim', m.key));
    gateways[m.key] = { config, consumerUrl: baseUrl(o.host, spec.ports.consumer), adminUrl: baseUrl(o.host, spec.ports.admin) };
  }

  const demoBankOrigin = `http://${publicHost(o.host)}:${o.ports.demoBank}`;
  const httpsUrl = baseUrl(o.host, o.ports.camdigikeyHttps, 'https');
  const envFile = join(camdigikeyLayout(o.stateDir).accounts, DEMO_RELYING_PARTY.clientId, 'camdigikey.env');
  if (firstRun) {
    for (const rule of ACCESS_RULES) {
      try {
        await core.admin.call('POST', '/access-rights', rule);
      } catch (err) {
        if (!(err instanceof CentralApiError && err.status === 409)) throw err;
      }
    }
    if (!existsSync(envFile)) {
      await createServiceAccount(o.stateDir, pki, {
        ...DEMO_RELYING_PARTY,
        domain: publicHost(o.host),
        serverBaseUrl: httpsUrl,
        callbackUrl: `${demoBankOrigin}/callback`,
        fallbackUrl: `${demoBankOrigin}/fallback`,
      });
    }
    writeFileAtomic(marker, `${JSON.stringify({ provisionedAt: new Date().toISOString(), rules: ACCESS_RULES.length }, null, 2)}\n`);
  }
  return { gateways, camdigikey: { httpUrl: baseUrl(o.host, o.ports.camdigikeyHttp), httpsUrl, envFile }, demoBankOrigin };
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
  const tsc = MEMBERS.find((m) => m.key === 'tsc')!;
  const moi = MEMBERS.find((m) => m.key === 'moi')!;
  const gateway = network.gateways.demobank.consumerUrl;
  const camdigikey = new CamDigiKeyClient({
    clientId: env.CAMDIGIKEY_CLIENT_ID!,
    hmacKey: env.CAMDIGIKEY_HMAC_KEY!,
    aesSecretKey: env.CAMDIGIKEY_AES_SECRET_KEY!,
    aesIvParams: env.CAMDIGIKEY_AES_IV_PARAMS!,
    clientDomain: env.CAMDIGIKEY_CLIENT_DOMAIN!,
    serverBaseUrl: `${gateway}/r1/${serviceOf(tsc)}`,
    trustRoot: readKeystore(readFileSync(env.CAMDIGIKEY_CLIENT_TRUST_STORE_FILE!), env.CAMDIGIKEY_CLIENT_TRUST_STORE_FILE_PASSWORD!).certificates[0]!,
    xroadClient: clientOf(demobank),
  });
  return { camdigikey, kycUrl: `${gateway}/r1/${serviceOf(moi)}`, xroadClient: clientOf(demobank), origin: network.demoBankOrigin };
}
