import { createPrivateKey, createPublicKey, sign, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keysFromBase64, openRequest, openResponse, requestSignatureValid, sealRequest, sealResponse } from '../../../members/camdigikey/envelope.js';
import { cleanToken, mintToken, readToken, signingInputDigest, tokenSignatureValid } from '../../../members/camdigikey/tokens.js';

/** Recorded from the official Node v3 client (camdigikey-v3-wire.md; copied into test/fixtures). */
const vectors = JSON.parse(readFileSync(join(import.meta.dirname, '../../fixtures/camdigikey-v3-vectors.json'), 'utf8')) as {
  credentials: { clientId: string; aesSecretKey: string; aesIvParams: string; hmacKey: string };
  request: { plainJson: string; envelope: { clientId: string; params: string; signature: string } };
  response: { plainJson: string; envelope: { data: string; signature: string } };
  token: { signerCertPem: string; signerPrivateKeyPem: string; signingInput: string; sha512OfSigningInputHex: string; token: string };
  more: Array<{ name: string; requestPlainJson?: string; requestEnvelope?: { clientId: string; params: string; signature: string }; responsePlainJson?: string; responseEnvelope?: { data: string; signature: string } }>;
};
const c = vectors.credentials;
const keys = keysFromBase64(c.aesSecretKey, c.aesIvParams, c.hmacKey);

describe('CamDigiKey v3 wire format (the official client’s vectors)', () => {
  const requests = [{ name: 'getLoginToken', plain: vectors.request.plainJson, envelope: vectors.request.envelope }, ...vectors.more.filter((m) => m.requestEnvelope).map((m) => ({ name: m.name, plain: m.requestPlainJson!, envelope: m.requestEnvelope! }))];
  const responses = [{ name: 'getLoginToken', plain: vectors.response.plainJson, envelope: vectors.response.envelope }, ...vectors.more.filter((m) => m.responseEnvelope).map((m) => ({ name: m.name, plain: m.responsePlainJson!, envelope: m.responseEnvelope! }))];

  it.each(requests)('reproduces the $name request envelope byte for byte, and opens it', ({ plain, envelope }) => {
    expect(sealRequest(c.clientId, keys, JSON.parse(plain))).toEqual(envelope);
    expect(requestSignatureValid(envelope, keys)).toBe(true);
    expect(JSON.stringify(openRequest(envelope, keys))).toBe(plain);
  });

  it.each(responses)('reproduces the $name response envelope byte for byte, and opens it', ({ plain, envelope }) => {
    expect(sealResponse(keys, JSON.parse(plain))).toEqual(envelope);
    expect(JSON.stringify(openResponse(envelope, keys))).toBe(plain);
  });

  it('signs requests over clientId.params text and responses over the raw ciphertext — not the other way round', () => {
    const envelope = vectors.request.envelope;
    expect(requestSignatureValid({ ...envelope, clientId: 'other-client' }, keys)).toBe(false);
    expect(requestSignatureValid({ ...envelope, params: envelope.params.replace(/^g/, 'h') }, keys)).toBe(false);
    const r = vectors.response.envelope;
    expect(() => openResponse({ data: r.data, signature: vectors.request.envelope.signature }, keys)).toThrow(/Signatures not match/);
  });

  it('verifies the sample token as the client does: DER SHA512withECDSA over SHA-512(header.payload)', () => {
    const signer = new X509Certificate(vectors.token.signerCertPem);
    expect(signingInputDigest(vectors.token.signingInput).toString('hex')).toBe(vectors.token.sha512OfSigningInputHex);
    expect(tokenSignatureValid(vectors.token.token, signer.publicKey)).toBe(true);
    // The sample mixes alphabets; standard base64 of the same signature verifies too.
    const [h, p, s] = vectors.token.token.split('.');
    expect(tokenSignatureValid(`${h}.${p}.${Buffer.from(s!, 'base64url').toString('base64')}`, signer.publicKey)).toBe(true);
    // Standard ES512 (over the raw input, r‖s) is not what the client accepts.
    const es512 = sign('sha512', Buffer.from(vectors.token.signingInput), { key: createPrivateKey(vectors.token.signerPrivateKeyPem), dsaEncoding: 'ieee-p1363' }).toString('base64url');
    expect(tokenSignatureValid(`${vectors.token.signingInput}.${es512}`, signer.publicKey)).toBe(false);
  });

  it('mints tokens of exactly three parts that verify under the procedure, with opaque payloads', () => {
    const key = createPrivateKey(vectors.token.signerPrivateKeyPem);
    const payloadKey = Buffer.alloc(32, 7);
    const { token, jti } = mintToken({ kind: 'USER', clientId: 'demo', iat: 1, exp: 2 }, key, payloadKey);
    expect(token.split('.')).toHaveLength(3);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString())).toEqual({ alg: 'SHA512withECDSA', typ: 'JWT', jwtId: jti });
    expect(Buffer.from(token.split('.')[1]!, 'base64url').toString()).not.toContain('demo');
    expect(tokenSignatureValid(token, createPublicKey(key))).toBe(true);
    expect(readToken(token, createPublicKey(key), payloadKey)).toMatchObject({ jti, kind: 'USER', clientId: 'demo' });
    expect(readToken(token, createPublicKey(key), Buffer.alloc(32, 8))).toBeUndefined();
  });

  it('cleans tokens as the client does: percent-decoding, exactly three parts', () => {
    expect(cleanToken('a.b%2Bc.d')).toBe('a.b+c.d');
    expect(() => cleanToken('a.b')).toThrow('invalid.token.format');
    expect(() => cleanToken(42)).toThrow('invalid.token.type');
  });
});
