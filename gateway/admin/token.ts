import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeSecretFile } from '../../common/files.js';
import { ConfigError } from '../config.js';

/**
 * The gateway's admin token: `<stateDir>/admin-token` (0600), 32 random bytes in base64url.
 * The console API (`/api/v1`: records, OCSP refresh, key reload, …) needs it as a bearer token
 * (or a session traded for it) even from loopback, because any local program can reach that
 * port (docs/security.md).
 */
export const adminTokenFile = (stateDir: string): string => join(stateDir, 'admin-token');

/** Writes a new token unless one exists (set-up and provisioning run this; a rerun keeps the token). */
export function ensureAdminToken(stateDir: string): string {
  const file = adminTokenFile(stateDir);
  if (!existsSync(file)) writeSecretFile(file, `${randomBytes(32).toString('base64url')}\n`);
  return file;
}

/** The token of a gateway whose state directory this is (for `camdx fault` and tests). */
export function readAdminToken(stateDir: string): string {
  const file = adminTokenFile(stateDir);
  let token: string;
  try {
    token = readFileSync(file, 'utf8').trim();
  } catch (err) {
    // No `cause`: its code is in the message already, and `camdx fault` (cli/fault.ts) reports the
    // `cause.code` of whatever its try throws, meant for a failed fetch.
    // eslint-disable-next-line preserve-caught-error -- the cause's code is in the message
    throw new Error(`cannot read the gateway's admin token ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (token.length < 22) throw new Error(`${file} holds no usable token (under 22 characters); delete it and start the gateway to have a new one written`);
  return token;
}

/**
 * The token the admin server checks, created on the first start of a gateway set up before
 * tokens existed. Refused when others may read it: a leaked token opens the records.
 */
export function loadAdminToken(stateDir: string): string {
  const file = ensureAdminToken(stateDir);
  if ((statSync(file).mode & 0o077) !== 0) throw new ConfigError('stateDir', `${file} is readable by others; chmod 600 it`);
  try {
    return readAdminToken(stateDir);
  } catch (err) {
    throw new ConfigError('stateDir', (err as Error).message);
  }
}

/** `Authorization: Bearer <token>`, compared in constant time (both sides hashed, so lengths leak nothing). */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer +(\S+) *$/i.exec(header ?? '')?.[1];
  if (!given) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(token));
}
