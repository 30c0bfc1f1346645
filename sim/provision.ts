import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../common/files.js';
import { baseUrl } from '../common/http.js';
import { CentralAdminClient, CentralApiError, idPath } from '../central/admin-client.js';
import { generateKeyPair } from '../certs/keys.js';
import { getProfile, type Identity, type ProfileName } from '../certs/profiles.js';
import { requestCertificate } from '../certs/ra-client.js';
import { ensureAdminToken } from '../gateway/admin/token.js';
import type { RawGatewayConfig } from '../gateway/config.js';
import { writeGatewayConfig } from '../gateway/setup/config-file.js';
import { readKeystoreFile, writeKeystoreFile } from '../gateway/setup/keystore-files.js';
import { registerServer } from '../gateway/setup/register.js';
import { certificateHash } from '../protocol/message-hashes.js';
import { parseMemberId, parseSecurityServerId } from '../protocol/identifiers.js';

/** One member with its security server, as the simulation (and tests) set it up. */
export interface GatewaySpec {
  readonly member: string;
  readonly name: string;
  readonly serverCode: string;
  readonly subsystems: readonly string[];
  /** Address the gateway binds. */
  readonly host: string;
  /** Name other gateways and central reach it by, if not `host` (containers: its service name). */
  readonly publicHost?: string;
  readonly ports: { readonly consumer: number; readonly peer: number; readonly admin: number; readonly console?: number };
  /** Services this member provides: full service id → base URL and endpoints. */
  readonly services?: Readonly<
    Record<string, { readonly url: string; readonly endpoints: ReadonlyArray<{ method: string; path: string }>; readonly openApi?: string; readonly timestampSynchronously?: boolean }>
  >;
  readonly extraConfig?: Partial<RawGatewayConfig>;
  /**
   * Demo clients: the subsystems' information systems call over plain HTTP. Otherwise they get
   * X-Road's default, HTTPS with a pinned IS certificate, to be set under `clients` (extraConfig).
   */
  readonly plainHttpClients?: boolean;
}

export interface ProvisionContext {
  readonly central: CentralAdminClient;
  readonly centralUrl: string;
  readonly pkiUrl: string;
  readonly anchorFile: string;
}

const exists = async (call: Promise<unknown>) => {
  try {
    await call;
    return true;
  } catch (err) {
    if (err instanceof CentralApiError && err.status === 404) return false;
    throw err;
  }
};

/** Requests a certificate from the PKI's RA and stores it with a fresh key in a PKCS#12 keystore. */
async function issueKeystore(pkiUrl: string, token: string, profile: ProfileName, identity: Identity, file: string): Promise<void> {
  const key = generateKeyPair(getProfile(profile).defaultKeyType);
  writeKeystoreFile(file, key.privateKey, await requestCertificate(pkiUrl, token, profile, identity, key.privateKey));
}

/**
 * Brings one member's gateway into the network, doing only what is missing: registers the
 * member, its subsystems and server with central (which has the PKI issue enrolment tokens),
 * obtains its signing and authentication certificates from the RA, registers the
 * authentication certificate and its clients through signed management requests, declares its
 * services, and writes the gateway's admin token and configuration. Returns the configuration file's path.
 */
export async function provisionGateway(ctx: ProvisionContext, spec: GatewaySpec, dir: string): Promise<string> {
  const member = parseMemberId(spec.member);
  const serverId = `${spec.member}/${spec.serverCode}`;
  parseSecurityServerId(serverId);
  const { central } = ctx;
  const reachAt = spec.publicHost ?? spec.host;
  const address = `${reachAt}:${spec.ports.peer}`;
  const signFile = join(dir, 'sign.p12');
  const authFile = join(dir, 'auth.p12');

  if (!(await exists(central.call('GET', `/members/${idPath(spec.member)}`)))) await central.call('POST', '/members', { id: spec.member, name: spec.name });
  const registered = await central.call<{ subsystems: string[] }>('GET', `/members/${idPath(spec.member)}`);
  for (const s of spec.subsystems) if (!registered.subsystems.includes(s)) await central.call('POST', '/subsystems', { id: `${spec.member}/${s}` });
  // Central's dashboard reads each gateway's admin port; the address is private to central.
  const monitoringUrl = baseUrl(reachAt, spec.ports.admin);
  if (!(await exists(central.call('GET', `/servers/${idPath(serverId)}`)))) await central.call('POST', '/servers', { id: serverId, address, monitoringUrl });
  else {
    const known = await central.call<{ address: string; monitoringUrl: string | null }>('GET', `/servers/${idPath(serverId)}`);
    // Started on other ports than last time: the other gateways learn the new address from the next global configuration.
    if (known.address !== address || known.monitoringUrl !== monitoringUrl) await central.call('PATCH', `/servers/${idPath(serverId)}`, { address, monitoringUrl });
  }

  const identity = { ...member, memberName: spec.name };
  if (!existsSync(signFile)) {
    const { signing } = await central.call<{ signing: { token: string } }>('POST', `/members/${idPath(spec.member)}/enrolments`);
    await issueKeystore(ctx.pkiUrl, signing.token, 'member-signing', identity, signFile);
  }
  if (!existsSync(authFile)) {
    const { auth } = await central.call<{ auth: { token: string } }>('POST', `/servers/${idPath(serverId)}/enrolments`);
    // The SANs central enrolled: the host of the server's address.
    const sans = /^[0-9.]+$|:/.test(reachAt) ? { dns: [], ip: [reachAt] } : { dns: [reachAt], ip: [] };
    await issueKeystore(ctx.pkiUrl, auth.token, 'server-auth', { ...identity, serverCode: spec.serverCode, ...sans }, authFile);
  }

  for (const [id, s] of Object.entries(spec.services ?? {})) {
    if (!(await exists(central.call('GET', `/services/${idPath(id)}`)))) {
      await central.call('POST', '/services', { id, endpoints: s.endpoints, ...(s.openApi ? { openApi: s.openApi } : {}), timestampSynchronously: !!s.timestampSynchronously });
    } else if (s.openApi) {
      // State from before the service shipped a document; one the operator set is theirs and stays.
      const known = await central.call<{ openApi: string | null }>('GET', `/services/${idPath(id)}`);
      if (known.openApi === null) await central.call('PATCH', `/services/${idPath(id)}`, { openApi: s.openApi });
    }
  }

  const server = await central.call<{ authCertHashes: string[]; clients: string[] }>('GET', `/servers/${idPath(serverId)}`);
  const keys = { sign: readKeystoreFile(signFile), auth: readKeystoreFile(authFile) };
  const results = await registerServer(ctx.centralUrl, {
    serverId,
    address,
    clients: spec.subsystems.map((s) => `${spec.member}/${s}`),
    keys,
    skip: { authCert: server.authCertHashes.includes(certificateHash(keys.auth.cert.raw)), clients: server.clients },
  });
  if (results.some((r) => r.outcome === 'submitted')) throw new Error('central is not in simulation mode: approve the pending management requests (camdx central request list)');

  writeFileAtomic(join(dir, 'anchor.json'), readFileSync(ctx.anchorFile));
  ensureAdminToken(resolve(dir, spec.extraConfig?.stateDir ?? '.'));
  const httpClients = spec.plainHttpClients ? Object.fromEntries(spec.subsystems.map((s) => [`${spec.member}/${s}`, { connection: 'HTTP' as const }])) : {};
  const extra = { ...spec.extraConfig, ...(spec.plainHttpClients ? { clients: { ...httpClients, ...spec.extraConfig?.clients } } : {}) };
  return writeGatewayConfig(dir, {
    owner: spec.member,
    serverCode: spec.serverCode,
    host: spec.host,
    ports: spec.ports,
    consoleHost: spec.host,
    services: Object.fromEntries(Object.entries(spec.services ?? {}).map(([id, s]) => [id, s.url])),
    extra,
  });
}

/** A provisioned gateway's keys, from its keystores (for management commands and tests). */
export function gatewayKeystore(dir: string, which: 'sign' | 'auth') {
  return readKeystoreFile(join(dir, `${which}.p12`));
}
