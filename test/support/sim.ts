import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { claimPort, portFree, releasePort } from '../../common/ports.js';
import { MEMBERS, PORTS } from '../../sim/topology.js';

const BIN = join(import.meta.dirname, '../../bin/camdx.js');

/**
 * A `--port-offset` under which every port of the default network is free right now, each port
 * claimed for this test process (common/ports.ts) so networks of test files running side by side
 * never overlap. The ports stay below the kernel's ephemeral range, where outgoing connections
 * could take them.
 */
export async function freePortOffset(): Promise<number> {
  const all = [...Object.values(PORTS), ...MEMBERS.flatMap((m) => Object.values(m.ports))];
  const ceiling = 32_768 - Math.max(...all) - 1;
  for (let attempt = 0; attempt < 100; attempt++) {
    const offset = 15_000 + Math.floor(Math.random() * (ceiling - 15_000));
    const claimed: number[] = [];
    const taken = all.every((p) => claimPort(p + offset) && claimed.push(p + offset));
    if (taken && (await Promise.all(all.map((p) => portFree(p + offset)))).every(Boolean)) return offset;
    claimed.forEach(releasePort);
  }
  throw new Error('no free port offset for the simulation');
}

export interface RunningSim {
  readonly child: ChildProcess;
  out(): string;
  /** The URL printed for an endpoint name in the banner. */
  url(name: string): string;
  /** SIGINT (Ctrl-C) and wait for the exit code, after stdout has closed. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** `camdx start` as `npm start` runs it, on shifted ports, waiting for the banner. */
export async function startSim(stateDir: string, offset: number, timeoutMs = 90_000): Promise<RunningSim> {
  const child = spawn(process.execPath, [BIN, 'start', '--port-offset', String(offset)], { env: { ...process.env, CAMDX_STATE_DIR: stateDir }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner after ${timeoutMs} ms: ${out}`)), timeoutMs);
    child.stdout!.on('data', () => out.includes('Press Ctrl-C') && (clearTimeout(timer), resolve()));
    child.on('exit', (code) => (clearTimeout(timer), reject(new Error(`exited ${code}: ${out}`))));
  });
  return {
    child,
    out: () => out,
    url: (name) => {
      const line = out.split('\n').find((l) => l.trimStart().startsWith(name));
      const url = line && /(https?:\/\/\S+)/.exec(line.slice(line.indexOf(name) + name.length))?.[1];
      if (!url) throw new Error(`no '${name}' endpoint in the banner:\n${out}`);
      return url;
    },
    stop: (signal = 'SIGINT') => {
      child.kill(signal);
      return closed;
    },
  };
}
