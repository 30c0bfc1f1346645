import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
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

/**
 * With `logToFile`, JSON logs go to `<state>/logs/<name>.log` so a terminal shows only what the
 * command prints for people (the `npm start` banner); otherwise to stderr, as services in
 * containers are expected to log.
 */
export function cliContext(options: GlobalOptions, name = 'camdx', logToFile = false): CliContext & { logFile?: string } {
  const stateDir = stateDirOf(options);
  if (!existsSync(stateDir)) {
    // Said on stderr: a command run in the wrong directory would otherwise start a new network's state silently.
    process.stderr.write(`camdx: created the state directory ${stateDir} (CAMDX_STATE_DIR or --state-dir picks another)\n`);
    ensureDir(stateDir, 0o700);
  }
  const level = options.logLevel ?? process.env.CAMDX_LOG_LEVEL ?? 'info';
  if (!logToFile) return { stateDir, log: createLogger(name, level) };
  const logFile = join(stateDir, 'logs', `${name}.log`);
  return { stateDir, log: createLogger(name, level, logFile), logFile };
}

/**
 * The state directory a command works on (`--state-dir`, CAMDX_STATE_DIR, ./var), without
 * creating it: for commands that only read a running network's state and must say where they
 * looked rather than make an empty one.
 */
export function stateDirOf(options: GlobalOptions): string {
  return resolve(options.stateDir ?? (process.env.CAMDX_STATE_DIR || 'var'));
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

/** Parses a whole-number option of at least `min` (counts, seconds, sizes). */
export function parseCount(value: string, min = 1): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`'${value}' is not a whole number of at least ${min}`);
  return n;
}
