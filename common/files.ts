import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fchmodSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Creates a directory (and parents) if missing; private directories get 0700. */
export function ensureDir(path: string, mode = 0o755): string {
  mkdirSync(path, { recursive: true, mode });
  return path;
}

/**
 * Writes a file so that readers never see half of it: the bytes go to a sibling temp file
 * which is then renamed over the target (rename is atomic on one filesystem). With `durable`,
 * the file is fsynced before the rename and its directory after it, so a power cut leaves the
 * old file or the new one, never an empty one — and the new name survives it.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644, options: { durable?: boolean } = {}): void {
  ensureDir(dirname(path));
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const fd = openSync(tmp, 'wx', mode);
    try {
      writeFileSync(fd, data);
      // The umask may have taken bits from `mode`; set exactly what was asked.
      fchmodSync(fd, mode);
      if (options.durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  if (options.durable) fsyncDirectory(dirname(path));
}

/** Makes a rename or creation in `dir` durable (POSIX: the directory entry is the directory's data). */
function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Secrets (keys, passphrases, tokens) are readable by the owner only, and on disk once written. */
export function writeSecretFile(path: string, data: string | Uint8Array): void {
  ensureDir(dirname(path), 0o700);
  writeFileAtomic(path, data, 0o600, { durable: true });
}

export function readTextIfExists(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}
