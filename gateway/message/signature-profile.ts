import { createHash, sign, verify, type KeyObject, type X509Certificate } from 'node:crypto';
import { describeKey } from '../../certs/keys.js';
import { SignatureDocumentError, SIGNATURE_NS, type BatchStatement } from './signature-document.js';

/**
 * The fixed profile of our own signature documents, signed and verified without an XML library.
 *
 * A signature document (xmldsig.ts) has one layout: the batch statement, and an enveloped
 * XMLDSig signature over it with exclusive canonicalisation, a SHA-512 reference digest and the
 * signer's certificate. Its canonical bytes are therefore known in advance except for a few
 * fields — root, count, signing time, digest value, signature value, certificate — so this module
 * fills them into templates and signs and verifies with node:crypto. It is a profile of XMLDSig,
 * not a format of its own: the documents are byte for byte what xml-crypto makes (tests compare
 * them), xmlsec1 and xml-crypto verify them, and `camdx verify` still uses xml-crypto
 * (xmldsig.ts `verifySignatureDocument`). A document in any other layout — an extra element or
 * attribute, a comment, whitespace, another algorithm, a second signature — is refused.
 */

const DS = 'http://www.w3.org/2000/09/xmldsig#';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
const SHA512 = 'http://www.w3.org/2001/04/xmlenc#sha512';

interface Method {
  readonly uri: string;
  readonly hash: 'sha256' | 'sha384' | 'sha512';
  /** ECDSA: r‖s, each this many bytes (IEEE P1363, what XMLDSig and xmlsec1 use); RSA: undefined. */
  readonly ecdsaHalf?: number;
}

/** The signature method for each member-signing key type. */
const METHODS: Record<string, Method> = {
  'P-256': { uri: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256', hash: 'sha256', ecdsaHalf: 32 },
  'P-384': { uri: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384', hash: 'sha384', ecdsaHalf: 48 },
  'P-521': { uri: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512', hash: 'sha512', ecdsaHalf: 66 },
  RSA: { uri: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', hash: 'sha256' },
};

function methodFor(key: KeyObject): Method {
  const d = describeKey(key);
  const method = d.algorithm === 'RSA' ? METHODS.RSA : METHODS[d.label];
  if (!method) throw new Error(`no XML signature algorithm for a ${d.label} key`);
  return method;
}

const CLOSE = '</cdx:SignedBatch>';

/** The statement element without its signature: what the enveloped reference digests, already canonical. */
function statementXml(s: BatchStatement): string {
  return (
    `<cdx:SignedBatch xmlns:cdx="${SIGNATURE_NS}">` +
    `<cdx:Root Algorithm="${SHA512}">${s.root.toString('base64')}</cdx:Root>` +
    `<cdx:Count>${s.count}</cdx:Count>` +
    `<cdx:SigningTime>${s.signedAt.toISOString()}</cdx:SigningTime>` +
    CLOSE
  );
}

/** SignedInfo as the document carries it (empty elements self-closed) or canonicalised (exc-c14n: expanded, ds declared on it). */
function signedInfo(methodUri: string, digest: string, canonical: boolean): string {
  const empty = (name: string, algorithm: string) => (canonical ? `<ds:${name} Algorithm="${algorithm}"></ds:${name}>` : `<ds:${name} Algorithm="${algorithm}"/>`);
  return (
    `<ds:SignedInfo${canonical ? ` xmlns:ds="${DS}"` : ''}>` +
    empty('CanonicalizationMethod', EXC_C14N) +
    empty('SignatureMethod', methodUri) +
    `<ds:Reference URI=""><ds:Transforms>${empty('Transform', ENVELOPED)}${empty('Transform', EXC_C14N)}</ds:Transforms>` +
    `${empty('DigestMethod', SHA512)}<ds:DigestValue>${digest}</ds:DigestValue></ds:Reference>` +
    `</ds:SignedInfo>`
  );
}

const digestOf = (statement: string): string => createHash('sha512').update(statement).digest('base64');

/** Signs batch statements for one key: the same documents as XmlBatchSigner, without a DOM. */
export class ProfileSigner {
  private readonly method: Method;
  private readonly keyInfo: string;

  constructor(
    private readonly key: KeyObject,
    readonly certificate: X509Certificate,
  ) {
    this.method = methodFor(key);
    this.keyInfo = `<ds:KeyInfo><ds:X509Data><ds:X509Certificate>${certificate.raw.toString('base64')}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>`;
  }

  sign(statement: BatchStatement): string {
    const body = statementXml(statement);
    const digest = digestOf(body);
    const value = sign(this.method.hash, Buffer.from(signedInfo(this.method.uri, digest, true)), {
      key: this.key,
      ...(this.method.ecdsaHalf ? { dsaEncoding: 'ieee-p1363' as const } : {}),
    }).toString('base64');
    // Enveloped: the signature is the statement's last child.
    const signature = `<ds:Signature xmlns:ds="${DS}">${signedInfo(this.method.uri, digest, false)}<ds:SignatureValue>${value}</ds:SignatureValue>${this.keyInfo}</ds:Signature>`;
    return `${body.slice(0, -CLOSE.length)}${signature}${CLOSE}`;
  }
}

const B64 = '[A-Za-z0-9+/]+={0,2}';
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
/** The whole document, in exactly the one layout; the groups are its variable fields. */
const LAYOUT = new RegExp(
  '^' +
    escape(`<cdx:SignedBatch xmlns:cdx="${SIGNATURE_NS}"><cdx:Root Algorithm="${SHA512}">`) +
    '([A-Za-z0-9+/]{86}==)' +
    escape('</cdx:Root><cdx:Count>') +
    '([1-9][0-9]{0,6})' +
    escape('</cdx:Count><cdx:SigningTime>') +
    '(\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z)' +
    escape(`</cdx:SigningTime><ds:Signature xmlns:ds="${DS}"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="${EXC_C14N}"/><ds:SignatureMethod Algorithm="`) +
    '([^"]+)' +
    escape(`"/><ds:Reference URI=""><ds:Transforms><ds:Transform Algorithm="${ENVELOPED}"/><ds:Transform Algorithm="${EXC_C14N}"/></ds:Transforms>`) +
    escape(`<ds:DigestMethod Algorithm="${SHA512}"/><ds:DigestValue>`) +
    '([A-Za-z0-9+/]{86}==)' +
    escape('</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>') +
    `(${B64})` +
    escape('</ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>') +
    `(${B64})` +
    escape('</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature></cdx:SignedBatch>') +
    '$',
);

/** The certificate text a document in the profile carries (base64 DER), or undefined if it is not in the profile. */
export function profileCertificate(xml: string): string | undefined {
  return LAYOUT.exec(xml)?.[7];
}

/**
 * Verifies a document in the profile as signed by `signer` (a certificate the caller has
 * validated: the document's KeyInfo must carry exactly it) and returns what it states. Anything
 * outside the one layout, another certificate, a signature method that is not the key's, a
 * digest that does not match or a signature value that does not verify is a SignatureDocumentError.
 */
export function verifyProfileDocument(xml: string, signer: X509Certificate): BatchStatement {
  const match = LAYOUT.exec(xml);
  if (!match) throw new SignatureDocumentError('the signature document is not in the CamDX signature profile');
  const [, root, count, signedAt, methodUri, digest, value, certificate] = match as unknown as [string, string, string, string, string, string, string, string];
  if (certificate !== signer.raw.toString('base64')) throw new SignatureDocumentError('the signature document carries another certificate than its signer');
  const publicKey = signer.publicKey;
  const method = methodFor(publicKey);
  if (methodUri !== method.uri) throw new SignatureDocumentError(`the signature method ${methodUri} is not the one for the signer's key`);
  const statement = { root: Buffer.from(root, 'base64'), count: Number(count), signedAt: new Date(signedAt) };
  if (Number.isNaN(statement.signedAt.getTime())) throw new SignatureDocumentError('the signature document has no valid signing time');
  // The digest is over the statement as it came (the layout fixes its bytes), not as re-encoded here.
  if (digestOf(`${xml.slice(0, xml.indexOf('<ds:Signature '))}${CLOSE}`) !== digest) throw new SignatureDocumentError('the XML signature does not verify');
  const signature = Buffer.from(value, 'base64');
  // r‖s of exactly the curve's size: a DER-encoded or truncated value is not this profile's.
  if (method.ecdsaHalf && signature.length !== 2 * method.ecdsaHalf) throw new SignatureDocumentError('the XML signature does not verify');
  const data = Buffer.from(signedInfo(methodUri, digest, true));
  const key = method.ecdsaHalf ? { key: publicKey, dsaEncoding: 'ieee-p1363' as const } : publicKey;
  if (!verify(method.hash, data, key, signature)) throw new SignatureDocumentError('the XML signature does not verify');
  return statement;
}
