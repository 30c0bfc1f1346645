import net from 'node:net';
import tls from 'node:tls';
import type { KeyObject, X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfView } from '../../gateway/globalconf/view.js';
import { MESSAGE_PATH } from '../../gateway/message/format.js';
import { approvedCaPems } from '../../gateway/transport/tls.js';
import type { GlobalConf } from '../../protocol/globalconf.js';
import { gatewayKeystore } from '../../sim/provision.js';
import { call, errorOf } from '../support/http.js';
import { routeThroughMitm, startMitm } from '../support/mitm.js';
import { CLIENT, startTestNetwork, type TestNetwork } from '../support/network.js';
import { fetchOcsp } from '../support/ocsp.js';

// Issue 17 row 9: the peer port trusts the approved CAs, not the root they share with
// CamDigiKey CA; a handshake that stalls is dropped after limits.headersTimeoutMs
// (common/listen.ts gives the handshake the headers' time).
const HANDSHAKE_MS = 1000;

let n: TestNetwork;
let peerPort: number;
beforeAll(async () => {
  n = await startTestNetwork({ providerConfig: { limits: { headersTimeoutMs: HANDSHAKE_MS } } });
  peerPort = n.provider.spec.ports.peer;
}, 120_000);
afterAll(() => n?.close());

const ca = (name: 'camdx-ca' | 'camdigikey-ca') => n.central.pki.pki.cas.get(name)!.cert;

/** Completes a TLS handshake with the peer port as `key`/`chain`, sends a request head, and returns what came back before the socket closed. */
function probe(key: KeyObject, chain: X509Certificate[]): Promise<{ handshake: boolean; received: string }> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port: peerPort, key: key.export({ type: 'pkcs8', format: 'pem' }) as string, cert: chain.map((c) => c.toString()).join(''), rejectUnauthorized: false });
    let handshake = false;
    let received = '';
    socket.on('secureConnect', () => {
      handshake = true;
      socket.write(`POST ${MESSAGE_PATH} HTTP/1.1\r\nHost: provider\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    });
    socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ handshake, received }));
  });
}

describe('the peer port (issue 17 row 9)', () => {
  it('answers a security server’s authentication certificate over HTTP (the probe is sound)', async () => {
    const auth = gatewayKeystore(n.consumer.dir, 'auth');
    const res = await probe(auth.key, [auth.cert, ca('camdx-ca')]);
    expect(res.received).toMatch(/^HTTP\/1\.1 \d{3} /);
  });

  it.each([
    ['a CamDigiKey user', 'user', { personalCode: '010203040', commonName: 'Sok Dara' }],
    ['a CamDigiKey service account', 'service-account', { clientId: 'demo-bank-web', domain: 'bank.example' }],
  ] as const)('closes the socket of %s before any HTTP, and the service is never called', async (_who, profile, identity) => {
    const before = n.echo.calls.length;
    const issued = n.central.pki.issue(profile, identity);
    const res = await probe(issued.key.privateKey, [issued.cert, ca('camdigikey-ca')]);
    expect(res.received).toBe('');
    expect(n.echo.calls.length).toBe(before);
  });

  it('drops a connection that never completes its handshake after limits.headersTimeoutMs', async () => {
    const socket = net.connect(peerPort, '127.0.0.1');
    // The start of a TLS record, then nothing: a client stalled mid-handshake.
    socket.on('connect', () => socket.write(Buffer.from([0x16, 0x03, 0x01])));
    socket.on('error', () => undefined);
    const closed = await new Promise<boolean>((resolve) => {
      const giveUp = setTimeout(() => resolve(false), HANDSHAKE_MS + 4000);
      socket.on('close', () => {
        clearTimeout(giveUp);
        resolve(true);
      });
    });
    socket.destroy();
    expect(closed, `still open ${HANDSHAKE_MS + 4000} ms after connecting`).toBe(true);
  });
});

describe('the consumer side (issue 17 row 9)', () => {
  it('takes the approved CAs as its trust anchors, not their root', async () => {
    const jws = await (await fetch(`${n.central.running.url}/globalconf`)).text();
    const view = new ConfView(JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()) as GlobalConf);
    const anchors = approvedCaPems(view);
    expect(anchors).toContain(ca('camdx-ca').toString());
    expect(anchors).not.toContain(n.central.pki.pki.root.toString());
  });

  it('refuses a provider presenting a CamDigiKey certificate with SslAuthenticationFailed, sending it nothing', async () => {
    // The real provider, whose certificate chains to an approved CA, is reached (the anchors suffice).
    expect((await call(`${n.serviceUrl}/echo/x`, { method: 'POST', headers: [['X-Road-Client', CLIENT]], body: 'x' })).status).toBe(200);
    const account = n.central.pki.issue('service-account', { clientId: 'posing-as-moi', domain: 'moi.example' });
    const auth = gatewayKeystore(n.consumer.dir, 'auth');
    const impostor = await startMitm({
      asProvider: { key: account.key.privateKey, chain: [account.cert, ca('camdigikey-ca')] },
      providerOcsp: () => fetchOcsp(n.central.pki.url, account.cert, ca('camdigikey-ca')),
      asConsumer: { key: auth.key, chain: [auth.cert, ca('camdx-ca')] },
      providerUrl: `https://127.0.0.1:${peerPort}`,
    });
    await routeThroughMitm(n, impostor, true);
    try {
      const res = await call(`${n.serviceUrl}/echo/x`, { method: 'POST', headers: [['X-Road-Client', CLIENT]], body: 'for MOI only' });
      expect(errorOf(res)).toMatchObject({ type: 'Server.ClientProxy.SslAuthenticationFailed', message: expect.stringMatching(/provider security server CAMDX\/GOV\/MOI\/SS1/) });
      expect(impostor.lastRequest).toBeUndefined();
    } finally {
      await routeThroughMitm(n, impostor, false);
      await impostor.close();
    }
  });
});
