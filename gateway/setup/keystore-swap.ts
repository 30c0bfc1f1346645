import type { KeyObject } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { writeSecretFile } from '../../common/files.js';
import { newKeystore } from './keystore-files.js';

/** A keystore and its password file, as `gateway.yaml` names them. */
export interface KeystorePaths {
  readonly file: string;
  readonly passwordFile: string;
}

/** A replaced keystore whose predecessor waits beside it as `*.old` until the change is kept or undone. */
export interface KeystoreSwap {
  /** Puts the previous keystore and password back and removes the copies. */
  restore(): void;
  /** Keeps the new keystore and removes the copies of the previous one. */
  commit(): void;
}

/**
 * Replaces a keystore and its password file with a new keystore of `privateKey` and its chain
 * under a fresh password. The previous pair is first copied to `<file>.old` and
 * `<passwordFile>.old` (copied, not moved, so the configured files never go missing); each
 * file is replaced by an atomic rename. If writing fails, the previous pair is back before this
 * throws. A bare gateway's first import has no previous pair: undoing it removes the new one.
 */
export function swapKeystore(paths: KeystorePaths, privateKey: KeyObject, chainPem: readonly string[]): KeystoreSwap {
  const next = newKeystore(paths.file, privateKey, chainPem);
  if (!existsSync(paths.file)) return firstKeystore(paths, next);
  const previous = { file: `${paths.file}.old`, passwordFile: `${paths.passwordFile}.old` };
  writeSecretFile(previous.file, readFileSync(paths.file));
  writeSecretFile(previous.passwordFile, readFileSync(paths.passwordFile));
  const discardCopies = () => {
    rmSync(previous.file, { force: true });
    rmSync(previous.passwordFile, { force: true });
  };
  const restore = () => {
    writeSecretFile(paths.file, readFileSync(previous.file));
    writeSecretFile(paths.passwordFile, readFileSync(previous.passwordFile));
    discardCopies();
  };
  try {
    writeSecretFile(paths.passwordFile, next.password);
    writeSecretFile(paths.file, next.der);
  } catch (err) {
    restore();
    throw err;
  }
  return { restore, commit: discardCopies };
}

/** The first keystore for a role: written (password first, so the pair is complete once the keystore exists); undone by removing both. */
function firstKeystore(paths: KeystorePaths, next: { password: string; der: Buffer }): KeystoreSwap {
  const remove = () => {
    rmSync(paths.file, { force: true });
    rmSync(paths.passwordFile, { force: true });
  };
  try {
    writeSecretFile(paths.passwordFile, next.password);
    writeSecretFile(paths.file, next.der);
  } catch (err) {
    remove();
    throw err;
  }
  return { restore: remove, commit: () => undefined };
}
