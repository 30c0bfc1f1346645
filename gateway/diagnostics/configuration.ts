import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAnchor } from '../../protocol/anchor.js';
import { verifyGlobalConf, type GlobalConf } from '../../protocol/globalconf.js';
import type { GatewayConfig } from '../config.js';
import type { GatewayKeys } from '../keys.js';
import { certificateHash } from '../../protocol/message-hashes.js';
import { fail, pass, type CheckResult } from './check.js';

/** The copy of the global configuration a gateway keeps on disk (gateway/globalconf/client.ts). */
export const cachedConfFile = (config: GatewayConfig): string => join(config.stateDir, 'globalconf', 'globalconf.jws');

/**
 * The gateway's cached global configuration, verified against its anchor as the gateway does
 * when it loads it (an expired one is returned: how long ago it expired is the finding), or why
 * there is none to use.
 */
export async function loadCachedConf(config: GatewayConfig): Promise<{ conf: GlobalConf } | { problem: string }> {
  const file = cachedConfFile(config);
  if (!existsSync(file)) return { problem: `no global configuration cached at ${file}: the gateway has not downloaded one yet` };
  try {
    const { anchor, certificates } = parseAnchor(readFileSync(config.anchor, 'utf8'));
    return { conf: await verifyGlobalConf(readFileSync(file), anchor, certificates, { allowExpired: true }) };
  } catch (err) {
    return { problem: `the cached copy at ${file} is not usable: ${(err as Error).message}` };
  }
}

const seconds = (ms: number) => `${Math.round(Math.abs(ms) / 1000)} s`;

/** The cached configuration's version and age; a failure once it has expired, when the gateway stops carrying traffic. */
export function globalConfCheck(config: GatewayConfig, loaded: Awaited<ReturnType<typeof loadCachedConf>>, now: number): CheckResult {
  const c = { name: 'globalconf', target: cachedConfFile(config) };
  if ('problem' in loaded) return fail(c, loaded.problem);
  const { conf } = loaded;
  const age = now - Date.parse(conf.generatedAt);
  const left = Date.parse(conf.expiresAt) - now;
  if (left <= 0) return fail(c, `version ${conf.version} expired ${seconds(left)} ago (generated ${seconds(age)} ago): the gateway refuses exchanges until it downloads a newer one from central`);
  return pass(c, `version ${conf.version}, generated ${seconds(age)} ago, expires in ${seconds(left)}`);
}

/**
 * Whether central lists this server with the authentication certificate it uses, as X-Road's
 * connection test of the registration service does: without it no peer accepts our connections.
 */
export function registrationCheck(config: GatewayConfig, conf: GlobalConf, keys: GatewayKeys): CheckResult {
  const c = { name: 'registration', target: config.serverId };
  const server = conf.securityServers.find((s) => s.id === config.serverId);
  if (!server) return fail(c, `the global configuration (version ${conf.version}) lists no security server ${config.serverId}: register it (camdx gateway register)`);
  const hash = certificateHash(keys.auth.cert.raw);
  if (!server.authCertHashes.includes(hash))
    return fail(c, `the authentication certificate in use (serial ${keys.auth.cert.serialNumber}) is not registered for ${config.serverId} in version ${conf.version}`);
  return pass(c, `registered at ${server.address}, authentication certificate ${hash.slice(0, 16)}… listed`);
}
