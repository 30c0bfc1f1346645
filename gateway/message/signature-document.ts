import { X509Certificate } from 'node:crypto';
import { CamdxError } from '../../protocol/errors.js';
import { Recent } from '../../protocol/recurring.js';

/**
 * What every reader of our signature documents shares — its namespace, what it states, its
 * error and the certificate it claims — without an XML library: the gateway's message path
 * reads documents with the fixed-profile verifier (signature-profile.ts), and only
 * `camdx verify` and the tests load xml-crypto (xmldsig.ts).
 */

export const SIGNATURE_NS = 'urn:camdx:message-signature:1';

/** What a batch's signature document states, read only from its signed bytes. */
export interface BatchStatement {
  /** Merkle root over the batch's message digests. */
  readonly root: Buffer;
  readonly count: number;
  readonly signedAt: Date;
}

/** A signature document this format does not make, or whose signature does not verify. */
export class SignatureDocumentError extends CamdxError<'SignatureDocument'> {
  constructor(message: string) {
    super('SignatureDocument', message);
  }
}

// Parsing costs more than the rest of a cached verification; a handful of signers recur.
const parsedSigners = new Recent<string, X509Certificate>(1024);

/** The certificate the document claims to be signed by — untrusted until the caller checks it. */
export function claimedSigner(xml: string): X509Certificate {
  const match = /<ds:X509Certificate>([A-Za-z0-9+/=\s]+)<\/ds:X509Certificate>/.exec(xml);
  if (!match) throw new SignatureDocumentError('the signature document has no signer certificate');
  return parsedSigners.get(match[1]!.replace(/\s+/g, ''), (text) => {
    try {
      return new X509Certificate(Buffer.from(text, 'base64'));
    } catch {
      throw new SignatureDocumentError("the signature document's certificate does not parse");
    }
  });
}
