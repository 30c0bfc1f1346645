import { createHash, randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { bitPositions, bytesOf } from '../der.js';
import { OID } from '../oids.js';
import { toDer } from '../signature.js';

const IMPRINT_OIDS = { sha256: OID.sha256, sha384: OID.sha384, sha512: OID.sha512 } as const;
export type ImprintAlgorithm = keyof typeof IMPRINT_OIDS;

/** A DER TimeStampReq over `digest`, asking for the TSA certificate and carrying a nonce. */
export function buildTimestampQuery(digest: Uint8Array, algorithm: ImprintAlgorithm, options: { certReq?: boolean; nonce?: Buffer } = {}): Buffer {
  const nonce = options.nonce ?? randomBytes(8);
  nonce[0]! &= 0x7f;
  return toDer(
    new pkijs.TimeStampReq({
      version: 1,
      messageImprint: new pkijs.MessageImprint({
        hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: IMPRINT_OIDS[algorithm] }),
        hashedMessage: new asn1js.OctetString({ valueHex: digest }),
      }),
      nonce: new asn1js.Integer({ valueHex: nonce }),
      certReq: options.certReq ?? true,
    }),
  );
}

export function timestampQueryFor(data: Uint8Array, algorithm: ImprintAlgorithm = 'sha256'): Buffer {
  return buildTimestampQuery(createHash(algorithm).update(data).digest(), algorithm);
}

export interface TimestampAnswer {
  /** PKIStatus: 0 granted, 2 rejection… */
  readonly status: number;
  readonly failBits: readonly number[];
  readonly statusText?: string;
  /** The token (DER ContentInfo) when granted. */
  readonly token?: Buffer;
  readonly tstInfo?: pkijs.TSTInfo;
}

/** Decodes a TimeStampResp; the token's signature is checked separately (or by `openssl ts -verify`). */
export function readTimestampResponse(der: Uint8Array): TimestampAnswer {
  const resp = pkijs.TimeStampResp.fromBER(bytesOf(der));
  const status = resp.status.status;
  const failBits = resp.status.failInfo ? bitPositions(resp.status.failInfo) : [];
  const statusText = resp.status.statusStrings?.map((s) => s.valueBlock.value).join(' ');
  if (!resp.timeStampToken) return { status, failBits, ...(statusText ? { statusText } : {}) };
  const signed = new pkijs.SignedData({ schema: resp.timeStampToken.content });
  const eContent = signed.encapContentInfo.eContent!;
  return {
    status,
    failBits,
    token: toDer(resp.timeStampToken),
    tstInfo: pkijs.TSTInfo.fromBER(eContent.getValue()),
  };
}
