import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { base64OfDer, derHash, derOfBase64, documentHash, textOfBase64 } from '../../protocol/recurring.js';

const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

describe('recurring values are computed once and always give the fresh answer', () => {
  it('derHash and base64OfDer answer for the very buffer, and a different buffer with other bytes gets its own answer', () => {
    const der = randomBytes(300);
    expect(derHash(der)).toBe(sha256(der));
    expect(derHash(der)).toBe(sha256(der));
    expect(base64OfDer(der)).toBe(der.toString('base64'));
    const other = randomBytes(300);
    expect(derHash(other)).toBe(sha256(other));
    expect(base64OfDer(other)).toBe(other.toString('base64'));
  });

  it('derOfBase64 gives the same buffer for the same text, so its hash is remembered; other text decodes afresh', () => {
    const der = randomBytes(200);
    const text = der.toString('base64');
    const first = derOfBase64(text);
    expect(first.equals(der)).toBe(true);
    expect(derOfBase64(text)).toBe(first);
    const other = randomBytes(200);
    expect(derOfBase64(other.toString('base64')).equals(other)).toBe(true);
  });

  it('textOfBase64 and documentHash match a fresh decode and hash, also for a document met once among many', () => {
    const doc = '<ds:Signature>ü</ds:Signature>';
    expect(textOfBase64(Buffer.from(doc).toString('base64'))).toBe(doc);
    expect(documentHash(doc)).toBe(sha256(doc));
    // Past the bound the oldest answers are forgotten, never mixed up with a newer one.
    for (let i = 0; i < 600; i++) expect(documentHash(`doc ${i}`)).toBe(sha256(`doc ${i}`));
    expect(documentHash(doc)).toBe(sha256(doc));
    expect(documentHash('doc 1')).toBe(sha256('doc 1'));
  });
});
