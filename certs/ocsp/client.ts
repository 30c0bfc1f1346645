import { createHash, randomBytes, type X509Certificate } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { bytesOf } from '../der.js';
import { OID } from '../oids.js';
import { toDer } from '../signature.js';

/** RFC 6960 CertID for `cert` issued by `issuer`, with SHA-1 hashes as most responders expect. */
export function certId(cert: X509Certificate, issuer: X509Certificate): pkijs.CertID {
  const issuerCert = pkijs.Certificate.fromBER(bytesOf(issuer.raw));
  const sha1 = (data: ArrayBuffer | Uint8Array) => createHash('sha1').update(new Uint8Array(data)).digest();
  return new pkijs.CertID({
    hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: OID.sha1, algorithmParams: new asn1js.Null() }),
    issuerNameHash: new asn1js.OctetString({ valueHex: sha1(issuerCert.subject.toSchema().toBER(false)) }),
    issuerKeyHash: new asn1js.OctetString({ valueHex: sha1(issuerCert.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView) }),
    serialNumber: new asn1js.Integer({ valueHex: Buffer.from(cert.serialNumber.padStart(cert.serialNumber.length + (cert.serialNumber.length % 2), '0'), 'hex') }),
  });
}

/** A DER OCSPRequest for one certificate, with a random nonce unless told otherwise. */
export function buildOcspRequest(cert: X509Certificate, issuer: X509Certificate, nonce: Buffer | null = randomBytes(16)): Buffer {
  const request = new pkijs.OCSPRequest();
  request.tbsRequest.requestList = [new pkijs.Request({ reqCert: certId(cert, issuer) })];
  if (nonce) {
    request.tbsRequest.requestExtensions = [new pkijs.Extension({ extnID: OID.ocspNonce, extnValue: new asn1js.OctetString({ valueHex: nonce }).toBER(false) })];
  }
  return toDer(request, true);
}

export interface OcspAnswer {
  /** OCSPResponseStatus: 0 successful, 1 malformedRequest, 2 internalError, 6 unauthorized… */
  readonly responseStatus: number;
  readonly certStatus?: 'good' | 'revoked' | 'unknown';
  readonly thisUpdate?: Date;
  readonly nextUpdate?: Date;
  readonly basic?: pkijs.BasicOCSPResponse;
}

/** Decodes an OCSPResponse's outer status and first single response; signature checks are the caller's. */
export function readOcspResponse(der: Uint8Array): OcspAnswer {
  const response = pkijs.OCSPResponse.fromBER(bytesOf(der));
  const responseStatus = response.responseStatus.valueBlock.valueDec;
  if (responseStatus !== 0 || !response.responseBytes) return { responseStatus };
  const basic = pkijs.BasicOCSPResponse.fromBER(bytesOf(response.responseBytes.response.valueBlock.valueHexView));
  const single = basic.tbsResponseData.responses[0]!;
  const tag = (single.certStatus as asn1js.BaseBlock).idBlock.tagNumber;
  return {
    responseStatus,
    certStatus: tag === 0 ? 'good' : tag === 1 ? 'revoked' : 'unknown',
    thisUpdate: single.thisUpdate,
    ...(single.nextUpdate ? { nextUpdate: single.nextUpdate } : {}),
    basic,
  };
}
