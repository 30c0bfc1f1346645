import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';

/**
 * The key types the PKI deals in. Defaults favour speed: ECDSA P-256 signs ~10× faster than
 * RSA-2048 on this class of machine and its TLS handshakes are cheaper, so every profile that
 * signs per message or per handshake defaults to P-256. P-384 is kept for the long-lived CAs,
 * P-521 only where CamDigiKey's wire format demands it, RSA for interoperability.
 */
export type KeyType = 'P-256' | 'P-384' | 'P-521' | 'RSA-2048' | 'RSA-3072' | 'RSA-4096';
export const KEY_TYPES: readonly KeyType[] = ['P-256', 'P-384', 'P-521', 'RSA-2048', 'RSA-3072', 'RSA-4096'];

export function isKeyType(value: string): value is KeyType {
  return (KEY_TYPES as readonly string[]).includes(value);
}

const CURVE_NAMES: Record<string, string> = {
  prime256v1: 'P-256',
  'P-256': 'P-256',
  secp384r1: 'P-384',
  'P-384': 'P-384',
  secp521r1: 'P-521',
  'P-521': 'P-521',
};

export interface KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export function generateKeyPair(type: KeyType): KeyPair {
  if (type.startsWith('RSA-')) {
    return generateKeyPairSync('rsa', { modulusLength: Number(type.slice(4)), publicExponent: 0x10001 });
  }
  return generateKeyPairSync('ec', { namedCurve: type });
}

/**
 * What a public key is, in words a profile check can compare: `P-256`, `RSA-2048`, or a
 * description of something we do not issue for (`EC secp256k1`, `RSA-1024`, `ed25519`).
 */
export interface KeyDescription {
  readonly algorithm: 'EC' | 'RSA' | 'other';
  /** Curve name (P-256…) for EC, modulus length for RSA. */
  readonly label: string;
  readonly bits: number;
}

export function describeKey(key: KeyObject): KeyDescription {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec') {
    const curve = details.namedCurve ?? 'unknown';
    const label = CURVE_NAMES[curve] ?? `EC ${curve}`;
    const bits = label === 'P-256' ? 256 : label === 'P-384' ? 384 : label === 'P-521' ? 521 : 0;
    return { algorithm: 'EC', label, bits };
  }
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details.modulusLength ?? 0;
    return { algorithm: 'RSA', label: `RSA-${bits}`, bits };
  }
  return { algorithm: 'other', label: key.asymmetricKeyType ?? 'unknown', bits: 0 };
}

export function publicKeyFromSpki(spkiDer: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.from(spkiDer), format: 'der', type: 'spki' });
}

export function spkiDer(key: KeyObject): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ format: 'der', type: 'spki' });
}

export function privateKeyToPem(key: KeyObject, passphrase?: string): string {
  return passphrase === undefined ? (key.export({ format: 'pem', type: 'pkcs8' }) as string) : (key.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase }) as string);
}

export function privateKeyFromPem(pem: string | Buffer, passphrase?: string): KeyObject {
  return createPrivateKey(passphrase === undefined ? { key: pem } : { key: pem, passphrase });
}
