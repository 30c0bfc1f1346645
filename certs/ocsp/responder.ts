import { createHash, type X509Certificate } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { serialHex } from '../certificate.js';
import { DIGESTS, OID } from '../oids.js';
import type { SigningIdentity } from '../online.js';
import type { IssuingCaName } from '../profiles.js';
import { signData, signatureAlgorithmFor, toDer } from '../signature.js';
import { REVOCATION_REASONS, type PkiStore } from '../store.js';
import { bytesOf, DER_TAG, derElement } from '../der.js';

/** RFC 6960 OCSPResponseStatus values we send. */
export const OcspStatus = { successful: 0, malformedRequest: 1, internalError: 2, unauthorized: 6 } as const;

export interface OcspResponderOptions {
  /** nextUpdate − thisUpdate; clients may cache a response this long. */
  readonly validitySeconds?: number;
  readonly clock?: () => number;
  /** At most this many certificates in one request. */
  readonly maxRequests?: number;
}

interface CaEntry {
  readonly name: IssuingCaName;
  readonly signer: SigningIdentity;
  /** issuerNameHash + issuerKeyHash per digest OID, hex, to recognise a CertID. */
  readonly ids: ReadonlyMap<string, string>;
  /** ResponderID byKey: SHA-1 of the responder's public key. */
  readonly responderKeyHash: Buffer;
}

/** The answer for one CertID, before signing. */
export interface CertStatusAnswer {
  readonly status: 'good' | 'revoked' | 'unknown';
  readonly revokedAt?: number;
  readonly reason?: number;
}

const MAX_REQUESTS = 20;

/**
 * RFC 6960 responder for the issuing CAs. Each CA's responses are signed by its delegated
 * OCSP signer (id-kp-OCSPSigning, issued by that CA), which is attached so clients can verify
 * it against the CA. Status comes from the certificate register at the moment of the request.
 */
export class OcspResponder {
  private readonly entries: CaEntry[];
  private readonly validityMs: number;
  private readonly clock: () => number;
  private readonly maxRequests: number;

  constructor(
    cas: ReadonlyMap<IssuingCaName, { cert: X509Certificate }>,
    signers: ReadonlyMap<IssuingCaName, SigningIdentity>,
    private readonly store: PkiStore,
    options: OcspResponderOptions = {},
  ) {
    this.validityMs = (options.validitySeconds ?? 3600) * 1000;
    this.clock = options.clock ?? Date.now;
    this.maxRequests = options.maxRequests ?? MAX_REQUESTS;
    this.entries = [...cas].map(([name, ca]) => {
      const cert = pkijs.Certificate.fromBER(bytesOf(ca.cert.raw));
      const nameDer = cert.subject.toSchema().toBER(false);
      const keyBits = cert.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView;
      const ids = new Map<string, string>();
      for (const [oid, { name: hash }] of Object.entries(DIGESTS)) {
        const h = (data: ArrayBuffer | Uint8Array) => createHash(hash).update(new Uint8Array(data)).digest('hex');
        ids.set(oid, h(nameDer) + h(keyBits));
      }
      const signer = signers.get(name)!;
      const responderCert = pkijs.Certificate.fromBER(bytesOf(signer.der));
      const responderKeyHash = createHash('sha1').update(responderCert.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView).digest();
      return { name, signer, ids, responderKeyHash };
    });
  }

  /** Always answers with a DER OCSPResponse; a bad request gets the protocol's own error status. */
  respond(requestDer: Uint8Array): Buffer {
    let request: pkijs.OCSPRequest;
    try {
      request = pkijs.OCSPRequest.fromBER(bytesOf(requestDer));
    } catch {
      return errorResponse(OcspStatus.malformedRequest);
    }
    const list = request.tbsRequest.requestList;
    if (list.length === 0 || list.length > this.maxRequests) return errorResponse(OcspStatus.malformedRequest);

    const matched = list.map((r) => this.caFor(r.reqCert));
    const entry = matched.find((e) => e !== undefined);
    // A responder answers only for the CAs it is authorised for (RFC 6960 §2.3).
    if (!entry) return errorResponse(OcspStatus.unauthorized);

    // Whole seconds: DER GeneralizedTime forbids trailing zeros in fractions, so avoid them.
    const now = Math.floor(this.clock() / 1000) * 1000;
    const responses = list.map((r, i) => singleResponse(r.reqCert, matched[i] === entry ? this.statusOf(entry.name, r.reqCert) : { status: 'unknown' }, now, this.validityMs));
    const nonce = request.tbsRequest.requestExtensions?.find((e) => e.extnID === OID.ocspNonce);
    return this.signedResponse(entry, responses, now, nonce);
  }

  private caFor(certId: pkijs.CertID): CaEntry | undefined {
    const oid = certId.hashAlgorithm.algorithmId;
    const id = Buffer.from(certId.issuerNameHash.valueBlock.valueHexView).toString('hex') + Buffer.from(certId.issuerKeyHash.valueBlock.valueHexView).toString('hex');
    return this.entries.find((e) => e.ids.get(oid) === id);
  }

  private statusOf(ca: IssuingCaName, certId: pkijs.CertID): CertStatusAnswer {
    const serial = serialHex(stripLeadingZeros(certId.serialNumber.valueBlock.valueHexView));
    const record = this.store.getCertificate(ca, serial);
    if (!record) return { status: 'unknown' };
    if (record.status === 'revoked') {
      return { status: 'revoked', revokedAt: record.revokedAt ?? record.issuedAt, reason: REVOCATION_REASONS[record.revocationReason ?? 'unspecified'] };
    }
    return { status: 'good' };
  }

  private signedResponse(entry: CaEntry, responses: pkijs.SingleResponse[], now: number, nonce?: pkijs.Extension): Buffer {
    const { signer } = entry;
    const tbs = new pkijs.ResponseData({
      responderID: new asn1js.OctetString({ valueHex: entry.responderKeyHash }),
      producedAt: new Date(now),
      responses,
      ...(nonce ? { responseExtensions: [nonce] } : {}),
    });
    const tbsDer = new Uint8Array(tbs.toSchema(true).toBER(false));
    // BasicOCSPResponse ::= SEQUENCE { tbsResponseData, signatureAlgorithm, signature, certs [0] EXPLICIT SEQUENCE OF Certificate }
    const basic = derElement(
      DER_TAG.sequence,
      tbsDer,
      new Uint8Array(signatureAlgorithmFor(signer.key).toSchema().toBER(false)),
      new Uint8Array(new asn1js.BitString({ valueHex: signData(tbsDer, signer.key) }).toBER(false)),
      derElement(DER_TAG.context0, derElement(DER_TAG.sequence, signer.der)),
    );
    const response = new pkijs.OCSPResponse({
      responseStatus: new asn1js.Enumerated({ value: OcspStatus.successful }),
      responseBytes: new pkijs.ResponseBytes({ responseType: OID.ocspBasic, response: new asn1js.OctetString({ valueHex: basic }) }),
    });
    return toDer(response);
  }
}

function stripLeadingZeros(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return bytes.subarray(i);
}

function singleResponse(certId: pkijs.CertID, answer: CertStatusAnswer, at: number, validityMs: number): pkijs.SingleResponse {
  let certStatus: asn1js.BaseBlock;
  if (answer.status === 'good') {
    certStatus = new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 } });
  } else if (answer.status === 'revoked') {
    certStatus = new asn1js.Constructed({
      idBlock: { tagClass: 3, tagNumber: 1 },
      value: [
        new asn1js.GeneralizedTime({ valueDate: new Date(Math.floor(answer.revokedAt! / 1000) * 1000) }),
        new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [new asn1js.Enumerated({ value: answer.reason ?? 0 })] }),
      ],
    });
  } else {
    certStatus = new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 2 } });
  }
  return new pkijs.SingleResponse({
    certID: certId,
    certStatus,
    thisUpdate: new Date(at),
    nextUpdate: new Date(at + validityMs),
  });
}

function errorResponse(status: number): Buffer {
  return toDer(new pkijs.OCSPResponse({ responseStatus: new asn1js.Enumerated({ value: status }) }));
}
