import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOcspRequest, readOcspResponse } from '../../certs/ocsp/client.js';
import { OcspStatus } from '../../certs/ocsp/responder.js';
import { openssl } from '../support/run.js';
import { MOI, startTestPki, type TestPki } from '../support/pki.js';
import { requireTool } from '../support/tools.js';

let t: TestPki;
beforeAll(async () => {
  t = await startTestPki();
});
afterAll(() => t.close());

/** `openssl ocsp` against our responder; -CAfile makes openssl verify the response signature. */
const ocsp = (certFile: string, issuer: 'camdx-ca' | 'camdigikey-ca' = 'camdx-ca', digest: string[] = []) =>
  openssl(['ocsp', '-url', `${t.url}/ocsp`, ...digest, '-issuer', t.issuerFile(issuer), '-cert', certFile, '-CAfile', t.caFile]);

const revoke = (serial: string, reason: string) =>
  fetch(`${t.url}/admin/revocations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${t.pki.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ serial, reason }),
  });

describe('OCSP responder', () => {
  it('openssl ocsp says good, with a verified delegated signature and the nonce echoed', requireTool('openssl'), async () => {
    const { certFile } = t.issue('member-signing', MOI);
    const res = await ocsp(certFile);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain('Response verify OK');
    expect(res.stdout).toContain(`${certFile}: good`);
    expect(res.stdout).toMatch(/This Update: .*\n\s+Next Update: /);
    expect(`${res.stdout}${res.stderr}`).not.toMatch(/nonce/i);
  });

  it('says revoked, with reason and time, once the certificate is revoked', requireTool('openssl'), async () => {
    const { certFile, serial } = t.issue('member-signing', MOI);
    expect((await revoke(serial, 'keyCompromise')).status).toBe(200);
    const res = await ocsp(certFile);
    expect(res.stderr).toContain('Response verify OK');
    expect(res.stdout).toContain(`${certFile}: revoked`);
    expect(res.stdout).toMatch(/Reason: keyCompromise/);
    expect(res.stdout).toMatch(/Revocation Time: /);
    const again = await revoke(serial, 'keyCompromise');
    expect(again.status).toBe(409);
  });

  it('answers for the CamDigiKey CA with its own delegated signer', requireTool('openssl'), async () => {
    const { certFile } = t.issue('user', { personalCode: '123456789', commonName: 'Chan Sophea' });
    const res = await ocsp(certFile, 'camdigikey-ca');
    expect(res.stderr).toContain('Response verify OK');
    expect(res.stdout).toContain(`${certFile}: good`);
    // A CertID mixing the CamDigiKey CA's name with the CamDX CA's key matches no CA it serves.
    const wrongIssuer = await ocsp(certFile, 'camdx-ca');
    expect(wrongIssuer.stdout).toContain('Responder Error: unauthorized (6)');
  });

  it('says unknown for a serial the CA never issued', requireTool('openssl'), async () => {
    const res = await openssl(['ocsp', '-url', `${t.url}/ocsp`, '-issuer', t.issuerFile('camdx-ca'), '-serial', '0x1234567890ABCDEF', '-CAfile', t.caFile]);
    expect(res.stderr).toContain('Response verify OK');
    expect(res.stdout).toMatch(/0x1234567890ABCDEF: unknown/);
  });

  it('answers GET requests (RFC 6960 appendix A) too', requireTool('openssl'), async () => {
    const { certFile } = t.issue('member-signing', MOI);
    const reqFile = join(t.dir, 'get.req');
    const respFile = join(t.dir, 'get.resp');
    const made = await openssl(['ocsp', '-issuer', t.issuerFile('camdx-ca'), '-cert', certFile, '-no_nonce', '-reqout', reqFile]);
    expect(made.code, made.stderr).toBe(0);
    const encoded = encodeURIComponent(readFileSync(reqFile).toString('base64'));
    const res = await fetch(`${t.url}/ocsp/${encoded}`);
    expect(res.headers.get('content-type')).toBe('application/ocsp-response');
    writeFileSync(respFile, Buffer.from(await res.arrayBuffer()));
    const check = await openssl(['ocsp', '-respin', respFile, '-issuer', t.issuerFile('camdx-ca'), '-cert', certFile, '-CAfile', t.caFile]);
    expect(check.stderr).toContain('Response verify OK');
    expect(check.stdout).toContain(`${certFile}: good`);
  });

  it('answers malformed requests with malformedRequest and keeps serving', requireTool('openssl'), async () => {
    for (const body of [Buffer.from('not DER at all'), Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00]), Buffer.alloc(0)]) {
      const res = await fetch(`${t.url}/ocsp`, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body });
      expect(res.status).toBe(200);
      expect(readOcspResponse(new Uint8Array(await res.arrayBuffer())).responseStatus).toBe(OcspStatus.malformedRequest);
    }
    const bad = await fetch(`${t.url}/ocsp/!!!not-base64`);
    expect(readOcspResponse(new Uint8Array(await bad.arrayBuffer())).responseStatus).toBe(OcspStatus.malformedRequest);
    const big = await fetch(`${t.url}/ocsp`, { method: 'POST', body: Buffer.alloc(100_000, 0x30) });
    expect(big.status).toBe(413);
    const { certFile } = t.issue('member-signing', MOI);
    expect((await ocsp(certFile)).stdout).toContain(': good');
  });

  it('refuses to answer for a CA it does not serve (unauthorized)', async () => {
    const other = await startTestPki();
    try {
      const { cert } = other.issue('member-signing', MOI);
      const request = buildOcspRequest(cert, other.pki.cas.get('camdx-ca')!.cert);
      const res = await fetch(`${t.url}/ocsp`, { method: 'POST', body: new Uint8Array(request) });
      expect(readOcspResponse(new Uint8Array(await res.arrayBuffer())).responseStatus).toBe(OcspStatus.unauthorized);
    } finally {
      await other.close();
    }
  });

  it('matches CertIDs hashed with SHA-256 as well as SHA-1', requireTool('openssl'), async () => {
    const { certFile } = t.issue('member-signing', MOI);
    const res = await ocsp(certFile, 'camdx-ca', ['-sha256']);
    expect(res.stderr).toContain('Response verify OK');
    expect(res.stdout).toContain(`${certFile}: good`);
  });
});
