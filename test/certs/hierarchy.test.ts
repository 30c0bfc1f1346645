import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, renameSync, statSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createCsr } from '../../certs/csr.js';
import { initPki } from '../../certs/hierarchy.js';
import { generateKeyPair } from '../../certs/keys.js';
import { pkiLayout } from '../../certs/layout.js';
import { buildOcspRequest, readOcspResponse } from '../../certs/ocsp/client.js';
import { loadOnlinePki } from '../../certs/online.js';
import { getProfile } from '../../certs/profiles.js';
import { createPkiServices, startPkiServer } from '../../certs/server.js';
import { readTimestampResponse, timestampQueryFor } from '../../certs/tsa/client.js';
import { openssl } from '../support/run.js';
import { capturingLogger, MOI } from '../support/pki.js';
import { tempDir } from '../support/tmp.js';
import { requireTool } from '../support/tools.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));
function freshState() {
  const tmp = tempDir();
  cleanups.push(tmp.cleanup);
  return tmp.path;
}

describe('CA hierarchy', () => {
  it('creates an offline root whose key is encrypted at rest and a 0600 passphrase file', requireTool('openssl'), async () => {
    const stateDir = freshState();
    const { created, layout } = initPki({ stateDir, log: capturingLogger().log });
    expect(created).toEqual(['settings', 'root-ca', 'camdx-ca', 'camdigikey-ca', 'camdx-ca ocsp-signer', 'camdigikey-ca ocsp-signer', 'tsa', 'admin-token']);
    expect(readFileSync(layout.rootKey, 'utf8')).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    for (const secret of [layout.rootKey, layout.rootPassphrase, layout.caKey('camdx-ca'), layout.ocspKey('camdx-ca'), layout.tsaKey, layout.adminToken]) {
      expect(statSync(secret).mode & 0o777, secret).toBe(0o600);
    }
    const wrong = await openssl(['pkey', '-in', layout.rootKey, '-passin', 'pass:wrong', '-noout']);
    expect(wrong.code).not.toBe(0);
    const right = await openssl(['pkey', '-in', layout.rootKey, '-passin', `file:${layout.rootPassphrase}`, '-noout']);
    expect(right.code, right.stderr).toBe(0);
  });

  it('uses a passphrase from the caller instead of writing one', requireTool('openssl'), async () => {
    const stateDir = freshState();
    const { layout } = initPki({ stateDir, rootPassphrase: 'from-the-environment', log: capturingLogger().log });
    expect(existsSync(layout.rootPassphrase)).toBe(false);
    expect((await openssl(['pkey', '-in', layout.rootKey, '-passin', 'pass:from-the-environment', '-noout'])).code).toBe(0);
  });

  it('is idempotent: a second init creates nothing and keeps every certificate', () => {
    const stateDir = freshState();
    const layout = pkiLayout(stateDir);
    initPki({ stateDir, log: capturingLogger().log });
    const before = readFileSync(layout.caCert('camdx-ca'), 'utf8');
    expect(initPki({ stateDir, log: capturingLogger().log }).created).toEqual([]);
    expect(readFileSync(layout.caCert('camdx-ca'), 'utf8')).toBe(before);
  });

  it('chains every CA and service certificate to the root, with the right profile extensions', requireTool('openssl'), async () => {
    const stateDir = freshState();
    const { layout } = initPki({ stateDir, log: capturingLogger().log });
    const root = layout.caCert('root-ca');
    for (const ca of ['camdx-ca', 'camdigikey-ca'] as const) {
      expect((await openssl(['verify', '-CAfile', root, layout.caCert(ca)])).stdout).toContain(': OK');
      expect((await openssl(['verify', '-CAfile', root, '-untrusted', layout.caCert(ca), layout.ocspCert(ca)])).stdout).toContain(': OK');
      const text = (await openssl(['x509', '-in', layout.caCert(ca), '-noout', '-ext', 'basicConstraints,keyUsage'])).stdout;
      expect(text).toMatch(/critical\s+CA:TRUE, pathlen:0/);
      expect(text).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign/);
      const ocspText = (await openssl(['x509', '-in', layout.ocspCert(ca), '-noout', '-text'])).stdout;
      expect(ocspText).toMatch(/Extended Key Usage: \s+OCSP Signing/);
      expect(ocspText).toContain('OCSP No Check');
    }
    expect((await openssl(['verify', '-CAfile', root, '-untrusted', layout.caCert('camdx-ca'), layout.tsaCert])).stdout).toContain(': OK');
    const rootCert = new X509Certificate(readFileSync(root));
    expect(rootCert.issuer).toBe(rootCert.subject);
    expect(rootCert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('secp384r1');
  });

  it('runs the online service without the offline root key', async () => {
    const stateDir = freshState();
    const { layout } = initPki({ stateDir, log: capturingLogger().log });
    renameSync(layout.offlineDir, `${layout.offlineDir}.away`);
    const pki = loadOnlinePki(stateDir);
    try {
      const services = createPkiServices(pki);
      const { token } = services.ra.enrol('member-signing', MOI);
      const issued = services.ra.submit(createCsr(getProfile('member-signing').subject(MOI), generateKeyPair('P-256').privateKey), token);
      const answer = readOcspResponse(services.ocsp.respond(buildOcspRequest(new X509Certificate(issued.der), pki.cas.get('camdx-ca')!.cert)));
      expect(answer.certStatus).toBe('good');
      expect(readTimestampResponse(services.tsa.respond(timestampQueryFor(Buffer.from('x')))).status).toBe(0);
    } finally {
      pki.close();
    }
  });

  it('never writes keys, passphrases or tokens to its logs', async () => {
    const stateDir = freshState();
    const { log, lines } = capturingLogger();
    const { layout } = initPki({ stateDir, log });
    const pki = loadOnlinePki(stateDir);
    const server = await startPkiServer(pki, { host: '127.0.0.1', port: 0, log });
    let enrolmentToken = '';
    try {
      const admin = { authorization: `Bearer ${pki.adminToken}`, 'content-type': 'application/json' };
      const enrolled = (await (await fetch(`${server.url}/admin/enrolments`, { method: 'POST', headers: admin, body: JSON.stringify({ profile: 'member-signing', identity: MOI }) })).json()) as { token: string };
      enrolmentToken = enrolled.token;
      const key = generateKeyPair('P-256');
      const res = await fetch(`${server.url}/ra/certificates`, { method: 'POST', headers: { authorization: `Bearer ${enrolled.token}` }, body: new Uint8Array(createCsr(getProfile('member-signing').subject(MOI), key.privateKey)) });
      expect(res.status).toBe(201);
      await fetch(`${server.url}/ra/certificates`, { method: 'POST', headers: { authorization: `Bearer ${enrolled.token}` }, body: 'junk' });
      await fetch(`${server.url}/admin/enrolments`, { method: 'POST', headers: { authorization: 'Bearer guess' }, body: '{}' });
    } finally {
      await server.close();
      pki.close();
    }
    const logged = lines.join('');
    expect(logged).toContain('certificate issued');
    const secrets = [
      pki.adminToken,
      enrolmentToken,
      readFileSync(layout.rootPassphrase, 'utf8').trim(),
      ...[layout.caKey('camdx-ca'), layout.tsaKey, layout.ocspKey('camdx-ca')].map((f) => readFileSync(f, 'utf8').split('\n')[1]!),
    ];
    for (const secret of secrets) expect(logged).not.toContain(secret);
    expect(logged).not.toMatch(/PRIVATE KEY|Bearer/);
  });
});
