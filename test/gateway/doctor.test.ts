import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idPath } from '../../central/admin-client.js';
import { writeKeystoreFile } from '../../gateway/setup/keystore-files.js';
import type { GlobalConf } from '../../protocol/globalconf.js';
import { CLIENT, startTestNetwork, type TestGateway, type TestNetwork } from '../support/network.js';
import { run } from '../support/run.js';

/**
 * Issue 19, "Diagnostics and `camdx gateway doctor`": X-Road's connection tests (ug-ss §14.3)
 * against a real network — PKI, central, two gateway processes — through the real command.
 */
const BIN = join(import.meta.dirname, '../../bin/camdx.js');
let net: TestNetwork;

beforeAll(async () => {
  net = await startTestNetwork();
}, 60_000);
afterAll(() => net?.close());

const camdx = (...args: string[]) => run(process.execPath, [BIN, '--state-dir', net.central.stateDir, ...args]);
const doctor = (g: TestGateway) => camdx('gateway', 'doctor', '--config', g.config);
/** The check lines of doctor's output, as [status, name, rest]. */
const checks = (stdout: string) => [...stdout.matchAll(/^(ok  |FAIL) (\S+)\s+(.*)$/gm)].map((m) => ({ ok: m[1] === 'ok  ', name: m[2]!, line: m[3]! }));

/** The global configuration a gateway has cached (the JWS payload, read without verifying: the gateway verified it). */
function cachedConf(g: TestGateway): GlobalConf {
  const jws = readFileSync(join(g.dir, 'globalconf', 'globalconf.jws'), 'utf8');
  return JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString('utf8')) as GlobalConf;
}

/** Waits until the gateway has downloaded (and cached) a configuration that passes `ready`. */
async function untilCached(g: TestGateway, ready: (conf: GlobalConf) => boolean): Promise<void> {
  const until = Date.now() + 10_000;
  while (!ready(cachedConf(g))) {
    if (Date.now() > until) throw new Error(`${g.spec.member}'s gateway has not cached the expected configuration within 10 s (it has version ${cachedConf(g).version})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function ocspResponder(down: boolean): Promise<void> {
  const pki = net.central.pki;
  const token = readFileSync(pki.pki.layout.adminToken, 'utf8').trim();
  const res = await fetch(`${pki.url}/admin/faults/ocsp`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ down }) });
  expect(res.status).toBe(200);
}

describe('camdx gateway doctor', () => {
  it('exits 0 on a healthy network, one ok line per check', async () => {
    const [consumer, provider] = await Promise.all([doctor(net.consumer), doctor(net.provider)]);
    expect(consumer.code, consumer.stdout + consumer.stderr).toBe(0);
    expect(provider.code, provider.stdout + provider.stderr).toBe(0);
    const seen = checks(consumer.stdout);
    expect(seen.every((c) => c.ok)).toBe(true);
    expect(new Set(seen.map((c) => c.name))).toEqual(new Set(['central', 'globalconf', 'registration', 'ocsp', 'tsa', 'peer']));
    expect(consumer.stdout).toMatch(/^ok   central\s+http:\/\/127\.0\.0\.1:\d+\/globalconf \d+ ms: serves version \d+, verified against the anchor$/m);
    expect(consumer.stdout).toMatch(/^ok   ocsp\s+http\S+ \d+ ms: our auth certificate is good/m);
    expect(consumer.stdout).toMatch(/^ok   tsa\s+http\S+ \d+ ms: .* granted a token that verifies$/m);
    // The bank's client may call MOI's echo service: MOI's server is its one callable peer.
    expect(seen.filter((c) => c.name === 'peer').map((c) => c.line.split(' ')[0])).toEqual(['CAMDX/GOV/MOI/SS1']);
    expect(consumer.stdout).toMatch(/^ok   peer\s+CAMDX\/GOV\/MOI\/SS1 127\.0\.0\.1:\d+ \d+ ms: TLSv1\.[23] handshake, pinned certificate [0-9a-f]{16}… matches, stapled OCSP good$/m);
    expect(provider.stdout).toMatch(/^ok   service\s+CAMDX\/GOV\/MOI\/KYC\/echo http:\/\/127\.0\.0\.1:\d+\S* \d+ ms: reachable \(HTTP \d+\)$/m);
    expect(consumer.stdout).toMatch(/^\d+ checks, 0 failed, in \d+ ms$/m);
  }, 20_000);

  it('exits 1 naming the OCSP responder after the OCSP fault is switched on, and only it', async () => {
    // The switch `camdx fault ocsp down` throws, through the PKI's admin API (a CLI start saved).
    await ocspResponder(true);
    let res;
    try {
      res = await doctor(net.consumer);
    } finally {
      await ocspResponder(false);
    }
    expect(res.code, res.stdout + res.stderr).toBe(1);
    expect(res.stdout).toMatch(/^FAIL ocsp\s+http\S+ \d+ ms: the responder answered HTTP 503$/m);
    expect([...new Set(checks(res.stdout).filter((c) => !c.ok).map((c) => c.name))]).toEqual(['ocsp']);
  }, 20_000);

  it("exits 1 naming the peer whose certificate no longer matches its pin", async () => {
    // MOI's gateway switches to a new authentication certificate from the RA that central never registered.
    const moi = { instance: 'CAMDX', memberClass: 'GOV', memberCode: 'MOI', memberName: 'Ministry of Interior', serverCode: 'SS1', dns: [], ip: ['127.0.0.1'] };
    const fresh = net.central.pki.issue('server-auth', moi);
    writeKeystoreFile(join(net.provider.dir, 'auth.p12'), fresh.key.privateKey, [fresh.cert.toString(), readFileSync(net.central.pki.issuerFile('camdx-ca'), 'utf8')]);
    const reload = await net.provider.admin('/keys/reload', { method: 'POST' });
    expect(reload.status, await reload.clone().text()).toBe(200);

    const res = await doctor(net.consumer);
    expect(res.code, res.stdout + res.stderr).toBe(1);
    const failed = checks(res.stdout).filter((c) => !c.ok);
    expect(failed.map((c) => c.name)).toEqual(['peer']);
    expect(failed[0]!.line).toMatch(new RegExp(`^CAMDX/GOV/MOI/SS1 127\\.0\\.0\\.1:\\d+ \\d+ ms: presents certificate [0-9a-f]{16}… \\(serial ${fresh.cert.serialNumber}\\), which does not match its pin in the global configuration \\([0-9a-f]{16}…\\)$`, 'i'));
  }, 20_000);

  it('with 20 callable peers that never finish a handshake: ends within 10 s, at most 8 connections open at once', async () => {
    const stalls = await stallingListeners(20);
    try {
      // One subsystem on 20 servers, one service of it open to the bank's client: all 20 are callable.
      const member = 'CAMDX/COM/STALL';
      const subsystem = `${member}/SLOW`;
      await net.central.admin.call('POST', '/members', { id: member, name: 'Stalling Ltd' });
      await net.central.admin.call('POST', '/subsystems', { id: subsystem });
      for (const [i, port] of stalls.ports.entries()) {
        const server = `${member}/SS${i + 1}`;
        await net.central.admin.call('POST', '/servers', { id: server, address: `127.0.0.1:${port}` });
        await net.central.admin.call('POST', `/servers/${idPath(server)}/clients`, { client: subsystem });
      }
      await net.central.admin.call('POST', '/services', { id: `${subsystem}/svc`, endpoints: [{ method: '*', path: '/**' }] });
      await net.central.admin.call('POST', '/access-rights', { subject: CLIENT, service: `${subsystem}/svc` });
      await untilCached(net.consumer, (conf) => conf.accessRights.some((r) => r.service === `${subsystem}/svc`) && conf.securityServers.filter((s) => s.clients.includes(subsystem)).length === 20);

      const started = performance.now();
      const res = await doctor(net.consumer);
      const elapsed = performance.now() - started;
      console.log(`doctor with 20 stalling peers: ${Math.round(elapsed)} ms in all (${/in (\d+ ms)$/m.exec(res.stdout)?.[1]} checking), at most ${stalls.maxOpen()} open, ${stalls.accepted()} accepted`);
      const output = res.stdout + res.stderr;
      expect(res.code, output).toBe(1);
      expect(elapsed, output).toBeLessThan(10_000);
      expect(stalls.maxOpen(), output).toBeLessThanOrEqual(8);
      expect(stalls.maxOpen(), output).toBeGreaterThan(1);
      // Rounds of 8, each handshake given up after 3 s, until the checks' budget runs out (on a loaded machine,
      // process start eats into it, so the second round may be cut too): the first round always runs in full.
      expect(stalls.accepted(), output).toBeGreaterThanOrEqual(8);
      const stalled = checks(res.stdout).filter((c) => c.name === 'peer' && c.line.startsWith(`${member}/`));
      expect(stalled.map((c) => c.line.split(' ')[0]).sort()).toEqual(stalls.ports.map((_, i) => `${member}/SS${i + 1}`).sort());
      expect(stalled.every((c) => !c.ok)).toBe(true);
      expect(stalled.filter((c) => / \d+ ms: no TLS handshake within 3 s$/.test(c.line)).length, output).toBeGreaterThanOrEqual(8);
      for (const c of stalled) expect(c.line).toMatch(/: (no TLS handshake within [\d.]+ s|not checked: the run reached its overall time limit first)$/);
    } finally {
      await stalls.close();
    }
  }, 30_000);
});

/** Listeners on 127.0.0.1 that accept TCP connections and never send a byte: a peer stuck before its TLS handshake. */
async function stallingListeners(n: number) {
  // Accept and close times: the listener may see a new connection a moment before the close of the one it replaces.
  const events: { at: number; delta: 1 | -1 }[] = [];
  let accepted = 0;
  const sockets = new Set<Socket>();
  const servers: Server[] = [];
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    const server = createServer((socket) => {
      accepted++;
      events.push({ at: performance.now(), delta: 1 });
      sockets.add(socket);
      // Read (and drop) the ClientHello, so the client's close is seen; never answer it.
      socket.resume();
      socket.on('error', () => undefined);
      socket.on('close', () => {
        events.push({ at: performance.now() - CLOSE_GRACE_MS, delta: -1 });
        sockets.delete(socket);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    ports.push((server.address() as AddressInfo).port);
  }
  return {
    ports,
    maxOpen: () => maxOverlap(events),
    accepted: () => accepted,
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    },
  };
}

/** How late a close may be seen after the client let the socket go and started its next handshake. */
const CLOSE_GRACE_MS = 50;

/** The most connections open at one time, from accept (+1) and close (-1) times; at a tie, closes count first. */
function maxOverlap(events: readonly { at: number; delta: 1 | -1 }[]): number {
  let open = 0;
  let max = 0;
  for (const e of [...events].sort((a, b) => a.at - b.at || a.delta - b.delta)) max = Math.max(max, (open += e.delta));
  return max;
}
