import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keysFromBase64, openResponse } from '../../../members/camdigikey/envelope.js';

const vectors = JSON.parse(readFileSync(join(import.meta.dirname, '../../fixtures/camdigikey-v3-vectors.json'), 'utf8')) as {
  credentials: { aesSecretKey: string; aesIvParams: string; hmacKey: string };
  response: { plainJson: string; envelope: { data: string; signature: string } };
};
const c = vectors.credentials;
const keys = keysFromBase64(c.aesSecretKey, c.aesIvParams, c.hmacKey);
const { data, signature } = vectors.response.envelope;

describe('the TypeScript client compares response MACs in constant time', () => {
  it('refuses a MAC of another length, an empty one and a one-bit change with the same error (timingSafeEqual never sees unequal lengths)', () => {
    const mac = Buffer.from(signature, 'base64');
    const flipped = Buffer.from(mac);
    flipped[63]! ^= 1;
    for (const forged of [mac.subarray(0, 32), Buffer.alloc(0), Buffer.concat([mac, Buffer.from([0])]), flipped]) {
      expect(() => openResponse({ data, signature: forged.toString('base64') }, keys)).toThrow(/^Signatures not match$/);
    }
    expect(JSON.stringify(openResponse({ data, signature }, keys))).toBe(vectors.response.plainJson);
  });
});
