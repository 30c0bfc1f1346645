import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/files.js';
import type { SimPorts } from './topology.js';

/**
 * `<stateDir>/network.json`: where the running `npm start` network is. Written once every part
 * is up, removed when it stops; the commands that talk to the network (acl-test, fault, pki,
 * central, log) read it when given no URL or offset, so a network started at an offset needs no
 * flag afterwards. The pid tells a network that is running from one that was killed.
 */
export interface NetworkFile {
  readonly version: 1;
  readonly pid: number;
  readonly startedAt: string;
  readonly host: string;
  readonly portOffset: number;
  readonly ports: SimPorts;
  readonly urls: { readonly central: string; readonly console: string; readonly pki: string; readonly dashboard: string; readonly camdigikey: string; readonly moi: string; readonly demoBank: string };
  /** Per simulated member (demobank, moc, moi, tsc). */
  readonly gateways: Record<
    string,
    { readonly member: string; readonly client: string; readonly consumerUrl: string; readonly adminUrl: string; readonly consoleUrl?: string; readonly config: string }
  >;
}

export const networkFilePath = (stateDir: string) => join(stateDir, 'network.json');

export function writeNetworkFile(stateDir: string, network: Omit<NetworkFile, 'version' | 'pid' | 'startedAt'>): void {
  const file: NetworkFile = { version: 1, pid: process.pid, startedAt: new Date().toISOString(), ...network };
  writeFileAtomic(networkFilePath(stateDir), `${JSON.stringify(file, null, 2)}\n`);
}

/** Removes the file, but only if this process wrote it (a second `npm start` that failed must not hide the first). */
export function removeNetworkFile(stateDir: string): void {
  const file = readNetworkFile(stateDir);
  if (file?.pid === process.pid) rmSync(networkFilePath(stateDir), { force: true });
}

/** The running network's file, or undefined when there is none or its process is gone. */
export function readNetworkFile(stateDir: string): NetworkFile | undefined {
  const path = networkFilePath(stateDir);
  if (!existsSync(path)) return undefined;
  let file: NetworkFile;
  try {
    file = JSON.parse(readFileSync(path, 'utf8')) as NetworkFile;
  } catch {
    return undefined;
  }
  return file.version === 1 && processAlive(file.pid) ? file : undefined;
}

export class NoNetworkError extends Error {}

/** The running network's file, or an error naming where it looked and what to do. */
export function requireNetworkFile(stateDir: string): NetworkFile {
  const file = readNetworkFile(stateDir);
  if (file) return file;
  const path = networkFilePath(stateDir);
  const why = existsSync(path) ? `${path} names a network whose process is gone` : `no ${path}`;
  throw new NoNetworkError(`no running network in the state directory ${stateDir} (${why}): start one with npm start there, or point CAMDX_STATE_DIR / --state-dir at its state directory`);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive, but another user's.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
