import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCsr } from '../../certs/csr.js';
import { generateKeyPair } from '../../certs/keys.js';
import { getProfile } from '../../certs/profiles.js';
import { H } from '../../gateway/message/format.js';
import { gatewayKeystore } from '../../sim/provision.js';
import { call, errorOf } from '../support/http.js';
import { routeThroughMitm, startMitm, type Mitm } from '../support/mitm.js';
import { CLIENT, SERVICE, startTestNetwork, type TestNetwork } from '../support/network.js';
import { fetchOcsp } from '../support/ocsp.js';
import { craftRequest, sendToPeer, type WireMessage } from '../support/peer.js';
import { openssl } from '../support/run.js';
import { requireTool } from '../support/tools.js';

let n: TestNetwork;
let mitm: Mitm;
let providerPeer: string;
const keys = (gw: 'consumer' | 'provider', which: 'sign' | 'auth') => {
  const ks = gatewayKeystore(n[gw].dir, which);
  const chain = [ks.cert, n.central.pki.pki.cas.get('camdx-ca')!.cert];
  return { key: ks.key, cert: ks.cert, chain };
};
const camdxCa = () => n.central.pki.pki.cas.get('camdx-ca')!.cert;
const ocspOf = (cert: X509Certificate) => fetchOcsp(n.central.pki.url, cert, camdxCa());

beforeAll(async () => {
  n = await startTestNetwork();
  providerPeer = `https://127.0.0.1:${n.provider.spec.ports.peer}`;
  mitm = await startMitm({ asProvider: keys('provider', 'auth'), providerOcsp: () => ocspOf(keys('provider', 'auth').cert), asConsumer: keys('consumer', 'auth'), providerUrl: providerPeer });
}, 120_000);
afterAll(async () => {
  await mitm?.close();
  await n?.close();
});

const viaConsumer = (path = '/echo/x', body = 'payload') => call(`${n.serviceUrl}${path}`, { method: 'POST', headers: [['X-Road-Client', CLIENT]], body });


const flip = (text: string, at = Math.floor(text.length / 2)) => text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
const flipBase64Content = (b64: string) => {
  const bytes = Buffer.from(b64, 'base64');
  bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
  return bytes.toString('base64');
};

describe('a man in the middle with valid authentication keys', () => {
  beforeAll(() => routeThroughMitm(n, mitm, true));
  afterAll(async () => {
    mitm.tamperRequest = undefined;
    mitm.tamperResponse = undefined;
    mitm.replaceResponse = undefined;
    await routeThroughMitm(n, mitm, false);
  });

  it('relays faithfully when it changes nothing (the test is sound)', async () => {
    const res = await viaConsumer();
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('payload');
  });

  const requestParts: Array<[string, (m: WireMessage) => void, RegExp]> = [
    ['the head (request line and headers)', (m) => (m.headers[H.head] = flip(m.headers[H.head]!, 10)), /InvalidSignatureValue|InvalidRequest/],
    ['the salt', (m) => (m.headers['x-camdx-salt'] = flipBase64Content(m.headers['x-camdx-salt']!)), /InvalidSignatureValue/],
    ['the body', (m) => (m.body = Buffer.from(m.body.toString().replace('payload', 'paYload'))), /InvalidSignatureValue/],
    ['the manifest', (m) => (m.trailers[H.manifest] = flip(m.trailers[H.manifest]!, 30)), /InvalidSignatureValue/],
    ['the hash chain', (m) => (m.trailers[H.chain] = `L:${Buffer.alloc(64, 7).toString('base64')}`), /InvalidSignatureValue/],
    ['the signature document', (m) => (m.trailers[H.signature] = flipBase64Content(m.trailers[H.signature]!)), /InvalidSignatureValue/],
    ['the signing certificate’s OCSP response', (m) => (m.headers[H.ocspSign] = flipBase64Content(m.headers[H.ocspSign]!)), /CertValidation/],
    ['the TLS certificate’s OCSP response', (m) => (m.headers[H.ocspAuth] = flipBase64Content(m.headers[H.ocspAuth]!)), /CertValidation/],
    ['the client it claims', (m) => (m.headers[H.client] = 'CAMDX/COM/DEMOBANK/OTHER'), /InvalidSignatureValue/],
    ['the message id', (m) => (m.headers[H.id] = 'another-id'), /InvalidSignatureValue/],
  ];

  it.each(requestParts)('cannot change %s of a request: refused, the service is never called', async (_part, tamper, type) => {
    const before = n.echo.calls.length;
    mitm.tamperRequest = tamper;
    const res = await viaConsumer();
    mitm.tamperRequest = undefined;
    expect(res.status).toBe(500);
    expect(errorOf(res).type).toMatch(new RegExp(`^Server\\.ServerProxy\\.(${type.source})$`));
    expect(n.echo.calls.length).toBe(before);
  });

  const responseParts: Array<[string, (m: WireMessage) => void]> = [
    ['the head', (m) => (m.headers[H.head] = flip(m.headers[H.head]!, 10))],
    ['the body', (m) => (m.body = Buffer.from(m.body.toString().replace('payload', 'paYload')))],
    ['the manifest', (m) => (m.trailers[H.manifest] = flip(m.trailers[H.manifest]!, 30))],
    ['the signature document', (m) => (m.trailers[H.signature] = flipBase64Content(m.trailers[H.signature]!))],
    ['the OCSP response', (m) => (m.headers[H.ocspSign] = flipBase64Content(m.headers[H.ocspSign]!))],
  ];

  it.each(responseParts)('cannot change %s of a response: the consumer refuses it', async (_part, tamper) => {
    mitm.tamperResponse = tamper;
    const res = await viaConsumer();
    mitm.tamperResponse = undefined;
    expect(res.status).toBe(500);
    expect(errorOf(res).type).toMatch(/^Server\.ClientProxy\.(InvalidSignatureValue|CertValidation|InvalidRequest)$/);
    expect(res.body.toString()).not.toContain('paYload');
  });

  it('cannot answer one request with the response to another', async () => {
    expect((await viaConsumer('/echo/a', 'first')).status).toBe(200);
    mitm.replaceResponse = mitm.lastResponse;
    const res = await viaConsumer('/echo/b', 'second');
    mitm.replaceResponse = undefined;
    expect(errorOf(res).type).toBe('Server.ClientProxy.InconsistentResponse');
  });

  it('cannot replay a request', async () => {
    expect((await viaConsumer('/echo/once', 'once')).status).toBe(200);
    const before = n.echo.calls.length;
    const replay = await sendToPeer(providerPeer, keys('consumer', 'auth'), mitm.lastRequest!);
    expect(replay.status).toBe(500);
    expect(JSON.parse(replay.body.toString())).toMatchObject({ type: 'Server.ServerProxy.InvalidSignatureValue', message: expect.stringMatching(/replay/) });
    expect(n.echo.calls.length).toBe(before);
  });
});

describe('forged messages sent straight to the provider', () => {
  const head = { method: 'POST', path: '/echo/forged', query: '', headers: [] as Array<[string, string]> };

  async function forge(signKey: Parameters<typeof craftRequest>[0]['signKey'], signCert: X509Certificate) {
    const consumerAuth = keys('consumer', 'auth');
    return craftRequest({ signKey, signCert, signOcsp: await ocspOf(signCert).catch(() => Buffer.alloc(0)), authOcsp: await ocspOf(consumerAuth.cert), client: CLIENT, service: SERVICE, head, body: Buffer.from('forged') });
  }

  it('a correctly signed one goes through (the forging tool is sound)', async () => {
    const sign = keys('consumer', 'sign');
    const res = await sendToPeer(providerPeer, keys('consumer', 'auth'), await forge(sign.key, sign.cert));
    expect(res.status).toBe(200);
  });

  it('refuses another member’s valid signing certificate', async () => {
    const before = n.echo.calls.length;
    const other = keys('provider', 'sign');
    const res = await sendToPeer(providerPeer, keys('consumer', 'auth'), await forge(other.key, other.cert));
    expect(JSON.parse(res.body.toString())).toMatchObject({ type: 'Server.ServerProxy.CertValidation', message: expect.stringMatching(/belongs to CAMDX\/GOV\/MOI, not CAMDX\/COM\/DEMOBANK/) });
    expect(n.echo.calls.length).toBe(before);
  });

  it('refuses a message signed with an authentication certificate', async () => {
    const auth = keys('consumer', 'auth');
    const res = await sendToPeer(providerPeer, auth, await forge(auth.key, auth.cert));
    expect(JSON.parse(res.body.toString())).toMatchObject({ type: 'Server.ServerProxy.CertValidation', message: expect.stringMatching(/not a signing certificate/) });
  });

  it('refuses a self-signed certificate in KeyInfo, whatever it names', requireTool('openssl'), async () => {
    const dir = n.central.stateDir;
    await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'rogue.key'), '-out', join(dir, 'rogue.pem'), '-subj', '/C=KH/O=Demo Bank Plc/serialNumber=CAMDX\\/COM\\/DEMOBANK/CN=DEMOBANK', '-days', '30', '-addext', 'keyUsage=critical,nonRepudiation']);
    const rogue = new X509Certificate(readFileSync(join(dir, 'rogue.pem')));
    const res = await sendToPeer(providerPeer, keys('consumer', 'auth'), await forge(createPrivateKey(readFileSync(join(dir, 'rogue.key'))), rogue));
    expect(JSON.parse(res.body.toString())).toMatchObject({ type: 'Server.ServerProxy.CertValidation', message: expect.stringMatching(/not issued by an approved CA/) });
  });

  it('refuses a signing certificate used for TLS (the handshake itself fails: it has no TLS client usage)', async () => {
    const before = n.echo.calls.length;
    const sign = keys('consumer', 'sign');
    await expect(sendToPeer(providerPeer, sign, await forge(sign.key, sign.cert))).rejects.toThrow(/socket hang up|ECONNRESET|certificate|alert/i);
    expect(n.echo.calls.length).toBe(before);
  });

  it('refuses a valid authentication certificate that is not registered for any server', async () => {
    const identity = { instance: 'CAMDX', memberClass: 'COM', memberCode: 'DEMOBANK', memberName: 'Demo Bank Plc', serverCode: 'SS9', dns: [], ip: ['127.0.0.1'] };
    const key = generateKeyPair('P-256');
    const { token } = n.central.pki.services.ra.enrol('server-auth', identity);
    const issued = n.central.pki.services.ra.submit(createCsr(getProfile('server-auth').subject(identity), key.privateKey), token);
    const sign = keys('consumer', 'sign');
    const res = await sendToPeer(providerPeer, { key: key.privateKey, chain: [new X509Certificate(issued.der), camdxCa()] }, await forge(sign.key, sign.cert));
    expect(JSON.parse(res.body.toString())).toMatchObject({ type: 'Server.ServerProxy.SslAuthenticationFailed', message: expect.stringMatching(/not registered/) });
  });
});

describe('a revoked signing certificate', () => {
  it('is refused by the provider, and the consumer stops signing with it', async () => {
    const sign = keys('consumer', 'sign');
    const before = n.echo.calls.length;
    const revoke = await fetch(`${n.central.pki.url}/admin/revocations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${n.central.pki.pki.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ serial: sign.cert.serialNumber, reason: 'keyCompromise' }),
    });
    expect(revoke.status).toBe(200);
    const forged = craftRequest({
      signKey: sign.key,
      signCert: sign.cert,
      signOcsp: await ocspOf(sign.cert),
      authOcsp: await ocspOf(keys('consumer', 'auth').cert),
      client: CLIENT,
      service: SERVICE,
      head: { method: 'POST', path: '/echo/x', query: '', headers: [] },
      body: Buffer.from('x'),
    });
    const res = await sendToPeer(providerPeer, keys('consumer', 'auth'), forged);
    expect(JSON.parse(res.body.toString())).toMatchObject({ type: 'Server.ServerProxy.CertValidation', message: expect.stringMatching(/revoked/) });
    // A restarted consumer fetches the new status and refuses to sign with a revoked key.
    await n.consumer.restart();
    const viaGateway = await call(`${n.serviceUrl}/echo/x`, { method: 'POST', headers: [['X-Road-Client', CLIENT]], body: 'x' });
    expect(errorOf(viaGateway).type).toBe('Server.ClientProxy.CertValidation');
    expect(n.echo.calls.length).toBe(before);
  });
});

describe('malformed input', () => {
  it('is answered with an X-Road error and never takes a gateway down', async () => {
    const auth = keys('consumer', 'auth');
    const sign = keys('consumer', 'sign');
    const good = craftRequest({
      signKey: sign.key,
      signCert: sign.cert,
      signOcsp: await ocspOf(sign.cert),
      authOcsp: await ocspOf(auth.cert),
      client: CLIENT,
      service: SERVICE,
      head: { method: 'POST', path: '/echo/x', query: '', headers: [] },
      body: Buffer.from('x'),
    });
    const variants: Array<[string, WireMessage, string]> = [
      ['no trailers', { ...good, trailers: {} }, 'Server.ServerProxy.InvalidSignatureValue'],
      ['a head that is not JSON', { ...good, headers: { ...good.headers, [H.head]: 'bm90IGpzb24' } }, 'Server.ServerProxy.InvalidRequest'],
      ['no head', { ...good, headers: Object.fromEntries(Object.entries(good.headers).filter(([k]) => k !== H.head)) }, 'Server.ServerProxy.InvalidRequest'],
      ['a signature that is not XML', { ...good, trailers: { ...good.trailers, [H.signature]: Buffer.from('<<<').toString('base64') } }, 'Server.ServerProxy.InvalidSignatureValue'],
      ['a hash chain of garbage', { ...good, trailers: { ...good.trailers, [H.chain]: 'Q:!!!' } }, 'Server.ServerProxy.InvalidSignatureValue'],
      ['an OCSP response of garbage', { ...good, headers: { ...good.headers, [H.ocspSign]: 'AAAA' } }, 'Server.ServerProxy.CertValidation'],
    ];
    for (const [name, msg, type] of variants) {
      const res = await sendToPeer(providerPeer, auth, msg);
      expect(res.status, name).toBe(500);
      const body = JSON.parse(res.body.toString()) as { type: string; message: string };
      expect(body.type, name).toBe(type);
      expect(body.message, name).not.toMatch(/\n\s+at |node_modules/);
    }
    // Not even HTTP, on both ports.
    const net = await import('node:net');
    const raw = await new Promise<string>((resolve) => {
      const s = net.connect(n.consumer.spec.ports.consumer, '127.0.0.1', () => s.write('GARBAGE \x00\x01\r\n\r\n'));
      let out = '';
      s.on('data', (d: Buffer) => (out += d.toString()));
      s.on('close', () => resolve(out));
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400[\s\S]*X-Road-Error: Client\.InvalidRequest/);
    await new Promise<void>((resolve) => {
      const s = net.connect(n.provider.spec.ports.peer, '127.0.0.1', () => s.end(Buffer.from('definitely not TLS')));
      s.on('close', () => resolve());
      s.on('error', () => resolve());
    });
    const after = await call(`${n.consumer.consumerUrl}/listClients`);
    expect(after.status).toBe(200);
    expect((await fetch(`${n.provider.adminUrl}/health`)).status).toBeLessThan(600);
  });
});
