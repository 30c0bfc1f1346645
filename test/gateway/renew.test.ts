import http from 'node:http';
import tls from 'node:tls';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayKeystore } from '../../sim/provision.js';
import { call, untilOutcome } from '../support/http.js';
import { CLIENT, startTestNetwork, type TestGateway, type TestNetwork } from '../support/network.js';
import { run } from '../support/run.js';
import { tempDir } from '../support/tmp.js';

const BIN = join(import.meta.dirname, '../../bin/camdx.js');
let net: TestNetwork;

beforeAll(async () => {
  net = await startTestNetwork();
}, 120_000);
afterAll(() => net?.close());

const camdx = (...args: string[]) => run(process.execPath, [BIN, '--state-dir', net.central.stateDir, ...args]);
const renew = (g: TestGateway, which: 'auth' | 'signing') => camdx('gateway', 'renew', '--config', g.config, '--certificate', which);
async function fault(...args: string[]): Promise<string> {
  const res = await camdx('fault', ...args);
  expect(res.code, res.stderr).toBe(0);
  return res.stdout;
}
const exchange = () => call(`${net.serviceUrl}/echo/renew`, { method: 'POST', headers: [['X-Road-Client', CLIENT], ['Content-Type', 'text/plain']], body: 'hello' });

const until = (want: string, ms = 15_000) => untilOutcome(exchange, want, ms);

/** The serials a gateway says it uses (`/health`). */
async function inUse(g: TestGateway): Promise<{ auth: string; signing: string }> {
  return ((await (await fetch(`${g.adminUrl}/health`)).json()) as { certificates: { auth: string; signing: string } }).certificates;
}

/** The serial of the certificate a gateway's peer port presents in the TLS handshake. */
function presentedSerial(g: TestGateway): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port: g.spec.ports.peer, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().serialNumber.toUpperCase());
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

/** The keystore files of a gateway directory, with their bytes. */
const keystoreFiles = (dir: string) => Object.fromEntries(readdirSync(dir).filter((f) => /\.p12/.test(f)).map((f) => [f, readFileSync(join(dir, f)).toString('base64')]));

describe('camdx gateway renew', () => {
  it('stops at the failing step and changes nothing: the keystores stay byte for byte, the gateway keeps its keys', async () => {
    expect(await until('ok')).toBe('ok');
    const before = keystoreFiles(net.consumer.dir);
    const serials = await inUse(net.consumer);
    // The RA still issues, but the gateway cannot show the new certificate's status, so it must not switch.
    await fault('ocsp', 'down');
    const res = await renew(net.consumer, 'signing');
    await fault('ocsp', 'up');
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/^certificate: the RA at \S+ issued serial/m);
    expect(res.stderr).toMatch(/^camdx: gateway renew stopped at step 'gateway': the gateway kept its keys \(ocsp-refused\): no OCSP status for the new signing certificate .*HTTP 503; the gateway's keystores are unchanged\n$/);
    expect(res.stderr).not.toMatch(/\n\s+at /);
    expect(keystoreFiles(net.consumer.dir)).toEqual(before);
    expect(await inUse(net.consumer)).toEqual(serials);
    expect(await until('ok')).toBe('ok');
  }, 60_000);

  it("renews the provider's revoked auth certificate: the running gateway presents the new one and the next call passes", async () => {
    const pid = net.provider.child.process.pid;
    const old = gatewayKeystore(net.provider.dir, 'auth').cert.serialNumber;
    expect(await fault('revoke', net.provider.config, '--certificate', 'auth')).toContain(`to recover: camdx gateway renew --config ${net.provider.config} --certificate auth\n`);
    expect(await until('Server.ClientProxy.SslAuthenticationFailed')).toBe('Server.ClientProxy.SslAuthenticationFailed');

    const res = await renew(net.provider, 'auth');
    expect(res.code, res.stderr).toBe(0);
    const fresh = gatewayKeystore(net.provider.dir, 'auth').cert.serialNumber;
    expect(fresh).not.toBe(old);
    expect(res.stdout.trimEnd().split('\n').map((l) => l.split(':')[0])).toEqual(['key', 'enrolment token', 'CSR', 'certificate', 'registration', 'keystore', 'gateway', 'OCSP', 'renewed']);
    expect(res.stdout).toContain('CSR: server-auth request for C=KH, O=Ministry of Interior, serialNumber=CAMDX/GOV/MOI/SS1, CN=SS1 (127.0.0.1)');
    expect(res.stdout).toContain('registration: central approved the new authentication certificate of CAMDX/GOV/MOI/SS1');
    expect(res.stdout).toContain(`OCSP: the gateway holds a good response for serial ${fresh}`);
    expect(res.stdout).toContain(`renewed: the auth certificate of CAMDX/GOV/MOI/SS1 is serial ${fresh} (was ${old})`);
    expect(readdirSync(net.provider.dir).filter((f) => f.endsWith('.old'))).toEqual([]);

    expect(await presentedSerial(net.provider)).toBe(fresh.toUpperCase());
    expect((await inUse(net.provider)).auth).toBe(fresh);
    expect(await until('ok')).toBe('ok');
    expect(net.provider.child.process.pid).toBe(pid);
    expect(net.provider.child.process.exitCode).toBeNull();
  }, 60_000);

  it("renews the consumer's revoked signing certificate: the next call passes, signed with the new key", async () => {
    const old = gatewayKeystore(net.consumer.dir, 'sign').cert.serialNumber;
    await fault('revoke', net.consumer.config, '--certificate', 'signing');
    expect(await until('Server.ClientProxy.CertValidation')).toBe('Server.ClientProxy.CertValidation');

    const res = await renew(net.consumer, 'signing');
    expect(res.code, res.stderr).toBe(0);
    const fresh = gatewayKeystore(net.consumer.dir, 'sign').cert.serialNumber;
    expect(res.stdout.trimEnd().split('\n').map((l) => l.split(':')[0])).toEqual(['key', 'enrolment token', 'CSR', 'certificate', 'keystore', 'gateway', 'OCSP', 'renewed']);
    expect(res.stdout).toContain('CSR: member-signing request for C=KH, O=Demo Bank Plc, serialNumber=CAMDX/COM/DEMOBANK, CN=DEMOBANK\n');
    expect(res.stdout).toContain(`renewed: the signing certificate of CAMDX/COM/DEMOBANK/SS1 is serial ${fresh} (was ${old})`);
    expect((await inUse(net.consumer)).signing).toBe(fresh);
    // At once: no configuration change is needed for a signing certificate.
    expect((await exchange()).status).toBe(200);
  }, 60_000);

  it('lets an exchange under way finish on the old keys while the keys switch, and uses the new ones after', async () => {
    expect(await until('ok')).toBe('ok');
    const old = await inUse(net.consumer);
    const { hostname, port } = new URL(net.serviceUrl);
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request({ host: hostname, port, path: `${new URL(net.serviceUrl).pathname}/echo/slow`, method: 'POST', agent: false, headers: { 'X-Road-Client': CLIENT, 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      req.write('first half, ');
      // The rest once both keys have been renewed under the open exchange.
      void (async () => {
        await new Promise((r) => setTimeout(r, 300));
        for (const which of ['auth', 'signing'] as const) {
          const res = await renew(net.consumer, which);
          if (res.code !== 0) return req.destroy(new Error(res.stderr));
        }
        req.end('second half');
      })();
    });
    const done = await answer;
    expect(done.status, done.body).toBe(200);
    expect(done.body).toBe('first half, second half');
    const now = await inUse(net.consumer);
    expect(now.auth).not.toBe(old.auth);
    expect(now.signing).not.toBe(old.signing);
    // New connections carry the new authentication certificate once the provider's gateway has the configuration naming it.
    expect(await until('ok')).toBe('ok');
  }, 90_000);

  it('switches keys only for a caller with the admin token', async () => {
    const res = await fetch(`${net.consumer.consoleUrl}/api/v1/keys/reload`, { method: 'POST', headers: { authorization: 'Bearer not-the-token-not-the-token' } });
    expect(res.status).toBe(401);
    // With it, and the keystores unchanged: nothing to switch.
    const answer = (await (await net.consumer.admin('/keys/reload', { method: 'POST' })).json()) as { certificates: Array<{ name: string; changed: boolean; ocsp: { status: string } }> };
    expect(answer.certificates.map((c) => [c.name, c.changed, c.ocsp.status])).toEqual([
      ['auth', false, 'good'],
      ['signing', false, 'good'],
    ]);
  });

  it('refuses what it cannot do, naming what and where', async () => {
    const bad = await renew(net.consumer, 'tls' as 'auth');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("camdx: --certificate is auth or signing, not 'tls'\n");
    const empty = tempDir();
    try {
      const res = await run(process.execPath, [BIN, '--state-dir', empty.path, 'gateway', 'renew', '--config', net.consumer.config, '--certificate', 'auth']);
      expect(res.code).toBe(2);
      expect(res.stderr).toContain(`camdx: no network to renew from in the state directory ${empty.path}`);
      expect(existsSync(join(empty.path, 'central'))).toBe(false);
    } finally {
      empty.cleanup();
    }
    const missing = await renew({ ...net.consumer, config: join(net.consumer.dir, 'nope.yaml') }, 'auth');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^camdx: gateway renew stopped at step 'configuration': .*nope\.yaml/);
  });
});
