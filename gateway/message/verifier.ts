import type { X509Certificate } from 'node:crypto';
import { documentHash } from '../../protocol/recurring.js';
import { certificateFacts, isSigningCertificate } from '../../certs/inspect.js';
import { CamdxError, type ErrorCode } from '../../protocol/errors.js';
import type { ConfView } from '../globalconf/view.js';
import { checkFresh, OcspError, verifyOcspResponse } from '../../certs/ocsp/verify.js';
import { decodeManifest, manifestLeaf, MessageFormatError, saltedDigest, type Manifest } from './format.js';
import { decodeProof, rootFromProof } from './merkle.js';
import { verifyProfileDocument } from './signature-profile.js';
import { claimedSigner, SignatureDocumentError, type BatchStatement } from './signature-document.js';
import { memberOfId } from '../../protocol/identifiers.js';

/** What arrived, as bytes and strings, before anything about it is believed. */
export interface ReceivedMessage {
  readonly manifest: string | undefined;
  readonly chain: string | undefined;
  /** The signature document (already decoded from its base64 trailer). */
  readonly signature: string | undefined;
  readonly headBytes: Buffer;
  /** The salt the sender announced before the body, used to digest the body as it streamed. */
  readonly salt: Buffer;
  readonly bodyDigest: string;
  readonly bodyBytes: number;
  readonly ocsp: Buffer | undefined;
}

export interface Expectation {
  readonly type: Manifest['type'];
  /** The member whose signing certificate must have signed; by default the signed client's member (requests). */
  readonly signerMember?: string;
  readonly id?: string;
  readonly client?: string;
  readonly service?: string;
  /** Responses must answer this request (base64 leaf hash of the request). */
  readonly requestHash?: string;
}

export interface VerifiedMessage {
  readonly manifest: Manifest;
  readonly manifestBytes: Buffer;
  readonly leaf: Buffer;
  readonly signer: X509Certificate;
  readonly signature: string;
  readonly signatureHash: string;
  readonly chain: string;
  readonly ocsp: Buffer;
  readonly statement: BatchStatement;
}

/** A received message that does not verify: an X-Road code without a side (the handler that caught it adds its own). */
export class VerificationError extends CamdxError<Extract<ErrorCode, 'InvalidSignatureValue' | 'CertValidation' | 'InvalidRequest' | 'InconsistentResponse'>> {}

const SIGNATURE_CACHE_LIMIT = 8192;

/**
 * Verifies a received message completely: digests of what actually arrived, the hash chain to
 * the signed root, the signature document, the signer certificate's chain to an approved CA,
 * its role (a signing certificate, never an authentication one), whose it is (the claimed
 * member — identity binding), and a fresh good OCSP response for it.
 *
 * With `cacheSignatures`, a signature document already verified (a batch shared by several
 * messages) is not verified again: only the XML maths is skipped, keyed by the document's hash
 * and the signer; every other check runs for every message.
 */
export class MessageVerifier {
  private readonly verifiedDocuments = new Map<string, BatchStatement>();

  constructor(
    private readonly view: () => ConfView,
    private readonly options: { cacheSignatures: boolean; clock?: () => number; onVerify?: (ms: number, cached: boolean) => void } = { cacheSignatures: true },
  ) {}

  verify(msg: ReceivedMessage, expect: Expectation): VerifiedMessage {
    const view = this.view();
    const now = this.options.clock?.() ?? Date.now();
    if (!msg.signature || msg.chain === undefined) throw new VerificationError('InvalidSignatureValue', 'the message is not signed');
    let manifest: Manifest;
    let manifestBytes: Buffer;
    try {
      ({ manifest, bytes: manifestBytes } = decodeManifest(msg.manifest));
    } catch (err) {
      if (err instanceof MessageFormatError) throw new VerificationError('InvalidSignatureValue', err.message);
      throw err;
    }
    if (manifest.type !== expect.type) throw new VerificationError('InvalidSignatureValue', `expected a signed ${expect.type}, got a ${manifest.type}`);
    if (Buffer.from(manifest.salt, 'base64').compare(msg.salt) !== 0) throw new VerificationError('InvalidSignatureValue', 'the announced salt differs from the signed one');
    if (manifest.headDigest !== saltedDigest(msg.salt, msg.headBytes)) throw new VerificationError('InvalidSignatureValue', 'the head does not match its signed digest');
    if (manifest.bodyDigest !== msg.bodyDigest || manifest.bodyBytes !== msg.bodyBytes) throw new VerificationError('InvalidSignatureValue', 'the body does not match its signed digest');
    const leaf = manifestLeaf(manifestBytes);
    let root: Buffer;
    try {
      root = rootFromProof(leaf, decodeProof(msg.chain ?? ''));
    } catch {
      throw new VerificationError('InvalidSignatureValue', 'the hash chain is malformed');
    }

    let signer: X509Certificate;
    try {
      signer = claimedSigner(msg.signature);
    } catch (err) {
      throw new VerificationError('InvalidSignatureValue', (err as Error).message);
    }
    const ca = view.issuerOf(signer, now);
    if (!ca) throw new VerificationError('CertValidation', 'the signing certificate is not issued by an approved CA, or is not valid now');
    const facts = certificateFacts(signer);
    if (!isSigningCertificate(facts)) throw new VerificationError('CertValidation', 'the message is signed with a certificate that is not a signing certificate');
    const signerMember = expect.signerMember ?? memberOfId(manifest.client);
    if (facts.subject.serialNumber !== signerMember) {
      throw new VerificationError('CertValidation', `the signing certificate belongs to ${facts.subject.serialNumber ?? 'no member'}, not ${signerMember}`);
    }

    // One hash of the document serves as the verification cache key and as its name in the log.
    const signatureHash = documentHash(msg.signature);
    const statement = this.statement(msg.signature, signatureHash, signer);
    if (!statement.root.equals(root)) throw new VerificationError('InvalidSignatureValue', 'the hash chain does not lead to the signed root');

    if (!msg.ocsp) throw new VerificationError('CertValidation', 'no OCSP response for the signing certificate');
    try {
      checkFresh(verifyOcspResponse(msg.ocsp, signer, ca.certificate), view.conf.ocspFreshnessSeconds, now);
    } catch (err) {
      if (err instanceof OcspError) throw new VerificationError('CertValidation', `signing certificate: ${err.message}`);
      throw err;
    }
    // Only now that the manifest is known to be signed: is it the message we expected?
    if (expect.requestHash !== undefined && manifest.requestHash !== expect.requestHash) {
      throw new VerificationError('InconsistentResponse', 'the response was signed for another request');
    }
    for (const field of ['id', 'client', 'service'] as const) {
      if (expect[field] !== undefined && manifest[field] !== expect[field]) {
        throw new VerificationError(expect.type === 'response' ? 'InconsistentResponse' : 'InvalidSignatureValue', `the signed ${field} differs from the one the message was sent with`);
      }
    }
    return {
      manifest,
      manifestBytes,
      leaf,
      signer,
      signature: msg.signature,
      signatureHash,
      chain: msg.chain ?? '',
      ocsp: msg.ocsp,
      statement,
    };
  }

  private statement(xml: string, xmlHash: string, signer: X509Certificate): BatchStatement {
    const started = performance.now();
    const key = this.options.cacheSignatures ? `${xmlHash}:${signer.fingerprint256}` : '';
    const known = key ? this.verifiedDocuments.get(key) : undefined;
    if (known) {
      this.options.onVerify?.(performance.now() - started, true);
      return known;
    }
    let statement: BatchStatement;
    try {
      statement = verifyProfileDocument(xml, signer);
    } catch (err) {
      if (err instanceof SignatureDocumentError) throw new VerificationError('InvalidSignatureValue', err.message);
      throw err;
    }
    if (key) {
      if (this.verifiedDocuments.size >= SIGNATURE_CACHE_LIMIT) this.verifiedDocuments.delete(this.verifiedDocuments.keys().next().value!);
      this.verifiedDocuments.set(key, statement);
    }
    this.options.onVerify?.(performance.now() - started, false);
    return statement;
  }
}

/** How far ahead of this server's clock a signing time may be: clock skew, not a second window. */
export const MAX_SIGNED_AHEAD_MS = 60_000;

/**
 * Refuses a message seen before, any signed more than a window ago (so the set of remembered
 * messages stays bounded), and any signed more than a minute ahead: a message is remembered
 * until its window closes, counted from its signing time, and one dated far ahead would stay
 * replayable after a restart had forgotten it. Keyed by the first 128 bits of the message's leaf hash —
 * unique per message, as every manifest has a random salt, and a quarter of the full hash's
 * memory: at hundreds of messages a second the window holds hundreds of thousands of them.
 */
export class ReplayGuard {
  /** Leaf key → when it may be forgotten (signing time + window), in arrival order. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly windowMs = 10 * 60_000,
    private readonly clock: () => number = Date.now,
  ) {}

  remember(leafHex: string, signedAt: number): void {
    this.seen.set(keyOf(Buffer.from(leafHex, 'hex')), signedAt + this.windowMs);
  }

  check(leaf: Buffer, signedAt: string): void {
    const now = this.clock();
    const at = Date.parse(signedAt);
    if (!Number.isFinite(at)) throw new VerificationError('InvalidSignatureValue', 'the message has no valid signing time');
    if (at - now > MAX_SIGNED_AHEAD_MS) {
      throw new VerificationError('InvalidSignatureValue', `the message was signed at ${signedAt}, more than ${MAX_SIGNED_AHEAD_MS / 1000} s ahead of this server's clock`);
    }
    if (now - at > this.windowMs) throw new VerificationError('InvalidSignatureValue', `the message was signed at ${signedAt}, outside the accepted window of ${this.windowMs / 60000} minutes`);
    this.forgetExpired(now);
    const key = keyOf(leaf);
    if (this.seen.has(key)) throw new VerificationError('InvalidSignatureValue', 'the message was already received (replay)');
    this.seen.set(key, at + this.windowMs);
  }

  /** Messages remembered now. */
  get size(): number {
    return this.seen.size;
  }

  get windowMilliseconds(): number {
    return this.windowMs;
  }

  /**
   * Entries arrive in about the order they were signed, so the oldest go first and the scan
   * stops at the first still needed (one signed ahead delays the rest by at most a minute). A replay after its entry is forgotten is outside the window, and refused there.
   */
  private forgetExpired(now: number): void {
    for (const [key, until] of this.seen) {
      if (until >= now) break;
      this.seen.delete(key);
    }
  }
}

const keyOf = (leaf: Buffer): string => leaf.toString('base64', 0, 16);
