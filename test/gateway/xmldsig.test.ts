import type { KeyObject, X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignedXml } from 'xml-crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTree, leafHash } from '../../gateway/message/merkle.js';
import { claimedSigner, SIGNATURE_NS, SignatureDocumentError } from '../../gateway/message/signature-document.js';
import { verifySignatureDocument, XmlBatchSigner } from '../../gateway/message/xmldsig.js';
import { openssl, run } from '../support/run.js';
import { MOI, startTestPki, type TestPki } from '../support/pki.js';
import { requireTool } from '../support/tools.js';

let t: TestPki;
beforeAll(async () => {
  t = await startTestPki();
});
afterAll(() => t.close());

/** xmlsec1 with the root as trust anchor and the CamDX CA as an intermediate it may use. */
const xmlsec = (file: string) =>
  run('xmlsec1', ['--verify', '--trusted-pem', t.pki.layout.caCert('root-ca'), '--untrusted-pem', t.pki.layout.caCert('camdx-ca'), '--enabled-reference-uris', 'empty', '--enabled-key-data', 'x509', file]);

describe('signature documents', () => {
  it.each(['P-256', 'P-384', 'RSA-2048'] as const)('a %s signature verifies with xml-crypto and with xmlsec1 against the CA chain', requireTool('xmlsec1'), async (keyType) => {
    const signer = t.issue('member-signing', MOI, keyType);
    const tree = buildTree([Buffer.from('a'), Buffer.from('b'), Buffer.from('c')].map(leafHash));
    const xml = new XmlBatchSigner(signer.key.privateKey, signer.cert).sign({ root: tree.root, count: 3, signedAt: new Date('2026-11-25T10:00:00.123Z') });
    const statement = verifySignatureDocument(xml, signer.cert.publicKey);
    expect(statement.root.equals(tree.root)).toBe(true);
    expect(statement.count).toBe(3);
    expect(statement.signedAt.toISOString()).toBe('2026-11-25T10:00:00.123Z');
    expect(claimedSigner(xml).fingerprint256).toBe(signer.cert.fingerprint256);

    const file = join(t.dir, `sig-${keyType}.xml`);
    writeFileSync(file, xml);
    const ok = await xmlsec(file);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toContain('OK');
  });

  it('fails for tampered content, a tampered signature value, or another key — with both verifiers', requireTool('xmlsec1'), async () => {
    const signer = t.issue('member-signing', MOI);
    const other = t.issue('member-signing', MOI);
    const xml = new XmlBatchSigner(signer.key.privateKey, signer.cert).sign({ root: leafHash(Buffer.from('x')), count: 1, signedAt: new Date() });

    const tamperedCount = xml.replace('<cdx:Count>1</cdx:Count>', '<cdx:Count>2</cdx:Count>');
    const value = /<ds:SignatureValue>([^<]+)</.exec(xml)![1]!;
    const flipped = value.startsWith('A') ? `B${value.slice(1)}` : `A${value.slice(1)}`;
    const tamperedValue = xml.replace(value, flipped);
    for (const bad of [tamperedCount, tamperedValue]) {
      expect(() => verifySignatureDocument(bad, signer.cert.publicKey)).toThrow(SignatureDocumentError);
      const file = join(t.dir, 'bad.xml');
      writeFileSync(file, bad);
      expect((await xmlsec(file)).code).not.toBe(0);
    }
    expect(() => verifySignatureDocument(xml, other.cert.publicKey)).toThrow(/does not verify/);
  });

  it('a self-signed rogue certificate in KeyInfo passes xml-crypto only with its own key, and xmlsec1 refuses it', requireTool('openssl', 'xmlsec1'), async () => {
    const keyFile = join(t.dir, 'rogue.key');
    const certFile = join(t.dir, 'rogue.pem');
    await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', certFile, '-subj', '/C=KH/O=Ministry of Interior/serialNumber=CAMDX\\/GOV\\/MOI/CN=MOI', '-days', '30']);
    const { readFileSync } = await import('node:fs');
    const { createPrivateKey, X509Certificate } = await import('node:crypto');
    const rogueCert = new X509Certificate(readFileSync(certFile));
    const xml = new XmlBatchSigner(createPrivateKey(readFileSync(keyFile)), rogueCert).sign({ root: leafHash(Buffer.from('x')), count: 1, signedAt: new Date() });
    // Its own key verifies it: which is why the gateway checks the certificate's chain and
    // owner before using its key, and never uses KeyInfo to decide whom to trust.
    expect(verifySignatureDocument(xml, rogueCert.publicKey).count).toBe(1);
    const file = join(t.dir, 'rogue.xml');
    writeFileSync(file, xml);
    expect((await xmlsec(file)).code).not.toBe(0);
  });

  it('refuses documents that are not a single signed batch statement', () => {
    const signer = t.issue('member-signing', MOI);
    const xml = new XmlBatchSigner(signer.key.privateKey, signer.cert).sign({ root: leafHash(Buffer.from('x')), count: 1, signedAt: new Date() });
    expect(() => verifySignatureDocument('not xml <', signer.cert.publicKey)).toThrow(SignatureDocumentError);
    expect(() => verifySignatureDocument(xml.replace('</cdx:SignedBatch>', `${/<ds:Signature[\s\S]*<\/ds:Signature>/.exec(xml)![0]}</cdx:SignedBatch>`), signer.cert.publicKey)).toThrow(/exactly one/);
  });
});

describe('weak algorithms in signature documents', () => {
  /** A genuine signature by `key`, over a proper batch statement, with the algorithms a forger picks. */
  function signWith(key: KeyObject, cert: X509Certificate, signatureAlgorithm: string, digestAlgorithm: string): string {
    const xml =
      `<cdx:SignedBatch xmlns:cdx="${SIGNATURE_NS}"><cdx:Root Algorithm="http://www.w3.org/2001/04/xmlenc#sha512">${leafHash(Buffer.from('x')).toString('base64')}</cdx:Root>` +
      `<cdx:Count>1</cdx:Count><cdx:SigningTime>2026-11-25T10:00:00.000Z</cdx:SigningTime></cdx:SignedBatch>`;
    const keyInfo = `<ds:X509Data><ds:X509Certificate>${cert.raw.toString('base64')}</ds:X509Certificate></ds:X509Data>`;
    const sig = new SignedXml({ privateKey: key, signatureAlgorithm, canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#', getKeyInfoContent: () => keyInfo });
    sig.addReference({ xpath: '/*', transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'], digestAlgorithm, isEmptyUri: true });
    sig.computeSignature(xml, { prefix: 'ds', location: { reference: '/*', action: 'append' } });
    return sig.getSignedXml();
  }
  const RSA_SHA1 = 'http://www.w3.org/2000/09/xmldsig#rsa-sha1';
  const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
  const SHA1 = 'http://www.w3.org/2000/09/xmldsig#sha1';
  const SHA512 = 'http://www.w3.org/2001/04/xmlenc#sha512';

  it.each([
    ['an rsa-sha1 signature method', RSA_SHA1, SHA512, /SHA-1 is not accepted: the signature method is .*rsa-sha1/],
    ['a SHA-1 reference digest', RSA_SHA256, SHA1, /SHA-1 is not accepted: the reference digest is .*#sha1/],
    ['both', RSA_SHA1, SHA1, /SHA-1 is not accepted/],
  ])('refuses SHA-1 (%s) in a document the signer really signed', (_what, method, digest, reason) => {
    const signer = t.issue('member-signing', MOI, 'RSA-2048');
    const xml = signWith(signer.key.privateKey, signer.cert, method, digest);
    expect(xml).toContain(method);
    expect(() => verifySignatureDocument(xml, signer.cert.publicKey)).toThrow(reason);
    // The same signer with SHA-256 and SHA-512 is taken: the refusal is the algorithm's alone.
    expect(verifySignatureDocument(signWith(signer.key.privateKey, signer.cert, RSA_SHA256, SHA512), signer.cert.publicKey).count).toBe(1);
  });
});
