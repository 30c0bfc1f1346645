import { sign, verify, X509Certificate, type KeyLike, type KeyObject } from 'node:crypto';
import { DOMParser } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import type { SignatureAlgorithm } from 'xml-crypto';
import { describeKey } from '../../certs/keys.js';
import { SIGNATURE_NS, SignatureDocumentError, type BatchStatement } from './signature-document.js';

/**
 * The signature document: a small XML document naming the Merkle root of a batch of message
 * digests, with an enveloped XMLDSig signature (exc-c14n, SHA-512 reference digest, ECDSA or
 * RSA) and the signer's certificate in KeyInfo. It verifies with xmlsec1 as well as with
 * xml-crypto. KeyInfo is never trusted: callers verify with the key of a certificate they
 * have checked themselves.
 */

const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
const SHA512 = 'http://www.w3.org/2001/04/xmlenc#sha512';

/** XMLDSig ECDSA values are raw r‖s (RFC 4050 / xmldsig-more), not DER. */
function ecdsa(uri: string, hash: 'sha256' | 'sha384' | 'sha512'): new () => SignatureAlgorithm {
  return class implements SignatureAlgorithm {
    getSignature(signedInfo: Parameters<SignatureAlgorithm['getSignature']>[0], privateKey: KeyLike): string {
      return sign(hash, Buffer.from(signedInfo as string), { key: privateKey as KeyObject, dsaEncoding: 'ieee-p1363' }).toString('base64');
    }
    verifySignature(material: string, key: KeyLike, signatureValue: string): boolean {
      return verify(hash, Buffer.from(material), { key: key as KeyObject, dsaEncoding: 'ieee-p1363' }, Buffer.from(signatureValue, 'base64'));
    }
    getAlgorithmName(): string {
      return uri;
    }
  } as unknown as new () => SignatureAlgorithm;
}

const ALGORITHMS: Record<string, { uri: string; impl?: new () => SignatureAlgorithm }> = {
  'P-256': { uri: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256', impl: ecdsa('http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256', 'sha256') },
  'P-384': { uri: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384', impl: ecdsa('http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384', 'sha384') },
  'P-521': { uri: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512', impl: ecdsa('http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512', 'sha512') },
  RSA: { uri: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256' },
};

function algorithmFor(key: KeyObject) {
  const d = describeKey(key);
  const alg = d.algorithm === 'RSA' ? ALGORITHMS.RSA : ALGORITHMS[d.label];
  if (!alg) throw new Error(`no XML signature algorithm for a ${d.label} key`);
  return alg;
}

/**
 * What a received document may use. SHA-1 is refused as a digest and inside a signature
 * method (rsa-sha1, ecdsa-sha1, hmac-sha1): collisions are practical, and xml-crypto would
 * otherwise accept them by default. Only the signature methods this module signs with pass.
 */
const ACCEPTED_DIGESTS = new Set([SHA512, 'http://www.w3.org/2001/04/xmlenc#sha256', 'http://www.w3.org/2001/04/xmldsig-more#sha384']);
const ACCEPTED_SIGNATURE_METHODS = new Set(Object.values(ALGORITHMS).map((a) => a.uri));
const isSha1 = (uri: string) => /sha1$/i.test(uri);

function checkAlgorithms(sig: SignedXml): void {
  const method = sig.signatureAlgorithm ?? '(none)';
  if (isSha1(method)) throw new SignatureDocumentError(`SHA-1 is not accepted: the signature method is ${method}`);
  if (!ACCEPTED_SIGNATURE_METHODS.has(method)) throw new SignatureDocumentError(`the signature method ${method} is not accepted`);
  for (const ref of sig.getReferences()) {
    const digest = ref.digestAlgorithm ?? '(none)';
    if (isSha1(digest)) throw new SignatureDocumentError(`SHA-1 is not accepted: the reference digest is ${digest}`);
    if (!ACCEPTED_DIGESTS.has(digest)) throw new SignatureDocumentError(`the reference digest ${digest} is not accepted`);
  }
}

function withAlgorithms(sig: SignedXml): SignedXml {
  for (const alg of Object.values(ALGORITHMS)) if (alg.impl) sig.SignatureAlgorithms[alg.uri] = alg.impl;
  return sig;
}

/** Produces signature documents for one key; the KeyInfo element is built once. */
export class XmlBatchSigner {
  private readonly keyInfo: string;
  private readonly algorithm: string;

  constructor(
    private readonly key: KeyObject,
    readonly certificate: X509Certificate,
  ) {
    this.algorithm = algorithmFor(key).uri;
    this.keyInfo = `<ds:X509Data><ds:X509Certificate>${certificate.raw.toString('base64')}</ds:X509Certificate></ds:X509Data>`;
  }

  sign(statement: BatchStatement): string {
    const xml =
      `<cdx:SignedBatch xmlns:cdx="${SIGNATURE_NS}">` +
      `<cdx:Root Algorithm="${SHA512}">${statement.root.toString('base64')}</cdx:Root>` +
      `<cdx:Count>${statement.count}</cdx:Count>` +
      `<cdx:SigningTime>${statement.signedAt.toISOString()}</cdx:SigningTime>` +
      `</cdx:SignedBatch>`;
    const sig = withAlgorithms(new SignedXml({ privateKey: this.key, signatureAlgorithm: this.algorithm, canonicalizationAlgorithm: EXC_C14N, getKeyInfoContent: () => this.keyInfo }));
    sig.addReference({ xpath: '/*', transforms: [ENVELOPED, EXC_C14N], digestAlgorithm: SHA512, isEmptyUri: true });
    sig.computeSignature(xml, { prefix: 'ds', location: { reference: '/*', action: 'append' } });
    return sig.getSignedXml();
  }
}

const SIGNED_CONTENT = new RegExp(
  `^<cdx:SignedBatch xmlns:cdx="${SIGNATURE_NS.replace(/[.:]/g, '\\$&')}">` +
    `<cdx:Root Algorithm="${SHA512.replace(/[./:#]/g, '\\$&')}">([A-Za-z0-9+/]{86}==)</cdx:Root>` +
    `<cdx:Count>([1-9][0-9]{0,6})</cdx:Count>` +
    `<cdx:SigningTime>(\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z)</cdx:SigningTime></cdx:SignedBatch>$`,
);

/**
 * Verifies the document with `publicKey` (from a certificate the caller has validated) and
 * returns what it states, read only from the signed bytes.
 */
export function verifySignatureDocument(xml: string, publicKey: KeyObject): BatchStatement {
  let doc: Document;
  try {
    doc = new DOMParser({ errorHandler: () => undefined }).parseFromString(xml, 'application/xml') as unknown as Document;
  } catch {
    throw new SignatureDocumentError('the signature document is not XML');
  }
  const signatures = doc?.getElementsByTagNameNS?.('http://www.w3.org/2000/09/xmldsig#', 'Signature');
  if (!signatures || signatures.length !== 1) throw new SignatureDocumentError('the signature document must hold exactly one ds:Signature');
  const sig = withAlgorithms(new SignedXml({ publicCert: publicKey, getCertFromKeyInfo: () => null }));
  try {
    sig.loadSignature(signatures[0] as unknown as Node);
  } catch {
    throw new SignatureDocumentError('the XML signature does not verify');
  }
  // Before any maths: a weak algorithm is refused for what it is, not as a failed signature.
  checkAlgorithms(sig);
  let valid: boolean;
  try {
    // checkSignature returns false for a digest mismatch and throws for a bad SignatureValue.
    valid = sig.checkSignature(xml);
  } catch {
    valid = false;
  }
  if (!valid) throw new SignatureDocumentError('the XML signature does not verify');
  const signed = sig.getSignedReferences();
  const match = signed.length === 1 ? SIGNED_CONTENT.exec(signed[0]!) : null;
  if (!match) throw new SignatureDocumentError('the signed content is not a CamDX batch statement');
  return { root: Buffer.from(match[1]!, 'base64'), count: Number(match[2]), signedAt: new Date(match[3]!) };
}
