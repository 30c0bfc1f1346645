import { readFileSync } from 'node:fs';
import { CentralAdminClient, CentralApiError } from '../../central/admin-client.js';
import { initCentral, startCentral, type RunningCentral } from '../../central/central.js';
import { centralLayout, type CentralSettings } from '../../central/settings.js';
import { capturingLogger, startTestPki, type TestPki } from './pki.js';
import { freePort } from '../../common/ports.js';

export interface TestCentral {
  readonly pki: TestPki;
  readonly stateDir: string;
  running: RunningCentral;
  readonly admin: CentralAdminClient;
  readonly adminToken: string;
  readonly anchor: string;
  readonly logLines: string[];
  /** Stops central (the registry stays on disk). */
  stop(): Promise<void>;
  /** Starts central again on the same port and state. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** A PKI and a central server in one temporary state directory, on loopback ports chosen by the OS. */
export async function startTestCentral(settings: Partial<CentralSettings> = {}, options: { approvePki?: boolean; consoleClock?: () => number } = {}): Promise<TestCentral> {
  const pki = await startTestPki();
  const stateDir = pki.stateDir;
  const layout = centralLayout(stateDir);
  // The anchor carries central's URL, so the port is chosen before central starts and kept across restarts.
  const port = await freePort();
  const consolePort = await freePort();
  initCentral(stateDir, { pki: { url: pki.url, adminTokenFile: pki.pki.layout.adminToken }, ...settings, publicUrl: `http://127.0.0.1:${port}`, consoleUrl: `http://127.0.0.1:${consolePort}` });
  const { log, lines } = capturingLogger();
  const consoleOptions = { port: consolePort, ...(options.consoleClock ? { clock: options.consoleClock } : {}) };
  const running = await startCentral({ stateDir, host: '127.0.0.1', port, console: consoleOptions, log });
  const adminToken = readFileSync(layout.adminToken, 'utf8').trim();
  const admin = new CentralAdminClient(running.consoleUrl, adminToken);
  if (options.approvePki !== false) await admin.call('POST', '/approved/from-pki');
  const t: TestCentral = {
    pki,
    stateDir,
    running,
    admin,
    adminToken,
    anchor: readFileSync(layout.anchor, 'utf8'),
    logLines: lines,
    stop: () => t.running.stop(),
    restart: async () => {
      t.running = await startCentral({ stateDir, host: '127.0.0.1', port, console: consoleOptions, log });
    },
    close: async () => {
      await t.running.stop().catch(() => undefined);
      await pki.close();
    },
  };
  return t;
}

/** The status, error kind, field and message of an admin call that must fail. */
export async function failure(call: Promise<unknown>): Promise<{ status: number; error: string; field?: string; message: string }> {
  try {
    await call;
  } catch (err) {
    if (err instanceof CentralApiError) return { status: err.status, error: err.error, field: err.field, message: err.message };
    throw err;
  }
  throw new Error('expected the call to fail');
}
