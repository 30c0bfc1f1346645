import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:tls';
import { join } from 'node:path';
import forge from 'node-forge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeystore, readKeystore } from '../../certs/pkcs12.js';
import { openssl } from '../support/run.js';
import { MOI, startTestPki, type TestPki } from '../support/pki.js';
import { requireTool } from '../support/tools.js';

let t: TestPki;
beforeAll(async () => {
  t = await startTestPki();
});
afterAll(() => t.close());

const SERVER = { ...MOI, serverCode: 'SS1', dns: ['localhost'], ip: ['127.0.0.1'] };

function keystoreFor(profile: 'server-auth' | 'member-signing', keyType?: 'P-256' | 'RSA-2048' | 'P-384') {
  const issued = t.issue(profile, profile === 'server-auth' ? SERVER : MOI, keyType);
  const chain = [issued.cert.raw, t.pki.cas.get('camdx-ca')!.cert.raw];
  return { issued, p12: createKeystore({ privateKey: issued.key.privateKey, certificates: chain, password: 'correct horse', friendlyName: 'CAMDX/GOV/MOI' }) };
}

describe('PKCS#12 keystores', () => {
  it.each(['P-256', 'P-384', 'RSA-2048'] as const)('openssl pkcs12 reads a %s keystore with its key and chain', requireTool('openssl'), async (keyType) => {
    const { issued, p12 } = keystoreFor('member-signing', keyType);
    const file = join(t.dir, `ks-${keyType}.p12`);
    writeFileSync(file, p12);
    const info = await openssl(['pkcs12', '-info', '-in', file, '-passin', 'pass:correct horse', '-noout']);
    expect(info.code, info.stderr).toBe(0);
    expect(info.stderr).toContain('MAC: sha256');
    expect(info.stderr).toContain('Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC');
    const dump = await openssl(['pkcs12', '-in', file, '-passin', 'pass:correct horse', '-nodes']);
    expect(dump.stdout.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(dump.stdout).toContain('BEGIN PRIVATE KEY');
    expect(dump.stdout).toContain('friendlyName: CAMDX/GOV/MOI');
    const wrong = await openssl(['pkcs12', '-info', '-in', file, '-passin', 'pass:wrong', '-noout']);
    expect(wrong.code).not.toBe(0);
    const back = readKeystore(p12, 'correct horse');
    expect(back.certificates[0]!.serialNumber).toBe(issued.serial);
    expect(back.certificates[0]!.checkPrivateKey(back.privateKey!)).toBe(true);
  });

  it('is accepted by node:tls as pfx on both ends of a mutually authenticated connection', async () => {
    const serverStore = keystoreFor('server-auth').p12;
    const clientStore = keystoreFor('server-auth').p12;
    const ca = [t.pki.root.toString()];
    const server = createServer({ pfx: serverStore, passphrase: 'correct horse', ca, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' }, (socket) => {
      socket.end(String(socket.getPeerCertificate().subject.CN));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, pfx: clientStore, passphrase: 'correct horse', ca, servername: 'localhost' }, () => {
        let data = '';
        socket.on('data', (d: Buffer) => (data += d.toString()));
        socket.on('end', () => resolve(data));
      });
      socket.on('error', reject);
    });
    server.close();
    expect(reply).toBe('SS1');
  });

  it('reads keystores made by openssl, and refuses a wrong password', requireTool('openssl'), async () => {
    const { issued } = keystoreFor('member-signing');
    const keyFile = join(t.dir, 'k.pem');
    const certFile = join(t.dir, 'c.pem');
    const out = join(t.dir, 'openssl.p12');
    writeFileSync(keyFile, issued.key.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    writeFileSync(certFile, issued.cert.toString());
    const made = await openssl(['pkcs12', '-export', '-inkey', keyFile, '-in', certFile, '-passout', 'pass:pw', '-out', out]);
    expect(made.code, made.stderr).toBe(0);
    const ks = readKeystore(readFileSync(out), 'pw');
    expect(ks.certificates[0]!.serialNumber).toBe(issued.serial);
    expect(() => readKeystore(readFileSync(out), 'nope')).toThrow(/cannot open the PKCS#12 keystore/);
    expect(() => readKeystore(Buffer.from('not a keystore'), 'pw')).toThrow(/cannot open/);
  });

  it('makes certificate-only truststores that node-forge parses (as the official CamDigiKey client does)', () => {
    const root = t.pki.root;
    const p12 = createKeystore({ certificates: [root.raw], password: 'trust' });
    const parsed = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(p12.toString('binary')), 'trust');
    const bags = parsed.getBags({ bagType: forge.pki.oids.certBag })[forge.pki.oids.certBag]!;
    expect(bags).toHaveLength(1);
    const back = readKeystore(p12, 'trust');
    expect(back.privateKey).toBeUndefined();
    expect(new X509Certificate(back.certificates[0]!.raw).fingerprint256).toBe(root.fingerprint256);
  });
});
