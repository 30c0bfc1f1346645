import { resolve } from 'node:path';
import { ensureDir } from '../common/files.js';
import { createLogger, type Logger } from '../common/log.js';

/**
 * The edge where the environment is read: every command gets its state directory and
 * logger from here, and nothing below the CLI reads process.env.
 */
export interface CliContext {
  readonly stateDir: string;
  readonly log: Logger;
}

export interface GlobalOptions {
  stateDir?: string;
  logLevel?: string;
}

export function cliContext(options: GlobalOptions, name = 'camdx'): CliContext {
  const stateDir = resolve(options.stateDir ?? process.env.CAMDX_STATE_DIR ?? 'var');
  ensureDir(stateDir, 0o700);
  return { stateDir, log: createLogger(name, options.logLevel ?? process.env.CAMDX_LOG_LEVEL ?? 'info') };
}

/** Prints a failure the way a person can act on it and sets a non-zero exit code. */
export function failCommand(message: string, code = 1): never {
  process.stderr.write(`camdx: ${message}\n`);
  process.exit(code);
}

/** Parses a TCP port option (0 = pick a free port). */
export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`'${value}' is not a TCP port`);
  return port;
}
