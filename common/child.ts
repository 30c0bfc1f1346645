import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from './paths.js';

const BIN = join(PROJECT_ROOT, 'bin', 'camdx.js');

export interface ChildService {
  readonly process: ChildProcess;
  /** The first match of the ready pattern in the child's stdout. */
  readonly ready: RegExpExecArray;
  /** Everything the child wrote so far (stdout and stderr). */
  output(): string;
  /** SIGTERM, then wait for it to exit. */
  stop(): Promise<number | null>;
}

/**
 * Runs a `camdx` command as its own process (a gateway, a service) and resolves once its
 * stdout matches `readyPattern`. Services under test and load generators never share an
 * event loop this way, and a process can be killed and restarted alone.
 */
export function spawnCamdx(
  args: readonly string[],
  readyPattern: RegExp,
  options: {
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    timeoutMs?: number;
    nodeArgs?: readonly string[];
    /** Append the child's stderr (its logs) here instead of keeping it in memory. */ logFile?: string;
  } = {},
): Promise<ChildService> {
  // The IPC channel is only a lifeline: the child exits when it closes (cli/main.ts), so a parent
  // that dies, even by SIGKILL, leaves no orphan services holding ports.
  const logFd = options.logFile ? openSync(options.logFile, 'a', 0o600) : undefined;
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), BIN, ...args], { stdio: ['ignore', 'pipe', logFd ?? 'pipe', 'ipc'], env: options.env ?? process.env, cwd: options.cwd });
  if (logFd !== undefined) closeSync(logFd);
  child.channel?.unref();
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`'camdx ${args.join(' ')}' was not ready within ${options.timeoutMs ?? 30_000} ms:\n${output}`)), options.timeoutMs ?? 30_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    const logTail = () => {
      try {
        return options.logFile ? `\n…${readFileSync(options.logFile, 'utf8').slice(-2000)}` : '';
      } catch {
        return '';
      }
    };
    const onExit = (code: number | null) => fail(new Error(`'camdx ${args.join(' ')}' exited with ${code}${options.logFile ? ` (its log: ${options.logFile})` : ''}:\n${output}${logTail()}`));
    child.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-65_536)));
    child.stdout!.on('data', (d: Buffer) => {
      // A long-running service keeps printing: keep only the recent output.
      output = (output + d.toString()).slice(-65_536);
      const ready = readyPattern.exec(output);
      if (!ready) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      resolve({
        process: child,
        ready,
        output: () => output,
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done(child.exitCode);
            child.once('exit', (code) => done(code));
            child.kill('SIGTERM');
          }),
      });
    });
    child.once('exit', onExit);
  });
}
