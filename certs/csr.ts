import type { KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { decodeExtensions, type DecodedExtensions } from './extensions.js';
import { describeKey, publicKeyFromSpki, spkiDer, type KeyDescription } from './keys.js';
import { buildName, parseName, type DistinguishedName, type ParsedName } from './names.js';
import { OID } from './oids.js';
import { fromPemAll, looksLikePem } from './pem.js';
import { isKnownSignatureAlgorithm, signData, signatureAlgorithmFor, toDer, verifyData } from './signature.js';
import { bytesOf } from './der.js';

/** A PKCS#10 request, decoded but not yet judged. */
export interface ParsedCsr {
  readonly subject: ParsedName;
  readonly publicKey: KeyObject;
  readonly key: KeyDescription;
  readonly signatureAlgorithm: string;
  readonly signatureAlgorithmKnown: boolean;
  readonly signatureValid: boolean;
  readonly extensions: DecodedExtensions;
  /** Attribute OIDs other than extensionRequest. */
  readonly otherAttributes: readonly string[];
}

export class CsrFormatError extends Error {}

/** Accepts PEM (`CERTIFICATE REQUEST`, or the old `NEW CERTIFICATE REQUEST`) or DER. */
export function csrDer(input: Uint8Array): Buffer {
  if (!looksLikePem(input)) return Buffer.from(input);
  const blocks = fromPemAll(Buffer.from(input).toString('latin1'), ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']);
  if (blocks.length !== 1) throw new CsrFormatError(`expected one CERTIFICATE REQUEST PEM block, found ${blocks.length}`);
  return blocks[0]!;
}

export function parseCsr(input: Uint8Array): ParsedCsr {
  const der = csrDer(input);
  let csr: pkijs.CertificationRequest;
  let publicKey: KeyObject;
  try {
    csr = pkijs.CertificationRequest.fromBER(bytesOf(der));
    publicKey = publicKeyFromSpki(new Uint8Array(csr.subjectPublicKeyInfo.toSchema().toBER(false)));
  } catch (err) {
    throw new CsrFormatError(`not a PKCS#10 certificate request (${(err as Error).message.split('\n')[0]})`);
  }
  const algorithm = csr.signatureAlgorithm.algorithmId;
  const extensions: pkijs.Extension[] = [];
  const otherAttributes: string[] = [];
  for (const attr of csr.attributes ?? []) {
    if (attr.type !== OID.extensionRequest) {
      otherAttributes.push(attr.type);
      continue;
    }
    try {
      extensions.push(...new pkijs.Extensions({ schema: attr.values[0] }).extensions);
    } catch {
      throw new CsrFormatError('the extensionRequest attribute is malformed');
    }
  }
  let decoded: DecodedExtensions;
  try {
    decoded = decodeExtensions(extensions);
  } catch {
    throw new CsrFormatError('a requested extension is malformed');
  }
  return {
    subject: parseName(csr.subject),
    publicKey,
    key: describeKey(publicKey),
    signatureAlgorithm: algorithm,
    signatureAlgorithmKnown: isKnownSignatureAlgorithm(algorithm),
    signatureValid: verifyData(csr.tbsView, csr.signatureValue.valueBlock.valueHexView, algorithm, publicKey),
    extensions: decoded,
    otherAttributes,
  };
}

/** Builds and self-signs a CSR: for `camdx pki csr` and for tests that play the applicant. */
export function createCsr(subject: DistinguishedName, privateKey: KeyObject, extensions: readonly pkijs.Extension[] = []): Buffer {
  const csr = new pkijs.CertificationRequest({
    subject: buildName(subject),
    subjectPublicKeyInfo: pkijs.PublicKeyInfo.fromBER(bytesOf(spkiDer(privateKey))),
  });
  if (extensions.length > 0) {
    csr.attributes = [new pkijs.Attribute({ type: OID.extensionRequest, values: [new pkijs.Extensions({ extensions: [...extensions] }).toSchema()] })];
  }
  csr.signatureAlgorithm = signatureAlgorithmFor(privateKey);
  // toSchema(true) encodes from the fields; its first element is the CertificationRequestInfo.
  csr.tbsView = new Uint8Array((csr.toSchema(true).valueBlock.value[0] as asn1js.Sequence).toBER(false));
  csr.signatureValue = new asn1js.BitString({ valueHex: signData(csr.tbsView, privateKey) });
  return toDer(csr);
}
