import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import https from 'node:https';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { close, listen } from '../../common/http.js';
import { freePort } from '../../common/ports.js';
import { checkGatewayConfig, ConfigError } from '../../gateway/config.js';
import { call, errorOf } from '../support/http.js';
import { CLIENT, SERVICE, runGateway, startTestNetwork, type TestNetwork } from '../support/network.js';
import { run } from '../support/run.js';
import { tempDir } from '../support/tmp.js';

const SLOW = 'CAMDX/GOV/MOI/KYC/slow';
const DOWN = 'CAMDX/GOV/MOI/KYC/down';
const OTHER = 'CAMDX/COM/DEMOBANK/OTHER';
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
    providerConfig: { limits: { serviceTimeoutMs: 1000 } },
    consumerConfig: {
      limits: { maxBodyBytes: 100_000, maxHeaderBytes: 8192 },
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
    const q = async (params: string) => (await (await fetch(`${n.consumer.adminUrl}/records?${params}`)).json()) as Array<{ service: string; client: string; requestInTs: number }>;
    const recent = await q(`from=${now - 1}&service=${encodeURIComponent(SERVICE)}`);
    expect(recent.length).toBeGreaterThan(0);
    expect(recent.every((r) => r.service === SERVICE && r.requestInTs >= now - 1)).toBe(true);
    expect(await q(`client=${encodeURIComponent('CAMDX/GOV/NOBODY/X')}`)).toEqual([]);
    expect((await fetch(`${n.consumer.adminUrl}/records?limit=0`)).status).toBe(400);
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
