import * as asn1js from 'asn1js';

/** A DER named-bit-list BIT STRING (KeyUsage, PKIFailureInfo): trailing zero bits dropped. */
export function namedBitString(positions: readonly number[]): asn1js.BitString {
  if (positions.length === 0) return new asn1js.BitString({ valueHex: new Uint8Array(0) });
  const highest = Math.max(...positions);
  const bytes = new Uint8Array(Math.floor(highest / 8) + 1);
  for (const bit of positions) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  return new asn1js.BitString({ valueHex: bytes, unusedBits: 7 - (highest & 7) });
}

/** Reads the bit positions set in a BIT STRING. */
export function bitPositions(bits: asn1js.BitString): number[] {
  const bytes = bits.valueBlock.valueHexView;
  const out: number[] = [];
  for (let i = 0; i < bytes.length * 8; i++) if ((bytes[i >> 3]! & (0x80 >> (i & 7))) !== 0) out.push(i);
  return out;
}

/**
 * DER encodes SET OF in ascending order of the elements' encodings. Verifiers such as
 * OpenSSL re-encode signed attributes before checking a signature, so an unsorted set
 * would make a valid signature fail.
 */
export function derSetOf(elements: readonly asn1js.BaseBlock[]): asn1js.Set {
  const encoded = elements.map((e) => ({ e, der: Buffer.from(e.toBER(false)) }));
  encoded.sort((a, b) => Buffer.compare(a.der, b.der));
  return new asn1js.Set({ value: encoded.map((x) => x.e) });
}

/** Parses DER that must be exactly one ASN.1 element. */
export function parseDer(bytes: Uint8Array): asn1js.AsnType {
  const parsed = asn1js.fromBER(bytes);
  if (parsed.offset === -1 || parsed.offset !== bytes.byteLength) throw new Error('not a single DER element');
  return parsed.result;
}

/**
 * pkijs declares its inputs as `BufferSource` over a plain ArrayBuffer; Node's Buffers are
 * typed over `ArrayBufferLike`. Ours are never shared memory, so this is a typing bridge only.
 */
export function bytesOf(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes as Uint8Array<ArrayBuffer>;
}

/**
 * One DER element (tag, length, content) around already-encoded parts. Used to wrap
 * constant parts such as a signer's certificate, which asn1js would otherwise re-encode
 * from a parsed tree on every response (~1 ms a certificate).
 */
export function derElement(tag: number, ...parts: readonly Uint8Array[]): Buffer {
  const content = Buffer.concat(parts);
  const n = content.length;
  let header: number[];
  if (n < 0x80) header = [tag, n];
  else if (n < 0x100) header = [tag, 0x81, n];
  else if (n < 0x10000) header = [tag, 0x82, n >> 8, n & 0xff];
  else if (n < 0x1000000) header = [tag, 0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  else throw new Error('DER element too large');
  return Buffer.concat([Buffer.from(header), content]);
}

export const DER_TAG = { sequence: 0x30, set: 0x31, context0: 0xa0 } as const;
