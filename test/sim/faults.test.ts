import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, errorOf, untilOutcome } from '../support/http.js';
import { CLIENT, startTestNetwork, type TestNetwork } from '../support/network.js';
import { run } from '../support/run.js';

const BIN = join(import.meta.dirname, '../../bin/camdx.js');
let net: TestNetwork;

beforeAll(async () => {
  net = await startTestNetwork();
}, 120_000);
afterAll(() => net?.close());

const fault = async (...args: string[]) => {
  const res = await run(process.execPath, [BIN, '--state-dir', net.central.stateDir, 'fault', ...args]);
  expect(res.code, res.stderr).toBe(0);
  return res.stdout;
};
const exchange = () => call(`${net.serviceUrl}/echo/fault`, { method: 'POST', headers: [['X-Road-Client', CLIENT], ['Content-Type', 'text/plain']], body: 'hello' });

const until = (want: string, ms = 30_000) => untilOutcome(exchange, want, ms);

describe('camdx fault', () => {
  it('takes central down and up: the global configuration stops being served, traffic carries on meanwhile', async () => {
    expect(await until('ok')).toBe('ok');
    expect(await fault('central', 'down')).toContain('central is down');
    expect((await fetch(`${net.central.running.url}/globalconf`)).status).toBe(503);
    expect((await exchange()).status).toBe(200);
    expect(await fault('status')).toMatch(/"down": true/);
    await fault('central', 'up');
    expect((await fetch(`${net.central.running.url}/globalconf`)).status).toBe(200);
  });

  it('lets the global configuration expire: OutdatedGlobalConf, then recovery when central is back', async () => {
    expect(await fault('expire-conf', '--in', '6', '--serve-for', '2')).toMatch(/valid until \S+; it goes down in 2 s/);
    expect(await until('Server.ClientProxy.OutdatedGlobalConf')).toBe('Server.ClientProxy.OutdatedGlobalConf');
    await fault('central', 'up');
    expect(await until('ok')).toBe('ok');
  }, 60_000);

  it('stops and restarts the TSA and the OCSP responder', async () => {
    await fault('tsa', 'down');
    expect((await fetch(`${net.central.pki.url}/tsa`, { method: 'POST', body: '' })).status).toBe(503);
    expect(await fault('status')).toMatch(/"tsa": true/);
    expect(await fault('tsa', 'up', '--delay-ms', '50')).toContain('50 ms late');
    await fault('tsa', 'up');
    await fault('ocsp', 'down');
    expect((await fetch(`${net.central.pki.url}/ocsp`, { method: 'POST', body: '' })).status).toBe(503);
    await fault('ocsp', 'up');
    expect(await until('ok')).toBe('ok');
  });

  it('refuses nonsense with a clear message', async () => {
    const res = await run(process.execPath, [BIN, '--state-dir', net.central.stateDir, 'fault', 'tsa', 'sideways']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("'sideways': say down or up");
    const missing = await run(process.execPath, [BIN, '--state-dir', net.central.stateDir, 'fault', 'revoke', 'nobody']);
    expect(missing.code).toBe(2);
  });

  it("revokes the provider gateway's certificate: exchanges fail in the TLS handshake, naming the revocation", async () => {
    const out = await fault('revoke', net.provider.config);
    expect(out).toMatch(/revoked the auth certificate of CAMDX\/GOV\/MOI\/SS1/);
    expect(out).toContain('now holds the revoked status');
    // The consumer's gateway refuses the provider's TLS certificate in the handshake.
    expect(await until('Server.ClientProxy.SslAuthenticationFailed', 15_000)).toBe('Server.ClientProxy.SslAuthenticationFailed');
    const res = await exchange();
    expect(errorOf(res).message).toMatch(/CAMDX\/GOV\/MOI\/SS1: OCSP: .*revoked/);
  }, 30_000);
});
