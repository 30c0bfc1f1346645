import { sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { describeKey } from './keys.js';
import { OID } from './oids.js';

/**
 * Native signing for X.509, OCSP and CMS structures. pkijs builds and encodes the structures;
 * the signature itself comes from node:crypto with a parsed KeyObject (synchronous, and far
 * faster than going through WebCrypto key imports per call).
 */

type Hash = 'sha256' | 'sha384' | 'sha512';

const ALGORITHMS: Record<string, { hash: Hash; key: 'EC' | 'RSA' }> = {
  [OID.ecdsaWithSha256]: { hash: 'sha256', key: 'EC' },
  [OID.ecdsaWithSha384]: { hash: 'sha384', key: 'EC' },
  [OID.ecdsaWithSha512]: { hash: 'sha512', key: 'EC' },
  [OID.sha256WithRsa]: { hash: 'sha256', key: 'RSA' },
  [OID.sha384WithRsa]: { hash: 'sha384', key: 'RSA' },
  [OID.sha512WithRsa]: { hash: 'sha512', key: 'RSA' },
};

/** The hash matched to the key's strength: P-384 → SHA-384, P-521 → SHA-512, else SHA-256. */
export function hashForKey(key: KeyObject): Hash {
  const { label } = describeKey(key);
  return label === 'P-384' ? 'sha384' : label === 'P-521' ? 'sha512' : 'sha256';
}

export function signatureAlgorithmFor(key: KeyObject): pkijs.AlgorithmIdentifier {
  const hash = hashForKey(key);
  const { algorithm } = describeKey(key);
  if (algorithm === 'EC') {
    const oid = hash === 'sha384' ? OID.ecdsaWithSha384 : hash === 'sha512' ? OID.ecdsaWithSha512 : OID.ecdsaWithSha256;
    return new pkijs.AlgorithmIdentifier({ algorithmId: oid });
  }
  if (algorithm === 'RSA') {
    return new pkijs.AlgorithmIdentifier({ algorithmId: OID.sha256WithRsa, algorithmParams: new asn1js.Null() });
  }
  throw new Error(`cannot sign with a ${describeKey(key).label} key`);
}

/** Signs `data` with the key's matching algorithm; ECDSA signatures are DER, as X.509 wants. */
export function signData(data: Uint8Array, key: KeyObject): Buffer {
  return nodeSign(hashForKey(key), data, key);
}

/** Verifies a signature given the algorithm OID it claims; unknown algorithms verify false. */
export function verifyData(data: Uint8Array, signature: Uint8Array, algorithmOid: string, key: KeyObject): boolean {
  const alg = ALGORITHMS[algorithmOid];
  if (!alg || describeKey(key).algorithm !== alg.key) return false;
  try {
    return nodeVerify(alg.hash, data, key, signature);
  } catch {
    return false;
  }
}

export function isKnownSignatureAlgorithm(oid: string): boolean {
  return oid in ALGORITHMS;
}

/**
 * DER bytes of any pkijs object. `encode` makes objects with a to-be-signed part (requests,
 * responses) encode it from their fields rather than from bytes kept from parsing or signing.
 */
export function toDer(obj: { toSchema(encode?: boolean): asn1js.BaseBlock }, encode = false): Buffer {
  return Buffer.from(obj.toSchema(encode).toBER(false));
}
