import { createHash } from 'node:crypto';

/**
 * What recurs from one message to the next — a peer's OCSP responses on every message of a
 * connection, one batch's signature document on each of its messages, our own certificate and
 * OCSP response on everything we send — is decoded, encoded and hashed once instead of per
 * message (a SHA-256 object and a base64 pass cost microseconds each, and a message met a
 * dozen of them). Every answer is keyed by the exact input: the same text, or the very same
 * buffer (DER buffers are never written to after they are made), so a remembered answer is
 * always the one a fresh computation would give.
 */

/** A Map that forgets its oldest entry past `limit`: what recurs is a handful of values, what does not must not pile up. */
export class Recent<K, V> {
  private readonly entries = new Map<K, V>();
  constructor(private readonly limit: number) {}

  get(key: K, make: (key: K) => V): V {
    let value = this.entries.get(key);
    if (value === undefined) {
      value = make(key);
      if (this.entries.size >= this.limit) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, value);
    }
    return value;
  }
}

const hashes = new WeakMap<Uint8Array, string>();
const encodings = new WeakMap<Uint8Array, string>();
const ders = new Recent<string, Buffer>(256);
const documents = new Recent<string, string>(256);
const documentHashes = new Recent<string, string>(256);

/** SHA-256 of DER bytes, hex: how certificates and OCSP responses are named in the global configuration and the message log. */
export function derHash(der: Uint8Array): string {
  let hash = hashes.get(der);
  if (hash === undefined) {
    hash = createHash('sha256').update(der).digest('hex');
    hashes.set(der, hash);
  }
  return hash;
}

/** DER bytes as the base64 a header carries. */
export function base64OfDer(der: Buffer): string {
  let text = encodings.get(der);
  if (text === undefined) {
    text = der.toString('base64');
    encodings.set(der, text);
  }
  return text;
}

/** A header's base64 DER, decoded: the same text gives the same buffer, so its hash is taken once. */
export const derOfBase64 = (text: string): Buffer => ders.get(text, (t) => Buffer.from(t, 'base64'));

/** A base64 trailer's text (a signature document): a batch's messages carry the same one. */
export const textOfBase64 = (text: string): string => documents.get(text, (t) => Buffer.from(t, 'base64').toString('utf8'));

/** SHA-256 of a signature document, hex: its name in the message log and the verification cache. */
export const documentHash = (xml: string): string => documentHashes.get(xml, (x) => createHash('sha256').update(x).digest('hex'));
