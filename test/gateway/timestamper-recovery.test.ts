import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/log.js';
import { MessageLog, type ExchangeRecord } from '../../gateway/messagelog/log.js';
import { RETRY_CAP_MS, Timestamper } from '../../gateway/messagelog/timestamper.js';
import { GatewayMetrics } from '../../gateway/opmon/metrics.js';
import type { GlobalConf } from '../../protocol/globalconf.js';
import { startTestPki, type TestPki } from '../support/pki.js';
import { tempDir } from '../support/tmp.js';

// Issue 17 row 8: rounds at start-up and within seconds of a TSA answering again, never only
// once per interval. The interval here is a minute, far longer than any wait below.
const INTERVAL_SECONDS = 60;

let pki: TestPki;
let dir: ReturnType<typeof tempDir>;
beforeAll(async () => {
  pki = await startTestPki();
  dir = tempDir();
}, 60_000);
afterAll(async () => {
  await pki?.close();
  dir?.cleanup();
});

/** The two fields the timestamper reads from the global configuration: the interval and the approved TSA (the test PKI's). */
const conf = () => ({ timestampingIntervalSeconds: INTERVAL_SECONDS, approvedTSAs: [{ name: 'CamDX TSA', url: `${pki.url}/tsa`, certificate: pki.pki.tsa.cert.toString() }] }) as unknown as GlobalConf;

const tsaDown = async (down: boolean) => {
  const res = await fetch(`${pki.url}/admin/faults/tsa`, { method: 'PUT', headers: { authorization: `Bearer ${pki.pki.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ down }) });
  expect(res.status).toBe(200);
};

let n = 0;
/** One exchange's record with its own (unstamped) request signature document. */
function exchange(): ExchangeRecord {
  const hash = randomBytes(32).toString('hex');
  const part = { manifest: 'm', chain: '', leaf: hash, signature: `<Signature id="${++n}"/>`, signatureHash: hash, batchSize: 1, signerDer: Buffer.from('signer'), ocspDer: Buffer.from('ocsp') };
  const at = Date.now();
  return {
    messageId: `m-${n}`, requestId: `m-${n}`, side: 'Producer', client: 'CAMDX/COM/DEMOBANK/ONBOARDING', service: 'CAMDX/GOV/MOI/KYC/echo', endpoint: 'POST /echo/**', peerServer: 'CAMDX/COM/DEMOBANK/SS1',
    requestInTs: at, requestOutTs: at, responseInTs: at, responseOutTs: at, requestSize: 0, responseSize: 0, status: 200, succeeded: true, faultCode: null, faultString: null, request: part, response: null,
  };
}

async function until(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function gatewayRun(log: MessageLog) {
  const metrics = new GatewayMetrics({ server: 'CAMDX/GOV/MOI/SS1' });
  const stamper = new Timestamper(log, { acceptableFailureSeconds: 14_400 }, silentLogger, metrics);
  return { stamper, tsaFailures: async () => (await metrics.tsaFailures.get()).values.reduce((sum, v) => sum + v.value, 0) };
}

describe('timestamping rounds (issue 17 row 8)', () => {
  it('stamp at start-up, so a gateway restarted more often than the interval still stamps; then wait the interval', async () => {
    const log = new MessageLog(join(dir.path, 'restarts.db'), silentLogger);
    try {
      for (let run = 0; run < 2; run++) {
        await Promise.all(Array.from({ length: 20 }, () => log.record(exchange())));
        const { stamper } = gatewayRun(log);
        stamper.setConf(conf());
        stamper.start();
        await until(`run ${run}: what the earlier runs left is stamped`, () => log.unstampedStats().count === 0, 5000);
        // After a successful round the next waits the interval: a new record stays unstamped meanwhile.
        await log.record(exchange());
        await new Promise((r) => setTimeout(r, 1000));
        expect(log.unstampedStats().count).toBe(1);
        stamper.stop();
      }
    } finally {
      log.close();
    }
  });

  it('stamp as soon as a configuration with a TSA arrives after start', async () => {
    const log = new MessageLog(join(dir.path, 'late-conf.db'), silentLogger);
    const { stamper } = gatewayRun(log);
    try {
      await log.record(exchange());
      stamper.start();
      stamper.setConf(conf());
      await until('the record is stamped', () => log.unstampedStats().count === 0, 5000);
    } finally {
      stamper.stop();
      log.close();
    }
  });

  it('retry a failed round within seconds, and stamp the backlog within seconds of the TSA answering again', async () => {
    const log = new MessageLog(join(dir.path, 'outage.db'), silentLogger);
    const { stamper, tsaFailures } = gatewayRun(log);
    await tsaDown(true);
    try {
      await Promise.all(Array.from({ length: 50 }, () => log.record(exchange())));
      stamper.setConf(conf());
      stamper.start();
      // The start-up round and its first retry (1 s later) both fail: the TSA is down.
      await new Promise((r) => setTimeout(r, 1500));
      expect(await tsaFailures()).toBeGreaterThanOrEqual(2);
      expect(log.unstampedStats().count).toBe(50);
      await tsaDown(false);
      // The next retry comes within the back-off cap, not after the minute-long interval.
      await until('the backlog is stamped after the TSA is back', () => log.unstampedStats().count === 0, RETRY_CAP_MS + 2000);
    } finally {
      await tsaDown(false);
      stamper.stop();
      log.close();
    }
  }, 20_000);
});
