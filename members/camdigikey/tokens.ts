import { createCipheriv, createDecipheriv, createHash, randomBytes, randomUUID, sign, verify, type KeyObject } from 'node:crypto';

/**
 * CamDigiKey tokens (camdigikey-v3-wire.md §6): three base64url parts — header
 * `{"alg":"SHA512withECDSA","typ":"JWT","jwtId":…}`, an opaque payload, and a DER ECDSA P-521
 * signature over SHA-512(header.payload), i.e. SHA512withECDSA of the pre-hashed input (which
 * is why off-the-shelf JWT libraries cannot make them). Our payload is the claims encrypted
 * with a key only the service holds (AES-256-GCM): opaque to clients, as the real ones are.
 */

export type TokenKind = 'LOGIN' | 'AUTH' | 'USER' | 'ORGANIZATION' | 'ACCOUNT';

export interface TokenClaims {
  readonly jti: string;
  readonly kind: TokenKind;
  readonly clientId: string;
  readonly iat: number;
  readonly exp: number;
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');
export const signingInputDigest = (input: string) => createHash('sha512').update(input, 'ascii').digest();

export function mintToken(claims: Omit<TokenClaims, 'jti'> & { jti?: string }, signer: KeyObject, payloadKey: Buffer): { token: string; jti: string } {
  const jti = claims.jti ?? randomUUID();
  const header = b64url(JSON.stringify({ alg: 'SHA512withECDSA', typ: 'JWT', jwtId: jti }));
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', payloadKey, nonce);
  const sealed = Buffer.concat([cipher.update(JSON.stringify({ ...claims, jti })), cipher.final()]);
  const payload = b64url(Buffer.concat([nonce, sealed, cipher.getAuthTag()]));
  const input = `${header}.${payload}`;
  const signature = b64url(sign('sha512', signingInputDigest(input), signer));
  return { token: `${input}.${signature}`, jti };
}

/** What the official client checks (§6.2): the DER signature over SHA-512(h.p), base64 or base64url. */
export function tokenSignatureValid(token: string, publicKey: KeyObject): boolean {
  const parts = token.split('.');
  if (parts.length !== 3) return false;
  try {
    return verify('sha512', signingInputDigest(`${parts[0]}.${parts[1]}`), publicKey, Buffer.from(parts[2]!, 'base64'));
  } catch {
    return false;
  }
}

/** The claims, if the token is ours: signature valid and payload decrypts. */
export function readToken(token: string, publicKey: KeyObject, payloadKey: Buffer): TokenClaims | undefined {
  if (!tokenSignatureValid(token, publicKey)) return undefined;
  try {
    const sealed = Buffer.from(token.split('.')[1]!, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', payloadKey, sealed.subarray(0, 12));
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    const claims = JSON.parse(Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]).toString()) as TokenClaims;
    const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { jwtId?: string };
    return header.jwtId === claims.jti ? claims : undefined;
  } catch {
    return undefined;
  }
}

/** The official client's token "cleaning" (§4): percent-decoded when it contains %, three parts. */
export function cleanToken(token: unknown): string {
  if (typeof token !== 'string') throw Object.assign(new Error('invalid.token.type'), { errorCode: 106 });
  const decoded = token.includes('%') ? decodeURIComponent(token) : token;
  if (decoded.split('.').length !== 3) throw Object.assign(new Error('invalid.token.format'), { errorCode: 106 });
  return decoded;
}
