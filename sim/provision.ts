import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { writeFileAtomic, writeSecretFile } from '../common/files.js';
import { CentralAdminClient, CentralApiError, idPath } from '../central/admin-client.js';
import { generateKeyPair } from '../certs/keys.js';
import { certificatesFromPem } from '../certs/pem.js';
import { createKeystore, readKeystore } from '../certs/pkcs12.js';
import { getProfile, type Identity, type ProfileName } from '../certs/profiles.js';
import { requestCertificate } from '../certs/ra-client.js';
import type { RawGatewayConfig } from '../gateway/config.js';
import { certificateHash } from '../gateway/transport/tls.js';
import { parseMemberId, parseSecurityServerId } from '../protocol/identifiers.js';
import { signManagementRequest } from '../protocol/management.js';

/** One member with its security server, as the simulation (and tests) set it up. */
export interface GatewaySpec {
  readonly member: string;
  readonly name: string;
  readonly serverCode: string;
  readonly subsystems: readonly string[];
  readonly host: string;
  readonly ports: { readonly consumer: number; readonly peer: number; readonly admin: number };
  /** Services this member provides: full service id → base URL and endpoints. */
  readonly services?: Readonly<Record<string, { readonly url: string; readonly endpoints: ReadonlyArray<{ method: string; path: string }>; readonly openApi?: string; readonly timestampSynchronously?: boolean }>>;
  readonly extraConfig?: Partial<RawGatewayConfig>;
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
  const chain = await requestCertificate(pkiUrl, token, profile, identity, key.privateKey);
  const password = randomBytes(18).toString('base64url');
  writeSecretFile(`${file}.password`, `${password}\n`);
  writeSecretFile(file, createKeystore({ privateKey: key.privateKey, certificates: chain.flatMap((pem) => certificatesFromPem(pem)), password }));
}

function openKeystore(file: string) {
  const ks = readKeystore(readFileSync(file), readFileSync(`${file}.password`, 'utf8').trim());
  return { key: ks.privateKey!, cert: ks.certificates[0]! };
}

/**
 * Brings one member's gateway into the network, doing only what is missing: registers the
 * member, its subsystems and server with central (which has the PKI issue enrolment tokens),
 * obtains its signing and authentication certificates from the RA, registers the
 * authentication certificate and its clients through signed management requests, declares its
 * services, and writes the gateway's configuration. Returns the configuration file's path.
 */
export async function provisionGateway(ctx: ProvisionContext, spec: GatewaySpec, dir: string): Promise<string> {
  const member = parseMemberId(spec.member);
  const serverId = `${spec.member}/${spec.serverCode}`;
  parseSecurityServerId(serverId);
  const { central } = ctx;
  const address = `${spec.host}:${spec.ports.peer}`;
  const signFile = join(dir, 'sign.p12');
  const authFile = join(dir, 'auth.p12');

  if (!(await exists(central.call('GET', `/members/${idPath(spec.member)}`)))) await central.call('POST', '/members', { id: spec.member, name: spec.name });
  const registered = await central.call<{ subsystems: string[] }>('GET', `/members/${idPath(spec.member)}`);
  for (const s of spec.subsystems) if (!registered.subsystems.includes(s)) await central.call('POST', '/subsystems', { id: `${spec.member}/${s}` });
  if (!(await exists(central.call('GET', `/servers/${idPath(serverId)}`)))) await central.call('POST', '/servers', { id: serverId, address });

  const identity = { ...member, memberName: spec.name };
  if (!existsSync(signFile)) {
    const { signing } = await central.call<{ signing: { token: string } }>('POST', `/members/${idPath(spec.member)}/enrolments`);
    await issueKeystore(ctx.pkiUrl, signing.token, 'member-signing', identity, signFile);
  }
  if (!existsSync(authFile)) {
    const { auth } = await central.call<{ auth: { token: string } }>('POST', `/servers/${idPath(serverId)}/enrolments`);
    // The SANs central enrolled: the host of the server's address.
    const sans = /^[0-9.]+$|:/.test(spec.host) ? { dns: [], ip: [spec.host] } : { dns: [spec.host], ip: [] };
    await issueKeystore(ctx.pkiUrl, auth.token, 'server-auth', { ...identity, serverCode: spec.serverCode, ...sans }, authFile);
  }

  for (const [id, s] of Object.entries(spec.services ?? {})) {
    if (!(await exists(central.call('GET', `/services/${idPath(id)}`)))) {
      await central.call('POST', '/services', { id, endpoints: s.endpoints, ...(s.openApi ? { openApi: s.openApi } : {}), timestampSynchronously: !!s.timestampSynchronously });
    }
  }

  const sign = openKeystore(signFile);
  const auth = openKeystore(authFile);
  const server = await central.call<{ authCertHashes: string[]; clients: string[] }>('GET', `/servers/${idPath(serverId)}`);
  const submit = async (envelope: unknown) => {
    const res = await fetch(`${ctx.centralUrl.replace(/\/+$/, '')}/management/requests`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(envelope) });
    const body = (await res.json()) as { status?: string; message?: string };
    if (!res.ok) throw new Error(`central refused the management request: ${body.message}`);
    if (body.status !== 'approved') throw new Error('central is not in simulation mode: approve the pending management requests (camdx central request list)');
  };
  if (!server.authCertHashes.includes(certificateHash(auth.cert.raw))) {
    await submit(
      signManagementRequest({ type: 'registerAuthCert', instance: member.instance, server: serverId, address, authCertificate: auth.cert.toString() }, [
        { role: 'owner', key: sign.key, certificatePem: sign.cert.toString() },
        { role: 'auth', key: auth.key },
      ]),
    );
  }
  for (const s of spec.subsystems) {
    const client = `${spec.member}/${s}`;
    if (!server.clients.includes(client)) {
      await submit(signManagementRequest({ type: 'registerClient', instance: member.instance, server: serverId, client }, [{ role: 'owner', key: sign.key, certificatePem: sign.cert.toString() }]));
    }
  }

  writeFileAtomic(join(dir, 'anchor.json'), readFileSync(ctx.anchorFile));
  const config: RawGatewayConfig = {
    owner: spec.member,
    serverCode: spec.serverCode,
    anchor: 'anchor.json',
    stateDir: '.',
    keystores: { auth: { file: 'auth.p12', passwordFile: 'auth.p12.password' }, signing: { file: 'sign.p12', passwordFile: 'sign.p12.password' } },
    services: Object.fromEntries(Object.entries(spec.services ?? {}).map(([id, s]) => [id, { url: s.url }])),
    ...spec.extraConfig,
    listen: {
      consumer: { host: spec.host, port: spec.ports.consumer },
      peer: { host: spec.host, port: spec.ports.peer },
      admin: { host: spec.host, port: spec.ports.admin },
      ...spec.extraConfig?.listen,
    },
  };
  const file = join(dir, 'gateway.yaml');
  writeFileAtomic(file, `# Written by camdx provisioning; see README "Gateway configuration".\n${toYaml(config)}`);
  return file;
}

/** A provisioned gateway's keys, from its keystores (for management commands and tests). */
export function gatewayKeystore(dir: string, which: 'sign' | 'auth') {
  return openKeystore(join(dir, `${which}.p12`));
}
