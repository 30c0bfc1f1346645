import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Creates a directory (and parents) if missing; private directories get 0700. */
export function ensureDir(path: string, mode = 0o755): string {
  mkdirSync(path, { recursive: true, mode });
  return path;
}

/**
 * Writes a file so that readers never see half of it: the bytes go to a sibling temp file
 * which is then renamed over the target (rename is atomic on one filesystem).
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): void {
  ensureDir(dirname(path));
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(tmp, data, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

/** Secrets (keys, passphrases, tokens) are readable by the owner only. */
export function writeSecretFile(path: string, data: string | Uint8Array): void {
  ensureDir(dirname(path), 0o700);
  writeFileAtomic(path, data, 0o600);
}

export function readTextIfExists(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}
