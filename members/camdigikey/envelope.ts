import { createCipheriv, createDecipheriv, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The CamDigiKey v3 envelope, byte for byte as the official Node client speaks it
 * (camdigikey-v3-wire.md §3): AES-256-CBC with the account's static IV, PKCS#7 padding;
 * requests signed with HMAC-SHA512 over `clientId + "." + params` (the base64 text), responses
 * over the raw ciphertext bytes. Keys are decoded leniently, as Node's Buffer.from does.
 */

export interface EnvelopeKeys {
  readonly aesKey: Buffer;
  readonly aesIv: Buffer;
  readonly hmacKey: Buffer;
}

export interface RequestEnvelope {
  readonly clientId: string;
  readonly params: string;
  readonly signature: string;
}

export interface ResponseEnvelope {
  readonly data: string;
  readonly signature: string;
}

export function keysFromBase64(aesSecretKey: string, aesIvParams: string, hmacKey: string): EnvelopeKeys {
  const keys = { aesKey: Buffer.from(aesSecretKey, 'base64'), aesIv: Buffer.from(aesIvParams, 'base64'), hmacKey: Buffer.from(hmacKey, 'base64') };
  if (keys.aesKey.length !== 32) throw new Error('the AES secret key must decode to 32 bytes');
  if (keys.aesIv.length !== 16) throw new Error('the AES IV must decode to 16 bytes');
  return keys;
}

const encrypt = (keys: EnvelopeKeys, plain: Buffer) => {
  const cipher = createCipheriv('aes-256-cbc', keys.aesKey, keys.aesIv);
  return Buffer.concat([cipher.update(plain), cipher.final()]);
};

const decrypt = (keys: EnvelopeKeys, ct: Buffer) => {
  const decipher = createDecipheriv('aes-256-cbc', keys.aesKey, keys.aesIv);
  return Buffer.concat([decipher.update(ct), decipher.final()]);
};

const hmac = (keys: EnvelopeKeys, data: Buffer | string) => createHmac('sha512', keys.hmacKey).update(data).digest();

export function sealRequest(clientId: string, keys: EnvelopeKeys, inner: unknown): RequestEnvelope {
  const params = encrypt(keys, Buffer.from(JSON.stringify(inner), 'utf8')).toString('base64');
  return { clientId, params, signature: hmac(keys, `${clientId}.${params}`).toString('base64') };
}

/** Checks the request signature (constant time); false if it does not match. */
export function requestSignatureValid(envelope: RequestEnvelope, keys: EnvelopeKeys): boolean {
  const given = Buffer.from(envelope.signature, 'base64');
  const expected = hmac(keys, `${envelope.clientId}.${envelope.params}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Decrypts and parses the request's params; throws on a wrong key, bad padding or non-JSON. */
export function openRequest(envelope: RequestEnvelope, keys: EnvelopeKeys): unknown {
  return JSON.parse(decrypt(keys, Buffer.from(envelope.params, 'base64')).toString('utf8'));
}

export function sealResponse(keys: EnvelopeKeys, inner: unknown): ResponseEnvelope {
  const ct = encrypt(keys, Buffer.from(JSON.stringify(inner), 'utf8'));
  return { data: ct.toString('base64'), signature: hmac(keys, ct).toString('base64') };
}

/** The client side: verify the HMAC over the ciphertext bytes, then decrypt. */
export function openResponse(envelope: ResponseEnvelope, keys: EnvelopeKeys): unknown {
  const ct = Buffer.from(envelope.data, 'base64');
  const given = Buffer.from(envelope.signature, 'base64');
  const expected = hmac(keys, ct);
  // Constant time, so a caller timing the check learns nothing of the expected MAC.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new Error('Signatures not match');
  return JSON.parse(decrypt(keys, ct).toString('utf8'));
}
