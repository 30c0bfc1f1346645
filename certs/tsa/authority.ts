import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { bytesOf, DER_TAG, derElement, derSetOf, namedBitString } from '../der.js';
import { DIGESTS, OID } from '../oids.js';
import type { SigningIdentity } from '../online.js';
import { hashForKey, signData, signatureAlgorithmFor, toDer } from '../signature.js';

/** RFC 3161 PKIFailureInfo bits we use. */
export const TsaFailure = {
  badAlg: 0,
  badRequest: 2,
  badDataFormat: 5,
  unacceptedPolicy: 15,
  unacceptedExtension: 16,
  systemFailure: 25,
} as const;
type TsaFailure = keyof typeof TsaFailure;

/** Imprint algorithms accepted; SHA-1 is refused as too weak to bind anything new. */
const ACCEPTED_IMPRINTS = new Set<string>([OID.sha256, OID.sha384, OID.sha512]);
const HASH_OID: Record<string, string> = { sha256: OID.sha256, sha384: OID.sha384, sha512: OID.sha512 };

/** Hands out unique serials: blocks are reserved durably, so a restart skips ahead and never repeats. */
export interface SerialSource {
  reserveTsaSerials(count: number): number;
}

export interface TimestampAuthorityOptions {
  readonly policy?: string;
  readonly clock?: () => number;
  /** Serials reserved per database write. */
  readonly serialBlock?: number;
}

class TsaRejection extends Error {
  constructor(
    readonly failure: TsaFailure,
    message: string,
  ) {
    super(message);
  }
}

/**
 * RFC 3161 timestamping authority. Tokens are CMS SignedData over a TSTInfo, signed by the
 * TSA certificate (critical id-kp-timeStamping) with the ESS signing-certificate-v2
 * attribute, as `openssl ts -verify` and RFC 5816 require.
 */
export class TimestampAuthority {
  private readonly policy: string;
  private readonly clock: () => number;
  private readonly serialBlock: number;
  private nextSerial = 0;
  private serialsLeft = 0;
  private readonly signerCert: pkijs.Certificate;
  private readonly certHash: Buffer;
  private readonly digestOid: string;

  constructor(
    private readonly signer: SigningIdentity,
    private readonly serials: SerialSource,
    options: TimestampAuthorityOptions = {},
  ) {
    this.policy = options.policy ?? OID.camdxTsaPolicy;
    this.clock = options.clock ?? Date.now;
    this.serialBlock = options.serialBlock ?? 256;
    this.signerCert = pkijs.Certificate.fromBER(bytesOf(signer.der));
    this.certHash = createHash('sha256').update(signer.der).digest();
    this.digestOid = HASH_OID[hashForKey(signer.key)]!;
  }

  get policyOid(): string {
    return this.policy;
  }

  /** Always answers with a DER TimeStampResp; a bad query gets status rejection with its failInfo. */
  respond(queryDer: Uint8Array): Buffer {
    try {
      const request = this.parse(queryDer);
      // TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken ContentInfo }
      const granted = new Uint8Array(new pkijs.PKIStatusInfo({ status: pkijs.PKIStatus.granted }).toSchema().toBER(false));
      return derElement(DER_TAG.sequence, granted, this.token(request));
    } catch (err) {
      const rejection = err instanceof TsaRejection ? err : new TsaRejection('systemFailure', 'the TSA could not issue a token');
      return toDer(
        new pkijs.TimeStampResp({
          status: new pkijs.PKIStatusInfo({
            status: pkijs.PKIStatus.rejection,
            statusStrings: [new asn1js.Utf8String({ value: rejection.message })],
            failInfo: namedBitString([TsaFailure[rejection.failure]]),
          }),
        }),
      );
    }
  }

  private parse(queryDer: Uint8Array): pkijs.TimeStampReq {
    let request: pkijs.TimeStampReq;
    try {
      request = pkijs.TimeStampReq.fromBER(bytesOf(queryDer));
    } catch {
      throw new TsaRejection('badDataFormat', 'not a DER TimeStampReq');
    }
    if (request.version !== 1) throw new TsaRejection('badRequest', `version ${request.version} is not 1`);
    const imprint = request.messageImprint;
    const alg = imprint.hashAlgorithm.algorithmId;
    if (!ACCEPTED_IMPRINTS.has(alg)) throw new TsaRejection('badAlg', `imprint algorithm ${alg} not accepted; use SHA-256, SHA-384 or SHA-512`);
    if (imprint.hashedMessage.valueBlock.valueHexView.byteLength !== DIGESTS[alg]!.length) {
      throw new TsaRejection('badDataFormat', `imprint length does not match ${DIGESTS[alg]!.name}`);
    }
    if (request.reqPolicy && request.reqPolicy !== this.policy) throw new TsaRejection('unacceptedPolicy', `policy ${request.reqPolicy} is not ${this.policy}`);
    if (request.extensions && request.extensions.length > 0) throw new TsaRejection('unacceptedExtension', 'request extensions are not supported');
    return request;
  }

  private takeSerial(): number {
    if (this.serialsLeft === 0) {
      this.nextSerial = this.serials.reserveTsaSerials(this.serialBlock);
      this.serialsLeft = this.serialBlock;
    }
    this.serialsLeft--;
    return this.nextSerial++;
  }

  private token(request: pkijs.TimeStampReq): Buffer {
    const tstInfo = new pkijs.TSTInfo({
      version: 1,
      policy: this.policy,
      messageImprint: request.messageImprint,
      serialNumber: new asn1js.Integer({ value: this.takeSerial() }),
      genTime: new Date(this.clock()),
      accuracy: new pkijs.Accuracy({ seconds: 1 }),
      ...(request.nonce ? { nonce: request.nonce } : {}),
    });
    const content = toDer(tstInfo);
    const digestName = DIGESTS[this.digestOid]!.name;
    const signedAttrs = derSetOf([
      attribute(OID.contentType, new asn1js.ObjectIdentifier({ value: OID.tstInfo })),
      attribute(OID.messageDigest, new asn1js.OctetString({ valueHex: createHash(digestName).update(content).digest() })),
      // SigningCertificateV2 { certs SEQUENCE OF ESSCertIDv2 { certHash } } — SHA-256 is the default hashAlgorithm.
      attribute(OID.signingCertificateV2, new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [new asn1js.OctetString({ valueHex: this.certHash })] })] })] })),
    ]);
    const signature = signData(new Uint8Array(signedAttrs.toBER(false)), this.signer.key);
    const signerInfo = new pkijs.SignerInfo({
      version: 1,
      sid: new pkijs.IssuerAndSerialNumber({ issuer: this.signerCert.issuer, serialNumber: this.signerCert.serialNumber }),
      digestAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: this.digestOid }),
      signedAttrs: new pkijs.SignedAndUnsignedAttributes({ type: 0, attributes: signedAttrs.valueBlock.value.map((a) => new pkijs.Attribute({ schema: a })) }),
      signatureAlgorithm: signatureAlgorithmFor(this.signer.key),
      signature: new asn1js.OctetString({ valueHex: signature }),
    });
    // SignedData ::= SEQUENCE { version, digestAlgorithms, encapContentInfo, certificates [0] IMPLICIT OPTIONAL, signerInfos }
    const encoded = (block: asn1js.BaseBlock) => new Uint8Array(block.toBER(false));
    const signedData = derElement(
      DER_TAG.sequence,
      encoded(new asn1js.Integer({ value: 3 })),
      derElement(DER_TAG.set, encoded(new pkijs.AlgorithmIdentifier({ algorithmId: this.digestOid }).toSchema())),
      encoded(new pkijs.EncapsulatedContentInfo({ eContentType: OID.tstInfo, eContent: new asn1js.OctetString({ valueHex: content }) }).toSchema()),
      ...(request.certReq ? [derElement(DER_TAG.context0, this.signer.der)] : []),
      derElement(DER_TAG.set, encoded(signerInfo.toSchema())),
    );
    // ContentInfo ::= SEQUENCE { contentType id-signedData, content [0] EXPLICIT SignedData }
    return derElement(DER_TAG.sequence, encoded(new asn1js.ObjectIdentifier({ value: OID.signedData })), derElement(DER_TAG.context0, signedData));
  }
}

function attribute(type: string, value: asn1js.BaseBlock): asn1js.Sequence {
  return new pkijs.Attribute({ type, values: [value] }).toSchema() as asn1js.Sequence;
}
