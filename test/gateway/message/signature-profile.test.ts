import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTree, leafHash } from '../../../gateway/message/merkle.js';
import { ProfileSigner, verifyProfileDocument } from '../../../gateway/message/signature-profile.js';
import { SignatureDocumentError } from '../../../gateway/message/signature-document.js';
import { verifySignatureDocument, XmlBatchSigner } from '../../../gateway/message/xmldsig.js';
import { run } from '../../support/run.js';
import { MOI, startTestPki, type TestPki } from '../../support/pki.js';
import { requireTool } from '../../support/tools.js';

/**
 * The fixed-profile signature documents (issue 22): byte for byte what xml-crypto makes, accepted
 * by xmlsec1 and xml-crypto, and everything outside the one layout refused.
 */
let t: TestPki;
let signers: Record<KeyType, { key: ReturnType<TestPki['issue']>['key']; cert: ReturnType<TestPki['issue']>['cert'] }>;
const KEY_TYPES = ['P-256', 'P-384', 'RSA-2048'] as const;
type KeyType = (typeof KEY_TYPES)[number];

beforeAll(async () => {
  t = await startTestPki();
  signers = Object.fromEntries(KEY_TYPES.map((k) => [k, t.issue('member-signing', MOI, k)])) as unknown as typeof signers;
});
afterAll(() => t.close());

const statementOf = (size: number, at = Date.UTC(2026, 11, 4, 10, 0, 0, size % 1000)) => {
  const tree = buildTree(Array.from({ length: size }, (_, i) => leafHash(Buffer.from(`message ${size}.${i}`))));
  return { root: tree.root, count: size, signedAt: new Date(at) };
};
const withoutValue = (xml: string) => xml.replace(/<ds:SignatureValue>[^<]*<\/ds:SignatureValue>/, '');

describe('the profile signer', () => {
  it.each(KEY_TYPES)('makes what xml-crypto makes for a %s key, except the random signature value', (keyType) => {
    const { key, cert } = signers[keyType];
    const statement = statementOf(3);
    const fast = new ProfileSigner(key.privateKey, cert).sign(statement);
    const reference = new XmlBatchSigner(key.privateKey, cert).sign(statement);
    expect(withoutValue(fast)).toBe(withoutValue(reference));
    // Each verifier accepts the other's documents.
    expect(verifySignatureDocument(fast, cert.publicKey)).toEqual(statement);
    expect(verifyProfileDocument(reference, cert)).toEqual(statement);
  });

  it('writes 200 documents (batches of 1 to 1,024 leaves, each key type) that xmlsec1 and xml-crypto verify', { ...requireTool('xmlsec1'), timeout: 120_000 }, async () => {
    const sizes = Array.from({ length: 200 }, (_, i) => (i === 199 ? 1024 : 1 + ((i * 37) % 1023)));
    const files: string[] = [];
    sizes.forEach((size, i) => {
      const { key, cert } = signers[KEY_TYPES[i % KEY_TYPES.length]!];
      const statement = statementOf(size);
      const xml = new ProfileSigner(key.privateKey, cert).sign(statement);
      expect(verifySignatureDocument(xml, cert.publicKey)).toEqual(statement);
      expect(verifyProfileDocument(xml, cert)).toEqual(statement);
      const file = join(t.dir, `profile-${i}.xml`);
      writeFileSync(file, xml);
      files.push(file);
    });
    const chain = ['--trusted-pem', t.pki.layout.caCert('root-ca'), '--untrusted-pem', t.pki.layout.caCert('camdx-ca')];
    const verified = await Promise.all(files.map((file) => run('xmlsec1', ['--verify', ...chain, '--enabled-reference-uris', 'empty', '--enabled-key-data', 'x509', file])));
    verified.forEach((result, i) => expect(result.code, `${files[i]}: ${result.stderr}`).toBe(0));
  });
});

describe('the profile verifier', () => {
  const document = () => new ProfileSigner(signers['P-256'].key.privateKey, signers['P-256'].cert).sign(statementOf(5));
  const refuses = (xml: string, keyType: KeyType = 'P-256') => {
    expect(() => verifyProfileDocument(xml, signers[keyType].cert)).toThrow(SignatureDocumentError);
  };

  it.each([
    ['an extra element', (x: string) => x.replace('<cdx:Count>', '<cdx:Extra/><cdx:Count>')],
    ['an extra attribute', (x: string) => x.replace('<ds:Reference URI=""', '<ds:Reference Id="r" URI=""')],
    ['a reordered attribute', (x: string) => x.replace('<cdx:Root Algorithm=', '<cdx:Root  Algorithm=')],
    ['a comment', (x: string) => x.replace('<cdx:Count>', '<!-- c --><cdx:Count>')],
    ['another algorithm URI', (x: string) => x.replace('xmldsig-more#ecdsa-sha256', 'xmldsig-more#ecdsa-sha384')],
    ['another digest URI', (x: string) => x.replace('<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha512"', '<ds:DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"')],
    ['added whitespace', (x: string) => x.replace('<ds:SignedInfo>', '<ds:SignedInfo>\n  ')],
    ['missing whitespace in a declaration', (x: string) => x.replace('<ds:Signature xmlns:ds=', '<ds:Signaturexmlns:ds=')],
    ['a second ds:Signature', (x: string) => x.replace(/(<ds:Signature .*<\/ds:Signature>)/, '$1$1')],
    ['a DER-encoded ECDSA value', (x: string) => x.replace(/<ds:SignatureValue>[^<]+/, `<ds:SignatureValue>${Buffer.concat([Buffer.from([0x30, 0x44, 0x02, 0x20]), Buffer.alloc(32, 1), Buffer.from([0x02, 0x20]), Buffer.alloc(32, 2)]).toString('base64')}`)],
    ['an ECDSA value of the wrong length', (x: string) => x.replace(/<ds:SignatureValue>[^<]+/, `<ds:SignatureValue>${Buffer.alloc(63, 7).toString('base64')}`)],
    ['a certificate that does not parse', (x: string) => x.replace(/<ds:X509Certificate>[^<]+/, '<ds:X509Certificate>AAAA')],
    ['another count', (x: string) => x.replace('<cdx:Count>5<', '<cdx:Count>6<')],
    ['a signing time that is no date', (x: string) => x.replace(/<cdx:SigningTime>[^<]+/, '<cdx:SigningTime>2026-13-45T10:00:00.000Z')],
  ])('refuses %s', (_name, change) => {
    const original = document();
    const changed = change(original);
    expect(changed).not.toBe(original);
    refuses(changed);
  });

  it('refuses a document checked against another signer, or another key type', () => {
    refuses(document(), 'RSA-2048');
    refuses(document(), 'P-384');
  });

  it('refuses every single-byte change of one document', () => {
    const original = Buffer.from(document());
    let refused = 0;
    for (let i = 0; i < original.length; i++) {
      const changed = Buffer.from(original);
      changed[i] = changed[i]! ^ 0x01;
      expect(() => verifyProfileDocument(changed.toString('latin1'), signers['P-256'].cert), `byte ${i}`).toThrow(SignatureDocumentError);
      refused += 1;
    }
    expect(refused).toBe(original.length);
  });
});
