import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleUserInfo } from '../../sim/examples.js';
import { clientOf, KYC_SERVICE, MEMBERS } from '../../sim/topology.js';
import { call, errorOf } from '../support/http.js';
import { readmeCommand } from '../support/readme.js';
import { run } from '../support/run.js';
import { freePortOffset, startSim, type RunningSim } from '../support/sim.js';
import { tempDir } from '../support/tmp.js';

/**
 * The README's faults under `npm start`: each `camdx fault … down` the README lists shows its
 * X-Road error type within a minute, and `… up` lets traffic through again within a minute.
 * One network, the faults one after the other.
 */
const BIN = join(import.meta.dirname, '../../bin/camdx.js');
const WITHIN_MS = 60_000;
let dir: { path: string; cleanup(): void };
let sim: RunningSim | undefined;

beforeAll(async () => {
  dir = tempDir();
  sim = await startSim(dir.path, await freePortOffset());
}, 120_000);
afterAll(async () => {
  await sim?.stop();
  dir?.cleanup();
});

/** Runs the README's command line that `pattern` picks out, with our `camdx` for `npx camdx`, against the network's state dir. */
async function readmeFault(pattern: RegExp): Promise<void> {
  const line = readmeCommand(pattern);
  expect(line).toMatch(/^npx camdx fault /);
  const res = await run(process.execPath, [BIN, ...line.split(/\s+/).slice(2)], { env: { ...process.env, CAMDX_STATE_DIR: dir.path } });
  expect(res.code, res.stderr).toBe(0);
}

/** The banner's allowed example, Demo Bank → MOI's KYC: 'ok', or the X-Road error type. */
async function exchange(): Promise<string> {
  const demobank = MEMBERS.find((m) => m.key === 'demobank')!;
  const res = await call(`${sim!.url('DEMOBANK gateway')}/r1/${KYC_SERVICE}/api/2.0/kyc/info`, {
    method: 'POST',
    headers: [['X-Road-Client', clientOf(demobank)], ['Content-Type', 'application/json']],
    body: JSON.stringify(sampleUserInfo()),
  });
  if (res.status === 200) return 'ok';
  try {
    return errorOf(res).type;
  } catch {
    return `HTTP ${res.status}`;
  }
}

/** Calls every 500 ms until the outcome matches `want` or WITHIN_MS has passed; what came, when, and what came before. */
async function until(want: RegExp): Promise<{ got: string; seconds: number; seen: string[] }> {
  const started = Date.now();
  const seen: string[] = [];
  for (;;) {
    const got = await exchange();
    if (seen.at(-1) !== got) seen.push(got);
    const seconds = (Date.now() - started) / 1000;
    if (want.test(got) || seconds * 1000 > WITHIN_MS) return { got, seconds, seen };
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** `fault NAME down` (as the README writes it), the error type within a minute, then `up` and traffic again within a minute. */
async function faultShowsAndClears(name: 'ocsp' | 'central' | 'tsa', type: RegExp): Promise<void> {
  expect((await until(/^ok$/)).got).toBe('ok');
  await readmeFault(new RegExp(`^npx camdx fault ${name} down\\b`));
  let down: Awaited<ReturnType<typeof until>>;
  try {
    down = await until(type);
  } finally {
    await readmeFault(new RegExp(`^npx camdx fault ${name} up\\b`));
  }
  const up = await until(/^ok$/);
  console.log(`fault ${name}: ${down.got} after ${down.seconds.toFixed(1)} s (${down.seen.join(' → ')}); traffic again ${up.seconds.toFixed(1)} s after 'up' (${up.seen.join(' → ')})`);
  expect(down.got).toMatch(type);
  expect(up.got).toBe('ok');
}

describe('the README fault table under npm start', () => {
  it('fault ocsp down: CertValidation within a minute; up: traffic again', () => faultShowsAndClears('ocsp', /^Server\.(ClientProxy|ServerProxy)\.CertValidation$/), 3 * WITHIN_MS + 10_000);

  it('fault central down: OutdatedGlobalConf within a minute; up: traffic again', () => faultShowsAndClears('central', /^Server\.ClientProxy\.OutdatedGlobalConf$/), 3 * WITHIN_MS + 10_000);

  it('fault tsa down: TimestampingFailed within a minute; up: traffic again', () => faultShowsAndClears('tsa', /^Server\.(ClientProxy|ServerProxy)\.TimestampingFailed$/), 3 * WITHIN_MS + 10_000);
});
