import { createHash, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeSecretFile } from '../../common/files.js';
import { generateKeyPair, privateKeyFromPem, privateKeyToPem, spkiDer, type KeyType } from '../../certs/keys.js';
import { getProfile, type ProfileName } from '../../certs/profiles.js';
import type { KeyRole } from '../keyring.js';

/** The certificate profile the RA issues for each of a gateway's keys. */
export const ROLE_PROFILE: Record<KeyRole, ProfileName> = { auth: 'server-auth', signing: 'member-signing' };
export const KEY_ROLES: readonly KeyRole[] = ['auth', 'signing'];

/** A key made for a certificate not yet imported: it waits beside the keystores until its certificate comes. */
export interface PendingKey {
  readonly id: string;
  readonly role: KeyRole;
  readonly key: KeyObject;
  readonly keyType: KeyType;
  readonly createdAt: string;
}

/**
 * A key's id: the SHA-256 of its public key (SPKI), upper-case hex, first 40 digits. It names
 * the key whatever holds it (a pending file, a keystore), and a certificate for the key maps to it.
 */
export function keyIdOf(key: KeyObject): string {
  return createHash('sha256').update(spkiDer(key)).digest('hex').slice(0, 40).toUpperCase();
}

export const pendingKeyFile = (stateDir: string, role: KeyRole) => join(stateDir, `pending-${role}.key`);

/**
 * Makes a new key for `role`, of the type the role's profile defaults to (as `camdx pki keygen`
 * makes them: a PKCS#8 PEM, 0600), in `<stateDir>/pending-<role>.key`. One key waits per role: a
 * new one replaces the one waiting, whose certificate then matches no key. Returns the key and
 * the id of the one it replaced.
 */
export function newPendingKey(stateDir: string, role: KeyRole): { pending: PendingKey; replaced?: string } {
  const previous = readPendingKey(stateDir, role);
  const keyType = getProfile(ROLE_PROFILE[role]).defaultKeyType;
  const key = generateKeyPair(keyType).privateKey;
  writeSecretFile(pendingKeyFile(stateDir, role), privateKeyToPem(key));
  const pending = { id: keyIdOf(key), role, key, keyType, createdAt: statSync(pendingKeyFile(stateDir, role)).mtime.toISOString() };
  return previous ? { pending, replaced: previous.id } : { pending };
}

/** The key waiting for `role`, if any. */
export function readPendingKey(stateDir: string, role: KeyRole): PendingKey | undefined {
  const file = pendingKeyFile(stateDir, role);
  if (!existsSync(file)) return undefined;
  const key = privateKeyFromPem(readFileSync(file));
  const keyType = getProfile(ROLE_PROFILE[role]).defaultKeyType;
  return { id: keyIdOf(key), role, key, keyType, createdAt: statSync(file).mtime.toISOString() };
}

export function readPendingKeys(stateDir: string): PendingKey[] {
  return KEY_ROLES.flatMap((role) => readPendingKey(stateDir, role) ?? []);
}

/** Once its certificate is in the keystore, the key no longer waits. */
export function discardPendingKey(stateDir: string, role: KeyRole): void {
  rmSync(pendingKeyFile(stateDir, role), { force: true });
}
