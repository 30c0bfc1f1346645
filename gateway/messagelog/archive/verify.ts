import { createHash, X509Certificate } from 'node:crypto';
import { certificateFacts, isSigningCertificate, issuingAnchor, type TrustAnchor } from '../../../certs/inspect.js';
import { certificatesFromPem } from '../../../certs/pem.js';
import { TimestampError, verifyTimestampToken } from '../../../certs/tsa/verify.js';
import { decodeManifest, manifestLeaf, MessageFormatError } from '../../message/format.js';
import { decodeProof, rootFromProof } from '../../message/merkle.js';
import { claimedSigner, SignatureDocumentError } from '../../message/signature-document.js';
import { verifySignatureDocument } from '../../message/xmldsig.js';
import { OcspError, verifyOcspResponse } from '../../../certs/ocsp/verify.js';
import { stampLeaf } from '../timestamper.js';
import { ArchiveError, ArchiveFileError, ArchiveFiles } from './reader.js';
import { type ArchiveManifest, type ArchivedPart, type ArchivedRecord } from './layout.js';
import { memberOfId } from '../../../protocol/identifiers.js';

export interface Failure {
  readonly record: string;
  readonly reason: string;
}

/** A record whose every check passed except the timestamp, which its batch had not received at export. */
export type Pending = Failure;

export interface VerifyReport {
  readonly manifest: ArchiveManifest;
  readonly records: number;
  readonly verifiedParts: number;
  readonly timestamps: ReadonlyArray<{ id: string; root: string; genTime: string; tsa: string }>;
  readonly failures: readonly Failure[];
  readonly pending: readonly Pending[];
}

export interface VerifyOptions {
  readonly trustedRoots: readonly X509Certificate[];
  readonly messageId?: string;
  /** The security server whose archive this must be (`INSTANCE/CLASS/CODE/SERVER`). */
  readonly server?: string;
}

export { ArchiveError };

/** Results remembered per kind (documents, signers, chains): a batch's records follow each other, so few are needed at once. */
const MEMO_ENTRIES = 8192;

/** Seconds a TSA's clock and a signer's may disagree before the order of events is doubted. */
const SKEW_MS = 5 * 60_000;

/** A record's check failed (a missing or unreadable file of the archive is one way). */
class Check extends ArchiveFileError {}
const must = (ok: unknown, reason: string): void => {
  if (!ok) throw new Check(reason);
};

/**
 * Verifies an archive offline, without the gateway's database: for every record and each of
 * its signed messages, the manifest's leaf through its hash chain to the signed root, the
 * signature document, the signer's chain to a trusted root, role and owner (identity
 * binding), its OCSP status at signing time, and the timestamp covering the signature
 * document (its hash chain, the token's imprint and signature, the TSA's chain). Every record
 * that fails is named with the first reason.
 *
 * The roots are always the caller's: the archive's own `trust/root-*.pem` are what its writer
 * claims, so a forger would simply ship the root he signed with. Its CA and TSA certificates
 * are only candidates, believed once they chain to one of `trustedRoots`.
 *
 * A record the manifest lists as pending may lack its timestamp, and nothing else: it is
 * reported pending, not failed, once every other check passed. The list is the writer's
 * claim, as unprotected as the rest of the archive's layout, so it can excuse only what it
 * names: an editor who marks a record pending (or strips a record's timestamp and marks it)
 * still needs a signature by the member's key over the record's manifest, a certificate valid
 * then and a good OCSP response. What a pending record lacks is the independent proof of
 * *when* it was signed: its `signedAt` is the signer's word, so it cannot show the signature was
 * made before a later compromise or revocation of the key.
 *
 * `source` is the archive's path (read entry by entry, records.jsonl as a stream: memory stays
 * flat whatever its size) or its bytes.
 */
export async function verifyArchive(source: string | Uint8Array, options: VerifyOptions): Promise<VerifyReport> {
  if (options.trustedRoots.length === 0) throw new ArchiveError('no trusted root certificate given');
  const archive = await ArchiveFiles.open(source);
  try {
    const checker = await archiveLevel(() => RecordChecker.create(archive, options.trustedRoots));
    const failures: Failure[] = [];
    const pending: Pending[] = [];
    if (options.server !== undefined && archive.manifest.server !== options.server) {
      failures.push({ record: 'archive', reason: `it says it is the message log of ${archive.manifest.server}, not of ${options.server}` });
    }
    const listedPending = new Set(archive.manifest.pending ?? []);
    let records = 0;
    let verifiedParts = 0;
    let lineNumber = 0;
    const lines = await archiveLevel(async () => archive.lines('records.jsonl'));
    for await (const line of lines) {
      lineNumber++;
      if (!line) continue;
      let record: ArchivedRecord;
      try {
        record = JSON.parse(line) as ArchivedRecord;
      } catch {
        failures.push({ record: `records.jsonl line ${lineNumber}`, reason: 'not JSON' });
        continue;
      }
      if (options.messageId && record.messageId !== options.messageId) continue;
      records++;
      const name = `${record.messageId} (${record.side}, record ${record.id})`;
      try {
        const outcome = await checker.checkRecord(record, listedPending.has(record.id));
        verifiedParts += outcome.parts;
        if (outcome.pending) pending.push({ record: name, reason: 'not yet timestamped' });
      } catch (err) {
        failures.push({ record: name, reason: err instanceof ArchiveFileError ? err.message : `cannot be checked: ${(err as Error).message}` });
      }
    }
    if (options.messageId && records === 0) failures.push({ record: options.messageId, reason: 'no record with this X-Road-Id in the archive' });
    return { manifest: archive.manifest, records, verifiedParts, timestamps: await timestampsOf(archive), failures, pending };
  } finally {
    archive.close();
  }
}

/** What the whole archive needs (its trust candidates, its records): missing, nothing can be checked. */
async function archiveLevel<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof ArchiveFileError) throw new ArchiveError(err.message);
    throw err;
  }
}

async function timestampsOf(archive: ArchiveFiles): Promise<VerifyReport['timestamps']> {
  const timestamps: Array<VerifyReport['timestamps'][number]> = [];
  for (const f of [...archive.names()].filter((name) => /^timestamps\/\d+\.json$/.test(name))) {
    const meta = JSON.parse(await archive.text(f)) as { root: string; genTime: string; tsa: string };
    timestamps.push({ id: f.slice('timestamps/'.length, -'.json'.length), root: meta.root, genTime: meta.genTime, tsa: meta.tsa });
  }
  return timestamps;
}

/** The checks of one record's signed messages, with what many records share (documents, tokens) checked once. */
class RecordChecker {
  private readonly tokens = new Map<string, { root: Buffer; genTime: number }>();
  // Batch-signed documents are shared by many messages: their XML maths is done once, and so
  // are the signer's parsing and chain (per signing time: validity is checked at that instant).
  private readonly documentRoots = new Map<string, Buffer>();
  private readonly signers = new Map<string, X509Certificate>();
  private readonly chains = new Map<string, TrustAnchor>();
  private readonly facts = new Map<string, ReturnType<typeof certificateFacts>>();

  private constructor(
    private readonly archive: ArchiveFiles,
    private readonly anchors: TrustAnchor[],
    private readonly trustedTsas: X509Certificate[],
  ) {}

  static async create(archive: ArchiveFiles, roots: readonly X509Certificate[]): Promise<RecordChecker> {
    const cas = await archive.certificates(archive.manifest.trust.cas);
    const anchors = cas.flatMap((c) => roots.filter((r) => c.checkIssued(r) && c.verify(r.publicKey)).map((root) => ({ certificate: c, root })));
    const tsas = (await archive.certificates(archive.manifest.trust.tsas)).filter((t) => issuingAnchor(t, anchors, Date.parse(t.validFrom)) !== undefined);
    return new RecordChecker(archive, anchors, tsas);
  }

  /** Throws Check with the first reason it fails; `pending` when a part listed as pending has no timestamp yet. */
  async checkRecord(record: ArchivedRecord, listedPending: boolean): Promise<{ parts: number; pending: boolean }> {
    if (record.succeeded) must(record.request && record.response, 'a successful exchange must have a signed request and response');
    let parts = 0;
    let pending = false;
    for (const which of ['request', 'response'] as const) {
      const p = record[which];
      if (!p) continue;
      const { xml, signedAt } = await this.checkSignedMessage(record, which, p);
      if (!(await this.checkStamp(which, p, xml, signedAt, listedPending))) pending = true;
      parts++;
    }
    return { parts, pending };
  }

  /** Everything but the timestamp: manifest, hash chain, signature document, signer, OCSP. */
  private async checkSignedMessage(record: ArchivedRecord, which: 'request' | 'response', p: ArchivedPart): Promise<{ xml: string; signedAt: number }> {
    let m;
    try {
      m = decodeManifest(p.manifest);
    } catch (err) {
      if (err instanceof MessageFormatError) throw new Check(`${which} manifest: ${err.message}`);
      throw err;
    }
    must(m.manifest.type === which, `${which} manifest says it is a ${m.manifest.type}`);
    must(m.manifest.id === record.messageId && m.manifest.client === record.client && m.manifest.service === record.service, `${which} manifest names another exchange`);
    let root: Buffer;
    try {
      root = rootFromProof(manifestLeaf(m.bytes), decodeProof(p.chain));
    } catch {
      throw new Check(`${which} hash chain is malformed`);
    }
    const xml = await this.archive.text(`signatures/${p.signature}.xml`);
    const signer = this.signers.get(`${p.signature}:${p.signer}`) ?? (await this.signerOf(which, p, xml));
    const signedAt = Date.parse(m.manifest.signedAt);
    const ca = this.memo(this.chains, `${signer.fingerprint256}:${signedAt}`, () => issuingAnchor(signer, this.anchors, signedAt));
    must(ca, `${which} signer certificate does not chain to a trusted root, or was not valid at ${m.manifest.signedAt}`);
    const facts = this.memo(this.facts, signer.fingerprint256, () => certificateFacts(signer));
    must(isSigningCertificate(facts), `${which} is signed with a certificate that is not a signing certificate`);
    const expected = memberOfId(which === 'request' ? record.client : record.service);
    must(facts.subject.serialNumber === expected, `${which} signer certificate belongs to ${facts.subject.serialNumber}, not ${expected}`);
    try {
      must(this.documentRoot(`${p.signature}:${signer.fingerprint256}`, xml, signer.publicKey).equals(root), `${which} hash chain does not lead to the signed root`);
    } catch (err) {
      if (err instanceof SignatureDocumentError) throw new Check(`${which} signature: ${err.message}`);
      throw err;
    }
    await this.checkOcsp(which, p, signer, ca!.certificate, signedAt);
    return { xml, signedAt };
  }

  /** The document's signer, once the document and the certificate are what the record refers to. */
  private async signerOf(which: string, p: ArchivedPart, xml: string): Promise<X509Certificate> {
    must(createHash('sha256').update(xml).digest('hex') === p.signature, `${which} signature document does not match its reference`);
    const signer = claimedSigner(xml);
    const listed = certificatesFromPem(await this.archive.text(`certificates/${p.signer}.pem`))[0];
    must(listed && Buffer.from(listed).equals(signer.raw), `${which} signer certificate does not match its reference`);
    return this.memo(this.signers, `${p.signature}:${p.signer}`, () => signer);
  }

  private async checkOcsp(which: string, p: ArchivedPart, signer: X509Certificate, issuer: X509Certificate, signedAt: number): Promise<void> {
    const ocspDer = await this.archive.bytes(`ocsp/${p.ocsp}.der`);
    must(ocspDer, `${which} OCSP response is missing`);
    try {
      const status = verifyOcspResponse(Buffer.from(ocspDer!), signer, issuer);
      must(status.status === 'good', `${which} signer certificate was ${status.status} at signing time`);
      must(
        status.thisUpdate <= signedAt + SKEW_MS && signedAt - status.thisUpdate <= this.archive.manifest.ocspFreshnessSeconds * 1000,
        `${which} OCSP response was not fresh when the message was signed`,
      );
    } catch (err) {
      if (err instanceof OcspError) throw new Check(`${which} OCSP: ${err.message}`);
      throw err;
    }
  }

  /** The timestamp covering the signature document; false when there is none and the record is listed as pending. */
  private async checkStamp(which: string, p: ArchivedPart, xml: string, signedAt: number, listedPending: boolean): Promise<boolean> {
    const stamp = JSON.parse(await this.archive.text(`signatures/${p.signature}.json`)) as { timestamp: number | null; chain: string | null };
    if (stamp.timestamp === null && stamp.chain === null && listedPending) return false;
    must(stamp.timestamp !== null && stamp.chain !== null, `${which} signature is not timestamped${listedPending ? '' : ', and the archive does not list the record as pending'}`);
    let stampRoot: Buffer;
    try {
      stampRoot = rootFromProof(stampLeaf(xml), decodeProof(stamp.chain!));
    } catch {
      throw new Check(`${which} timestamp hash chain is malformed`);
    }
    const token = await this.timestamp(String(stamp.timestamp));
    must(token.root.equals(stampRoot), `${which} timestamp hash chain does not lead to the stamped root`);
    must(token.genTime >= signedAt - SKEW_MS, `${which} timestamp predates the signature`);
    return true;
  }

  private documentRoot(key: string, xml: string, publicKey: X509Certificate['publicKey']): Buffer {
    return this.memo(this.documentRoots, key, () => verifySignatureDocument(xml, publicKey).root);
  }

  /**
   * What `make` gives for `key`, made once while remembered. Only successes are kept (a failure
   * throws); a full memo is emptied, which only costs making things again.
   */
  private memo<V>(memo: Map<string, V>, key: string, make: () => V): V {
    const known = memo.get(key);
    if (known !== undefined) return known;
    const value = make();
    if (value === undefined) return value;
    if (memo.size >= MEMO_ENTRIES) memo.clear();
    memo.set(key, value);
    return value;
  }

  private async timestamp(id: string): Promise<{ root: Buffer; genTime: number }> {
    const known = this.tokens.get(id);
    if (known) return known;
    const meta = JSON.parse(await this.archive.text(`timestamps/${id}.json`)) as { root: string };
    const token = await this.archive.bytes(`timestamps/${id}.tst`);
    must(token, `timestamps/${id}.tst is missing`);
    const root = Buffer.from(meta.root, 'hex');
    let genTime: number;
    try {
      genTime = verifyTimestampToken(token!, root, this.trustedTsas).genTime.getTime();
    } catch (err) {
      if (err instanceof TimestampError) throw new Check(`timestamp ${id}: ${err.message}`);
      throw err;
    }
    const entry = { root, genTime };
    this.tokens.set(id, entry);
    return entry;
  }
}
