import type { X509Certificate } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { GlobalConf } from '../../protocol/globalconf.js';
import type { KeyAndChain } from '../keys.js';
import { openKeystore } from '../keys.js';
import { certificateHash } from '../../protocol/message-hashes.js';
import type { KeystorePaths } from './keystore-swap.js';
import { writeKeystoreFile } from './keystore-files.js';

/**
 * A new authentication certificate imported into a gateway that carries traffic: X-Road's
 * "saved" certificate. Peers check the TLS certificate against the hashes central publishes,
 * so switching to it before central's configuration lists it would drop every call until then.
 * It waits here, beside the keystore in use, is registered from here, and takes the keystore's
 * place once the polled configuration lists it (certificate-import.ts `promoteSavedAuth`).
 */
export const savedAuthPaths = (stateDir: string): KeystorePaths => ({ file: join(stateDir, 'saved-auth.p12'), passwordFile: join(stateDir, 'saved-auth.p12.password') });

export function saveAuth(stateDir: string, key: KeyAndChain['key'], chainPem: readonly string[]): void {
  writeKeystoreFile(savedAuthPaths(stateDir).file, key, chainPem);
}

export function readSavedAuth(stateDir: string): KeyAndChain | undefined {
  const paths = savedAuthPaths(stateDir);
  return existsSync(paths.file) ? openKeystore('saved authentication certificate', paths) : undefined;
}

export function discardSavedAuth(stateDir: string): void {
  const paths = savedAuthPaths(stateDir);
  rmSync(paths.file, { force: true });
  rmSync(paths.passwordFile, { force: true });
}

/** Whether central's configuration lists `cert` as an authentication certificate of `serverId`. */
export function listedFor(conf: GlobalConf | undefined, serverId: string, cert: X509Certificate): boolean {
  return conf?.securityServers.find((s) => s.id === serverId)?.authCertHashes.includes(certificateHash(cert.raw)) ?? false;
}
