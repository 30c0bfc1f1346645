import { createHash, X509Certificate } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { bytesOf } from '../der.js';
import { DIGESTS, OID } from '../oids.js';
import { verifyData } from '../signature.js';

export class TimestampError extends Error {}

export interface VerifiedTimestamp {
  readonly genTime: Date;
  readonly serial: string;
  readonly policy: string;
  readonly imprint: Buffer;
  readonly imprintAlgorithm: string;
  readonly signer: X509Certificate;
}

/**
 * Verifies an RFC 3161 token (a CMS ContentInfo): the TSA's signature over the signed
 * attributes, the message digest of the TSTInfo, the ESS signing-certificate binding, the
 * signer's critical id-kp-timeStamping usage, and that it stamps `expectedImprint`. The signer
 * must be one of `candidates` (certificates the caller trusts or will chain-check itself).
 */
export function verifyTimestampToken(token: Uint8Array, expectedImprint: Uint8Array, candidates: readonly X509Certificate[]): VerifiedTimestamp {
  let signed: pkijs.SignedData;
  let tst: pkijs.TSTInfo;
  try {
    const info = pkijs.ContentInfo.fromBER(bytesOf(token));
    if (info.contentType !== OID.signedData) throw new Error('not SignedData');
    signed = new pkijs.SignedData({ schema: info.content });
    if (signed.encapContentInfo.eContentType !== OID.tstInfo || !signed.encapContentInfo.eContent) throw new Error('not a TSTInfo');
    tst = pkijs.TSTInfo.fromBER(signed.encapContentInfo.eContent.getValue());
  } catch (err) {
    throw new TimestampError(`the timestamp token does not parse (${(err as Error).message})`);
  }
  const imprint = Buffer.from(tst.messageImprint.hashedMessage.valueBlock.valueHexView);
  if (!imprint.equals(Buffer.from(expectedImprint))) throw new TimestampError('the timestamp token stamps other data (imprint mismatch)');

  if (signed.signerInfos.length !== 1) throw new TimestampError('the timestamp token must have exactly one signer');
  const si = signed.signerInfos[0]!;
  if (!si.signedAttrs) throw new TimestampError('the timestamp token has no signed attributes');
  const attr = (oid: string) => si.signedAttrs!.attributes.find((a) => a.type === oid)?.values[0];
  const digest = DIGESTS[si.digestAlgorithm.algorithmId];
  if (!digest) throw new TimestampError('the timestamp token uses an unknown digest');
  const content = Buffer.from(signed.encapContentInfo.eContent!.getValue());
  const messageDigest = attr(OID.messageDigest) as asn1js.OctetString | undefined;
  if (!messageDigest || !createHash(digest.name).update(content).digest().equals(Buffer.from(messageDigest.valueBlock.valueHexView))) {
    throw new TimestampError('the TSTInfo does not match the signed message digest');
  }
  const contentType = attr(OID.contentType) as asn1js.ObjectIdentifier | undefined;
  if (contentType?.valueBlock.toString() !== OID.tstInfo) throw new TimestampError('the signed content type is not TSTInfo');

  // The signed attributes are signed as a DER SET OF: re-tag the [0] IMPLICIT encoding.
  const signedAttrs = Buffer.from(si.signedAttrs.encodedValue);
  signedAttrs[0] = 0x31;
  const signatureValue = Buffer.from(si.signature.valueBlock.valueHexView);
  const algorithm = si.signatureAlgorithm.algorithmId;
  const embedded = (signed.certificates ?? []).filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate).map((c) => new X509Certificate(Buffer.from(c.toSchema().toBER(false))));
  const signer = [...candidates, ...embedded].find((c) => verifyData(signedAttrs, signatureValue, algorithm, c.publicKey));
  if (!signer) throw new TimestampError('the timestamp token is not signed by a known TSA certificate');
  if (!candidates.some((c) => c.fingerprint256 === signer.fingerprint256)) throw new TimestampError('the timestamp token is signed by a TSA that is not trusted');

  const ess = attr(OID.signingCertificateV2) as asn1js.Sequence | undefined;
  const certHash = (ess?.valueBlock.value[0] as asn1js.Sequence | undefined)?.valueBlock.value[0] as asn1js.Sequence | undefined;
  const hashValue = certHash?.valueBlock.value.find((v): v is asn1js.OctetString => v instanceof asn1js.OctetString);
  if (!hashValue || !createHash('sha256').update(signer.raw).digest().equals(Buffer.from(hashValue.valueBlock.valueHexView))) {
    throw new TimestampError('the ESS signing-certificate attribute does not name the signer');
  }
  if (!(signer.keyUsage ?? []).includes(OID.timeStamping)) throw new TimestampError('the signer certificate is not a timestamping certificate');
  const genTime = tst.genTime;
  if (genTime.getTime() < Date.parse(signer.validFrom) || genTime.getTime() > Date.parse(signer.validTo)) throw new TimestampError('the token was made outside its TSA certificate’s validity');
  return {
    genTime,
    serial: Buffer.from(tst.serialNumber.valueBlock.valueHexView).toString('hex'),
    policy: tst.policy,
    imprint,
    imprintAlgorithm: tst.messageImprint.hashAlgorithm.algorithmId,
    signer,
  };
}
