import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCsr } from '../../certs/csr.js';
import { basicConstraintsExtension, extKeyUsageExtension, keyUsageExtension, subjectAltNameExtension } from '../../certs/extensions.js';
import { generateKeyPair, privateKeyToPem, type KeyType } from '../../certs/keys.js';
import { OID } from '../../certs/oids.js';
import { toPem } from '../../certs/pem.js';
import { getProfile, type Identity, type ProfileName } from '../../certs/profiles.js';
import { RegistrationAuthority, RaRejection } from '../../certs/ra.js';
import { ocspUrlOf } from '../../certs/settings.js';
import { openssl } from '../support/run.js';
import { MOI, startTestPki, type TestPki } from '../support/pki.js';
import { requireTool } from '../support/tools.js';

let t: TestPki;
beforeAll(async () => {
  t = await startTestPki();
});
afterAll(() => t.close());

const SERVER: Identity = { ...MOI, serverCode: 'SS1', dns: ['gw.moi.camdx.test', 'localhost'], ip: ['127.0.0.1'] };
const IDENTITIES: Record<string, Identity> = {
  'member-signing': MOI,
  'server-auth': SERVER,
  user: { personalCode: '010203040', commonName: 'Sok Dara' },
  'service-account': { clientId: 'demo-client', domain: 'bank.example.test' },
  'camdigikey-tls': { commonName: 'camdigikey.camdx.test', dns: ['camdigikey.camdx.test'], ip: ['127.0.0.1'] },
  'camdigikey-token-signer': { commonName: 'CamDigiKey Access Token Signer' },
};

async function submit(csr: Buffer | string, token?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${t.url}/ra/certificates`, {
    method: 'POST',
    headers: token ? { authorization: `Bearer ${token}` } : {},
    body: typeof csr === 'string' ? csr : new Uint8Array(csr),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const enrol = (profile: ProfileName, identity: Identity, ttl?: number) => t.services.ra.enrol(profile, identity, ttl).token;
const csrFor = (profile: ProfileName, identity: Identity, keyType: KeyType = 'P-256', extensions: pkijs.Extension[] = []) =>
  createCsr(getProfile(profile).subject(identity), generateKeyPair(keyType).privateKey, extensions);

describe('registration authority: good requests', () => {
  it.each(Object.keys(IDENTITIES))('issues a %s certificate whose chain openssl verify accepts', requireTool('openssl'), async (profile) => {
    const p = getProfile(profile as ProfileName);
    const identity = IDENTITIES[profile]!;
    const res = await submit(toPem(csrFor(p.name, identity, p.defaultKeyType), 'CERTIFICATE REQUEST'), enrol(p.name, identity));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const file = join(t.dir, `${profile}.pem`);
    writeFileSync(file, res.body.certificate as string);
    const verify = await openssl(['verify', '-CAfile', t.pki.layout.caCert('root-ca'), '-untrusted', t.issuerFile(p.issuer as 'camdx-ca'), file]);
    expect(verify.stdout.trim()).toBe(`${file}: OK`);
    const chain = res.body.chain as string[];
    expect(chain).toHaveLength(2);
    expect(new X509Certificate(chain[1]!).subject).toContain(p.issuer === 'camdx-ca' ? 'CamDX CA' : 'CamDigiKey CA');
  });

  it('accepts a DER CSR made by openssl req, and fills the profile extensions', requireTool('openssl'), async () => {
    const keyFile = join(t.dir, 'openssl-key.pem');
    const csrFile = join(t.dir, 'openssl.csr');
    writeFileSync(keyFile, privateKeyToPem(generateKeyPair('P-256').privateKey));
    const made = await openssl(['req', '-new', '-key', keyFile, '-subj', '/C=KH/O=Ministry of Interior/serialNumber=CAMDX\\/GOV\\/MOI/CN=MOI', '-outform', 'DER', '-out', csrFile]);
    expect(made.code, made.stderr).toBe(0);
    const res = await submit(readFileSync(csrFile), enrol('member-signing', MOI));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const cert = new X509Certificate(res.body.certificate as string);
    expect(cert.subject.split('\n')).toEqual(['C=KH', 'O=Ministry of Interior', 'serialNumber=CAMDX/GOV/MOI', 'CN=MOI']);
    const text = (await openssl(['x509', '-noout', '-text'], { input: res.body.certificate as string })).stdout;
    expect(text).toMatch(/Key Usage: critical\s+Non Repudiation/);
    expect(text).not.toMatch(/Digital Signature/);
    expect(text).toMatch(/OCSP - URI:http:\/\/127\.0\.0\.1:4100\/ocsp/);
  });

  it('gives authentication and signing certificates distinct key usages', requireTool('openssl'), async () => {
    const auth = await submit(csrFor('server-auth', SERVER), enrol('server-auth', SERVER));
    const text = (await openssl(['x509', '-noout', '-ext', 'keyUsage,extendedKeyUsage,subjectAltName,basicConstraints'], { input: auth.body.certificate as string })).stdout;
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature\n/);
    expect(text).toMatch(/TLS Web Server Authentication, TLS Web Client Authentication/);
    expect(text).toMatch(/DNS:gw\.moi\.camdx\.test, DNS:localhost, IP Address:127\.0\.0\.1/);
    expect(text).toMatch(/CA:FALSE/);
    expect(new X509Certificate(auth.body.certificate as string).subject).toContain('CN=SS1');
  });

  it('issues the CamDigiKey token signer on P-521 only', async () => {
    const res = await submit(csrFor('camdigikey-token-signer', IDENTITIES['camdigikey-token-signer']!, 'P-521'), enrol('camdigikey-token-signer', IDENTITIES['camdigikey-token-signer']!));
    expect(res.status).toBe(201);
    expect(new X509Certificate(res.body.certificate as string).publicKey.asymmetricKeyDetails?.namedCurve).toBe('secp521r1');
  });
});

describe('registration authority: refusals name their rule and change nothing', () => {
  const flipLastByte = (der: Buffer) => {
    const copy = Buffer.from(der);
    copy[copy.length - 1]! ^= 0x01;
    return copy;
  };
  const rsaCsr = (bits: number) => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
    return createCsr(getProfile('member-signing').subject(MOI), privateKey);
  };
  const custom = new pkijs.Extension({ extnID: '2.5.29.30', critical: true, extnValue: new asn1js.Sequence().toBER(false) });

  const SIGNER = IDENTITIES['camdigikey-token-signer']!;
  type Enrolled = { profile: ProfileName; identity: Identity };
  const moi: Enrolled = { profile: 'member-signing', identity: MOI };
  const server: Enrolled = { profile: 'server-auth', identity: SERVER };
  const signer: Enrolled = { profile: 'camdigikey-token-signer', identity: SIGNER };

  /** [case, enrolment the token is for (none: no valid token), CSR, rule, HTTP status] */
  const cases: Array<[string, Enrolled | 'none' | 'unknown', () => Buffer | string, string, number]> = [
    ['a bad self-signature', moi, () => flipLastByte(csrFor('member-signing', MOI)), 'csr.signature', 400],
    ['an RSA-1024 key', moi, () => rsaCsr(1024), 'key.rsa-size', 400],
    ['the wrong curve for the profile (P-521 signing key)', moi, () => csrFor('member-signing', MOI, 'P-521'), 'key.curve', 400],
    ['the wrong curve for the token signer (P-256)', signer, () => csrFor('camdigikey-token-signer', SIGNER, 'P-256'), 'key.curve', 400],
    ['an RSA key for the P-521-only token signer', signer, () => csrFor('camdigikey-token-signer', SIGNER, 'RSA-2048'), 'key.type', 400],
    ["another member's identity", moi, () => csrFor('member-signing', { ...MOI, memberCode: 'MOC', memberName: 'Ministry of Commerce' }), 'subject.mismatch', 400],
    ['a subject missing its serialNumber', moi, () => createCsr({ C: 'KH', O: 'Ministry of Interior', CN: 'MOI' }, generateKeyPair('P-256').privateKey), 'subject.mismatch', 400],
    ['no enrolment token', 'none', () => csrFor('member-signing', MOI), 'token.missing', 401],
    ['an unknown enrolment token', 'unknown', () => csrFor('member-signing', MOI), 'token.unknown', 403],
    ['an extra SAN', server, () => csrFor('server-auth', SERVER, 'P-256', [subjectAltNameExtension({ dns: ['gw.moi.camdx.test', 'evil.example'], ip: [] })]), 'extension.san', 400],
    ['a SAN on a profile without SANs', moi, () => csrFor('member-signing', MOI, 'P-256', [subjectAltNameExtension({ dns: ['moi.example'], ip: [] })]), 'extension.san', 400],
    ['CA:TRUE', moi, () => csrFor('member-signing', MOI, 'P-256', [basicConstraintsExtension(true)]), 'extension.basic-constraints', 400],
    ['the wrong key usage (keyCertSign)', moi, () => csrFor('member-signing', MOI, 'P-256', [keyUsageExtension(['nonRepudiation', 'keyCertSign'])]), 'extension.key-usage', 400],
    ['a TLS usage on a signing certificate', moi, () => csrFor('member-signing', MOI, 'P-256', [extKeyUsageExtension([OID.serverAuth], false)]), 'extension.ext-key-usage', 400],
    ['an unexpected extension', moi, () => csrFor('member-signing', MOI, 'P-256', [custom]), 'extension.unexpected', 400],
    ['garbage instead of a CSR', moi, () => Buffer.from('definitely not DER'), 'csr.malformed', 400],
    ['a PEM block that is not a CSR', moi, () => toPem(Buffer.from('junk'), 'CERTIFICATE REQUEST'), 'csr.malformed', 400],
  ];

  it.each(cases)('refuses %s', async (_name, enrolled, makeCsr, rule, status) => {
    const token = enrolled === 'none' ? undefined : enrolled === 'unknown' ? 'not-a-token-we-issued' : enrol(enrolled.profile, enrolled.identity);
    const before = t.pki.store.countCertificates();
    const res = await submit(makeCsr(), token);
    expect(res.status).toBe(status);
    expect(res.body.error).toBe(rule);
    expect(String(res.body.message).length).toBeGreaterThan(10);
    expect(t.pki.store.countCertificates()).toBe(before);
    if (typeof enrolled === 'object') {
      // The token survives a refusal: the applicant fixes the CSR and tries again.
      const keyType = getProfile(enrolled.profile).defaultKeyType;
      expect((await submit(csrFor(enrolled.profile, enrolled.identity, keyType), token)).status).toBe(201);
    }
  });

  it('refuses an oversized body with 413 and keeps serving', async () => {
    const before = t.pki.store.countCertificates();
    const res = await fetch(`${t.url}/ra/certificates`, { method: 'POST', headers: { authorization: 'Bearer x' }, body: Buffer.alloc(200_000, 0x30) });
    expect(res.status).toBe(413);
    expect(t.pki.store.countCertificates()).toBe(before);
    expect((await fetch(`${t.url}/health`)).status).toBe(200);
  });

  it('refuses a used token', async () => {
    const token = enrol('member-signing', MOI);
    expect((await submit(csrFor('member-signing', MOI), token)).status).toBe(201);
    const before = t.pki.store.countCertificates();
    const again = await submit(csrFor('member-signing', MOI), token);
    expect(again.body.error).toBe('token.used');
    expect(t.pki.store.countCertificates()).toBe(before);
  });

  it('refuses an expired token', () => {
    let now = Date.now();
    const ra = new RegistrationAuthority(t.pki.store, t.pki.cas, ocspUrlOf(t.pki.settings), () => now);
    const { token } = ra.enrol('member-signing', MOI, 60);
    now += 61_000;
    const before = t.pki.store.countCertificates();
    expect(() => ra.submit(csrFor('member-signing', MOI), token)).toThrow(RaRejection);
    try {
      ra.submit(csrFor('member-signing', MOI), token);
    } catch (err) {
      expect((err as RaRejection).rule).toBe('token.expired');
    }
    expect(t.pki.store.countCertificates()).toBe(before);
  });

  it('will not enrol a malformed identity or a CA profile', () => {
    expect(() => t.services.ra.enrol('member-signing', { ...MOI, memberCode: 'M O I' })).toThrow(/memberCode/);
    expect(() => t.services.ra.enrol('server-auth', { ...SERVER, dns: ['bad host!'] })).toThrow(/dns name/);
    expect(() => t.services.ra.enrol('intermediate-ca', { commonName: 'Evil CA' })).toThrow(/issued by 'camdx pki init' only/);
    expect(() => t.services.ra.enrol('nope', MOI)).toThrow(/unknown profile/);
  });
});
