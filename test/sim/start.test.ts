import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/tmp.js';

const BIN = join(import.meta.dirname, '../../bin/camdx.js');
let dir: { path: string; cleanup(): void };
beforeAll(() => {
  dir = tempDir();
});
afterAll(() => dir.cleanup());

/** Starts `camdx start` as `npm start` would, waits for its banner, returns the output and the process. */
async function start() {
  const child = spawn(process.execPath, [BIN, 'start', '--pki-port', '0', '--central-port', '0'], { env: { ...process.env, CAMDX_STATE_DIR: dir.path } });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner after 30 s: ${out}`)), 30_000);
    child.stdout.on('data', () => out.includes('Press Ctrl-C') && (clearTimeout(timer), resolve()));
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
  return { child, out: () => out };
}

describe('npm start', () => {
  it('brings the PKI up, prints its endpoints, and stops cleanly on Ctrl-C', async () => {
    const { child, out } = await start();
    const banner = out();
    for (const name of ['PKI service', 'CA certificates', 'OCSP responder', 'Timestamping authority', 'Central server', 'Global configuration']) expect(banner).toContain(name);
    const url = /PKI service\s+(http:\/\/\S+)/.exec(banner)![1]!;
    expect((await fetch(`${url}/health`)).status).toBe(200);
    expect((await fetch(`${url}/ca/root-ca.pem`)).headers.get('content-type')).toMatch(/pem/);
    const central = /Central server\s+(http:\/\/\S+)/.exec(banner)![1]!;
    expect((await fetch(`${central}/globalconf`)).headers.get('content-type')).toMatch(/application\/jose/);
    // 'close', not 'exit': it fires only after the child's stdout has been read to the end.
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out()).toContain('camdx-sim stopped.');
    // Same state, second start: nothing to provision.
    const second = await start();
    second.child.kill('SIGTERM');
    expect(await new Promise((resolve) => second.child.on('close', resolve))).toBe(0);
  });
});
