import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import https from 'node:https';
import { readFileSync, writeFileSync } from 'node:fs';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { close, listen } from '../../common/http.js';
import { freePort } from '../../common/ports.js';
import { checkGatewayConfig, ConfigError } from '../../gateway/config.js';
import { gatewayKeystore } from '../../sim/provision.js';
import { call, errorOf } from '../support/http.js';
import { slowHeaders, stalledUpload, statusOf, type Endpoint } from '../support/slow.js';
import { CLIENT, SERVICE, runGateway, startTestNetwork, type TestNetwork } from '../support/network.js';
import { run } from '../support/run.js';
import { tempDir } from '../support/tmp.js';

const SLOW = 'CAMDX/GOV/MOI/KYC/slow';
const DOWN = 'CAMDX/GOV/MOI/KYC/down';
const OTHER = 'CAMDX/COM/DEMOBANK/OTHER';
// Short limits, so stalled and slow clients are cut within a test's seconds.
// A pool of 8 (not the default 64): filling it takes 8 TLS handshakes, well within the 1 s an upload may stall.
const POOL = 8;
const CONSUMER_LIMITS = { maxBodyBytes: 100_000, maxHeaderBytes: 8192, headersTimeoutMs: 500, requestTimeoutMs: 1000, poolAcquireTimeoutMs: 2000, poolConnections: POOL };
const PROVIDER_LIMITS = { serviceTimeoutMs: 1000, headersTimeoutMs: 500, requestTimeoutMs: 1000, spoolQuotaBytes: 50_000 };
let n: TestNetwork;
let slow: Server;
let certDir: { path: string; cleanup(): void };

beforeAll(async () => {
  slow = createServer((_req, res) => setTimeout(() => res.end('late'), 3000));
  const slowPort = await listen(slow, 0, '127.0.0.1');
  // An information system that will present this certificate on the consumer's HTTPS port.
  certDir = tempDir();
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(certDir.path, 'is.key'), '-out', join(certDir.path, 'is.pem'), '-subj', '/CN=bank information system', '-days', '30'], { stdio: 'ignore' });
  n = await startTestNetwork({
    extraServices: { [SLOW]: `http://127.0.0.1:${slowPort}`, [DOWN]: `http://127.0.0.1:${await freePort()}` },
    providerConfig: { limits: PROVIDER_LIMITS },
    consumerConfig: {
      limits: CONSUMER_LIMITS,
      listen: { consumerTls: { host: '127.0.0.1', port: await freePort() } } as never,
      clients: { [OTHER]: { connection: 'HTTPS', certificates: [join(certDir.path, 'is.pem')] } },
    },
  });
}, 120_000);
afterAll(async () => {
  await n?.close();
  await close(slow);
  certDir.cleanup();
});

const consumerConfig = () => readFileSync(n.consumer.config, 'utf8');
const consumerUrl = () => `http://127.0.0.1:${/consumer:\n\s+host: 127.0.0.1\n\s+port: (\d+)/.exec(consumerConfig())![1]}`;
const tlsPort = () => Number(/consumerTls:\n\s+host: 127.0.0.1\n\s+port: (\d+)/.exec(consumerConfig())![1]);
const send = (service: string, body: string | Buffer = 'x', headers: Array<[string, string]> = []) =>
  call(`${consumerUrl()}/r1/${service}/echo/x`, { method: 'POST', headers: [['X-Road-Client', CLIENT], ...headers], body });

describe('limits and failures, each with its own type', () => {
  it('refuses a body over the limit with MaxRequestSizeExceeded', async () => {
    const before = n.echo.calls.length;
    const res = await send(SERVICE, Buffer.alloc(150_000));
    expect(errorOf(res).type).toBe('Client.MaxRequestSizeExceeded');
    expect(res.status).toBe(400);
    expect(n.echo.calls.length).toBe(before);
  });

  it('refuses oversized headers with InvalidHttpHeader', async () => {
    const res = await send(SERVICE, 'x', [['X-Big', 'y'.repeat(20_000)]]);
    expect(res.status).toBe(400);
    expect(errorOf(res).type).toBe('Client.InvalidHttpHeader');
  });

  it('answers ServiceFailed when the provider system is down, Timeout when it is slow', async () => {
    expect(errorOf(await send(DOWN)).type).toBe('Server.ServerProxy.ServiceFailed');
    const late = await send(SLOW);
    expect(errorOf(late).type).toBe('Server.ServerProxy.Timeout');
    expect(errorOf(late).message).toMatch(/1000 ms/);
  });

  it('tries the next security server of the provider when one is unreachable', async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    await n.central.admin.call('POST', '/servers', { id: 'CAMDX/GOV/MOI/SS0', address: dead });
    await n.central.admin.call('POST', '/servers/CAMDX/GOV/MOI/SS0/clients', { client: 'CAMDX/GOV/MOI/KYC' });
    const version = (await n.central.admin.call<{ version: number }>('GET', '/globalconf/status')).version;
    for (let i = 0; i < 50; i++) {
      const h = (await (await fetch(`${n.consumer.adminUrl}/health`)).json()) as { globalConf: { version: number } };
      if (h.globalConf.version >= version) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await send(SERVICE)).status).toBe(200);
    const pinned = await send(SERVICE, 'x', [['X-Road-Security-Server', 'CAMDX/GOV/MOI/SS0']]);
    expect(errorOf(pinned).type).toBe('Server.ClientProxy.NetworkError');
  });

  it('answers NetworkError when no provider server is reachable', async () => {
    await n.provider.child.stop();
    try {
      expect(errorOf(await send(SERVICE)).type).toBe('Server.ClientProxy.NetworkError');
    } finally {
      n.provider.child = await runGateway(n.provider.config);
    }
    const again = await send(SERVICE);
    expect(again.status, again.body.toString()).toBe(200);
  });
});

describe('the HTTPS consumer port', () => {
  const over = (withCert: boolean) =>
    new Promise<{ status: number; type?: string }>((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port: tlsPort(),
          path: `/r1/${SERVICE}/echo/tls`,
          method: 'POST',
          headers: { 'X-Road-Client': OTHER },
          rejectUnauthorized: false,
          ...(withCert ? { key: readFileSync(join(certDir.path, 'is.key')), cert: readFileSync(join(certDir.path, 'is.pem')) } : {}),
        },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, type: res.headers['x-road-error'] as string | undefined }));
        },
      );
      req.on('error', reject);
      req.end('x');
    });

  it('requires the client certificate registered for a subsystem configured for HTTPS', async () => {
    await n.central.admin.call('POST', '/access-rights', { subject: OTHER, service: SERVICE });
    await new Promise((r) => setTimeout(r, 1500));
    expect((await over(false)).type).toBe('Server.ClientProxy.SslAuthenticationFailed');
    const plain = await call(`${consumerUrl()}/r1/${SERVICE}/echo/plain`, { method: 'POST', headers: [['X-Road-Client', OTHER]], body: 'x' });
    expect(errorOf(plain).type).toBe('Server.ClientProxy.SslAuthenticationFailed');
    expect((await over(true)).status).toBe(200);
  });
});

describe('operational records', () => {
  it('are queryable by time range, client and service', async () => {
    const now = Date.now();
    await send(SERVICE);
    await new Promise((r) => setTimeout(r, 200));
    const q = async (params: string) => (await (await n.consumer.admin(`/records?${params}`)).json()) as Array<{ service: string; client: string; requestInTs: number }>;
    const recent = await q(`from=${now - 1}&service=${encodeURIComponent(SERVICE)}`);
    expect(recent.length).toBeGreaterThan(0);
    expect(recent.every((r) => r.service === SERVICE && r.requestInTs >= now - 1)).toBe(true);
    expect(await q(`client=${encodeURIComponent('CAMDX/GOV/NOBODY/X')}`)).toEqual([]);
    expect((await n.consumer.admin('/records?limit=0')).status).toBe(400);
  });
});

describe('configuration', () => {
  it('stops start-up naming the field that is wrong', async () => {
    const dir = tempDir();
    try {
      const base = readFileSync(n.consumer.config, 'utf8').replace(/anchor: anchor\.json/, `anchor: ${join(n.consumer.dir, 'anchor.json')}`).replace(/file: (auth|sign)\.p12/g, (_m, f: string) => `file: ${join(n.consumer.dir, `${f}.p12`)}`).replace(/passwordFile: (auth|sign)\.p12\.password/g, (_m, f: string) => `passwordFile: ${join(n.consumer.dir, `${f}.p12.password`)}`);
      const cases: Array<[string, string]> = [
        [base.replace('owner: CAMDX/COM/DEMOBANK', 'owner: CAMDX/COM/DEMO BANK'), 'owner code'],
        [base.replace(/port: \d+/, 'port: 99999'), 'listen.consumer.port'],
        [base.replace(/anchor: .*/, 'anchor: /nonexistent/anchor.json'), 'anchor'],
        [`${base}\nunexpected: true\n`, '(root)'],
      ];
      for (const [yaml, field] of cases) {
        const file = join(dir.path, 'bad.yaml');
        writeFileSync(file, yaml);
        const res = await run(process.execPath, [join(import.meta.dirname, '../../bin/camdx.js'), 'gateway', 'run', '--config', file]);
        expect(res.code, res.stderr).toBe(2);
        expect(res.stderr).toContain(`gateway configuration: ${field}`);
      }
    } finally {
      dir.cleanup();
    }
  });

  it('refuses keystores whose certificate does not fit its role', () => {
    expect(() =>
      checkGatewayConfig(
        { owner: 'CAMDX/GOV/MOI', serverCode: 'SS1', anchor: 'nope.json', keystores: { auth: { file: 'a', passwordFile: 'b' }, signing: { file: 'c', passwordFile: 'd' } }, listen: { consumer: { port: 1 }, peer: { port: 2 }, admin: { port: 3 } } },
        '/',
      ),
    ).toThrow(ConfigError);
  });

  it('reports at start a service configured here that central does not know', async () => {
    const ghost = join(n.provider.dir, 'ghost.yaml');
    const yaml = readFileSync(n.provider.config, 'utf8').replace(/port: \d+/g, 'port: 0').replace('services:\n', `services:\n  CAMDX/GOV/MOI/KYC/ghost:\n    url: http://127.0.0.1:1\n`);
    writeFileSync(ghost, yaml);
    const child = await runGateway(ghost);
    await child.stop();
    expect(child.output()).toMatch(/warning: services\.CAMDX\/GOV\/MOI\/KYC\/ghost is configured here but central has no such service/);
  });
});

describe('stalled uploads and slow heads, cut before anything is verified', () => {
  const consumerPort = () => Number(new URL(consumerUrl()).port);
  const stalledHead = `POST /r1/${SERVICE}/echo/stalled HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Road-Client: ${CLIENT}\r\n`;
  const stall = (boundMs: number) => Array.from({ length: POOL }, () => stalledUpload({ port: consumerPort() }, stalledHead, { bodyBytes: 10_000, sentBytes: 100, boundMs }));
  const heldNow = async () => {
    const text = await (await fetch(`${n.consumer.adminUrl}/metrics`)).text();
    return Number(/camdx_gateway_in_flight_requests\{side="Client"[^}]*\} (\d+)/.exec(text)?.[1] ?? 0);
  };
  /**
   * Starts rounds of stalled uploads, one per pooled connection, until one fills the pool: the consumer holds all at once.
   * Each upload is cut after requestTimeoutMs (1 s); on a loaded machine the pool's TLS handshakes can take longer than
   * that, so a round whose uploads were cut before all were held is waited out and started again (≤ 3).
   */
  const stallFullPool = async () => {
    let most = 0;
    for (let round = 0; round < 3; round++) {
      const stalled = stall(10_000);
      let settled = false;
      void Promise.allSettled(stalled).then(() => (settled = true));
      while (!settled) {
        const held = await heldNow();
        most = Math.max(most, held);
        if (held >= POOL) return stalled;
        await new Promise((r) => setTimeout(r, 25));
      }
      await Promise.all(stalled);
    }
    throw new Error(`in 3 rounds of ${POOL} stalled uploads the consumer held at most ${most} at once`);
  };

  it(`a normal call completes within poolAcquireTimeoutMs + 1 s while ${POOL} uploads stall the pool; the uploads get Timeout`, async () => {
    const before = n.echo.calls.length;
    const stalled = await stallFullPool();
    const started = Date.now();
    const res = await send(SERVICE, 'normal');
    const done = Date.now();
    expect(res.status, res.body.toString()).toBe(200);
    expect(done - started).toBeLessThan(CONSUMER_LIMITS.poolAcquireTimeoutMs + 1000);
    const cuts = await Promise.all(stalled);
    // It waited for a connection that a cut upload gave back: the pool was full.
    expect(done).toBeGreaterThan(Math.min(...cuts.map((c) => c.at)) - 100);
    for (const cut of cuts) {
      expect(cut.afterMs).toBeLessThan(CONSUMER_LIMITS.requestTimeoutMs + 1000);
      expect(statusOf(cut.answer)).toEqual({ status: 400, xroadError: 'Client.Timeout' });
      expect(cut.answer).toMatch(/did not arrive in full within 1000 ms \(limits\.requestTimeoutMs\)/);
    }
    expect(n.echo.calls.length).toBe(before + 1);
    expect((await send(SERVICE)).status).toBe(200);
  });

  it('every gateway listener cuts a client sending slow headers within headersTimeoutMs + 1 s', async () => {
    const auth = gatewayKeystore(n.consumer.dir, 'auth');
    const asConsumerGateway = { key: auth.key.export({ type: 'pkcs8', format: 'pem' }) as string, cert: [auth.cert.toString(), n.central.pki.pki.cas.get('camdx-ca')!.cert.toString()].join('') };
    const listeners: Record<string, Endpoint> = {
      consumer: { port: consumerPort() },
      consumerTls: { port: tlsPort(), tls: {} },
      admin: { port: n.consumer.spec.ports.admin },
      peer: { port: n.provider.spec.ports.peer, tls: asConsumerGateway },
      'provider admin': { port: n.provider.spec.ports.admin },
    };
    const cuts = await Promise.all(Object.entries(listeners).map(async ([name, e]) => [name, await slowHeaders(e, { boundMs: 5000 })] as const));
    for (const [name, cut] of cuts) expect(cut.afterMs, name).toBeLessThan(CONSUMER_LIMITS.headersTimeoutMs + 1000);
    const byName = Object.fromEntries(cuts);
    expect(statusOf(byName.consumer!.answer).xroadError).toBe('Client.Timeout');
    expect(byName.consumer!.answer).toMatch(/headers did not arrive within 500 ms \(limits\.headersTimeoutMs\)/);
    expect(statusOf(byName.peer!.answer).xroadError).toBe('Server.ServerProxy.Timeout');
  });

  it('refuses a body past the provider spool quota before verifying it, and nothing reaches the service', async () => {
    const before = n.echo.calls.length;
    const res = await send(SERVICE, Buffer.alloc(60_000));
    expect(errorOf(res).type).toBe('Server.ServerProxy.MaxRequestSizeExceeded');
    expect(errorOf(res).message).toMatch(/limits\.spoolQuotaBytes/);
    expect(n.echo.calls.length).toBe(before);
    expect((await send(SERVICE)).status).toBe(200);
  });

  it('past poolAcquireTimeoutMs a call waiting for a connection gets NetworkError naming the pool', async () => {
    // The same consumer with uploads allowed to stall longer than a call may wait for the pool.
    const patient = join(n.consumer.dir, 'patient.yaml');
    const config = parseYaml(consumerConfig()) as { limits: Record<string, number> };
    config.limits = { ...config.limits, requestTimeoutMs: 3000, poolAcquireTimeoutMs: 500 };
    writeFileSync(patient, stringifyYaml(config));
    await n.consumer.child.stop();
    n.consumer.child = await runGateway(patient);
    try {
      const stalled = await stallFullPool();
      const started = Date.now();
      const res = await send(SERVICE, 'normal');
      expect(Date.now() - started).toBeLessThan(500 + 1000);
      expect(errorOf(res).type).toBe('Server.ClientProxy.NetworkError');
      expect(errorOf(res).message).toMatch(/all 8 pooled connections to security server CAMDX\/GOV\/MOI\/SS1 stayed busy for 500 ms \(limits\.poolAcquireTimeoutMs\)/);
      // Cut by this consumer, or first by the provider, whose own request limit is shorter. Measured
      // from when the test opened the connection: they are accepted over up to a second.
      for (const cut of await Promise.all(stalled)) expect(cut.afterMs).toBeLessThan(3000 + 2000);
      expect((await send(SERVICE)).status).toBe(200);
    } finally {
      await n.consumer.child.stop();
      n.consumer.child = await runGateway(n.consumer.config);
    }
  });
});
