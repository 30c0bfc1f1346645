import { createHash, X509Certificate } from 'node:crypto';
import { strFromU8, unzipSync } from 'fflate';
import { certificateFacts, isSigningCertificate, issuingAnchor, type TrustAnchor } from '../../../certs/inspect.js';
import { certificatesFromPem } from '../../../certs/pem.js';
import { TimestampError, verifyTimestampToken } from '../../../certs/tsa/verify.js';
import { decodeManifest, manifestLeaf, MessageFormatError } from '../../message/format.js';
import { decodeProof, rootFromProof } from '../../message/merkle.js';
import { claimedSigner, SignatureDocumentError, verifySignatureDocument } from '../../message/xmldsig.js';
import { OcspError, verifyOcspResponse } from '../../../certs/ocsp/verify.js';
import { stampLeaf } from '../timestamper.js';
import { ARCHIVE_FORMAT, ARCHIVE_MIME, type ArchiveManifest, type ArchivedPart, type ArchivedRecord } from './layout.js';

export interface Failure {
  readonly record: string;
  readonly reason: string;
}

export interface VerifyReport {
  readonly manifest: ArchiveManifest;
  readonly records: number;
  readonly verifiedParts: number;
  readonly timestamps: ReadonlyArray<{ id: string; root: string; genTime: string; tsa: string }>;
  readonly failures: readonly Failure[];
}

export class ArchiveError extends Error {}

/** Seconds a TSA's clock and a signer's may disagree before the order of events is doubted. */
const SKEW_MS = 5 * 60_000;

class Check extends Error {}
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
 */
export function verifyArchive(zip: Uint8Array, options: { trustedRoots: readonly X509Certificate[]; messageId?: string }): VerifyReport {
  if (options.trustedRoots.length === 0) throw new ArchiveError('no trusted root certificate given');
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(zip);
  } catch (err) {
    throw new ArchiveError(`not a readable zip archive (${(err as Error).message})`);
  }
  if (files.mimetype === undefined || strFromU8(files.mimetype) !== ARCHIVE_MIME) throw new ArchiveError('not a CamDX message-log archive (mimetype)');
  const text = (name: string) => {
    const f = files[name];
    if (!f) throw new Check(`${name} is missing from the archive`);
    return strFromU8(f);
  };
  let manifest: ArchiveManifest;
  try {
    manifest = JSON.parse(text('META-INF/manifest.json')) as ArchiveManifest;
  } catch {
    throw new ArchiveError('META-INF/manifest.json is missing or not JSON');
  }
  if (manifest.format !== ARCHIVE_FORMAT) throw new ArchiveError(`unknown archive format ${String(manifest.format)}`);

  const roots = options.trustedRoots;
  const cas = manifest.trust.cas.flatMap((f) => certificatesFromPem(text(f))).map((d) => new X509Certificate(d));
  const anchors: TrustAnchor[] = cas.flatMap((c) => roots.filter((r) => c.checkIssued(r) && c.verify(r.publicKey)).map((root) => ({ certificate: c, root })));
  const tsas = manifest.trust.tsas.flatMap((f) => certificatesFromPem(text(f))).map((d) => new X509Certificate(d));
  const trustedTsas = tsas.filter((t) => issuingAnchor(t, anchors, Date.parse(t.validFrom)) !== undefined);

  const tokenCache = new Map<string, { root: Buffer; genTime: number }>();
  // Batch-signed documents are shared by many messages: their XML maths is done once.
  const documentRoots = new Map<string, Buffer>();
  const documentRoot = (hash: string, xml: string, key: X509Certificate['publicKey']) => {
    let root = documentRoots.get(hash);
    if (!root) {
      root = verifySignatureDocument(xml, key).root;
      documentRoots.set(hash, root);
    }
    return root;
  };
  const timestamp = (id: string) => {
    const known = tokenCache.get(id);
    if (known) return known;
    const meta = JSON.parse(text(`timestamps/${id}.json`)) as { root: string };
    const token = files[`timestamps/${id}.tst`];
    must(token, `timestamps/${id}.tst is missing`);
    const root = Buffer.from(meta.root, 'hex');
    let genTime: number;
    try {
      genTime = verifyTimestampToken(token!, root, trustedTsas).genTime.getTime();
    } catch (err) {
      if (err instanceof TimestampError) throw new Check(`timestamp ${id}: ${err.message}`);
      throw err;
    }
    const entry = { root, genTime };
    tokenCache.set(id, entry);
    return entry;
  };

  const checkPart = (record: ArchivedRecord, which: 'request' | 'response', p: ArchivedPart) => {
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
    const xml = text(`signatures/${p.signature}.xml`);
    must(createHash('sha256').update(xml).digest('hex') === p.signature, `${which} signature document does not match its reference`);
    const signer = claimedSigner(xml);
    const listed = certificatesFromPem(text(`certificates/${p.signer}.pem`))[0];
    must(listed && Buffer.from(listed).equals(signer.raw), `${which} signer certificate does not match its reference`);
    const signedAt = Date.parse(m.manifest.signedAt);
    const ca = issuingAnchor(signer, anchors, signedAt);
    must(ca, `${which} signer certificate does not chain to a trusted root, or was not valid at ${m.manifest.signedAt}`);
    const facts = certificateFacts(signer);
    must(isSigningCertificate(facts), `${which} is signed with a certificate that is not a signing certificate`);
    const expected = (which === 'request' ? record.client : record.service).split('/').slice(0, 3).join('/');
    must(facts.subject.serialNumber === expected, `${which} signer certificate belongs to ${facts.subject.serialNumber}, not ${expected}`);
    try {
      must(documentRoot(`${p.signature}:${signer.fingerprint256}`, xml, signer.publicKey).equals(root), `${which} hash chain does not lead to the signed root`);
    } catch (err) {
      if (err instanceof SignatureDocumentError) throw new Check(`${which} signature: ${err.message}`);
      throw err;
    }
    const ocspDer = files[`ocsp/${p.ocsp}.der`];
    must(ocspDer, `${which} OCSP response is missing`);
    try {
      const status = verifyOcspResponse(Buffer.from(ocspDer!), signer, ca!.certificate);
      must(status.status === 'good', `${which} signer certificate was ${status.status} at signing time`);
      must(status.thisUpdate <= signedAt + SKEW_MS && signedAt - status.thisUpdate <= manifest.ocspFreshnessSeconds * 1000, `${which} OCSP response was not fresh when the message was signed`);
    } catch (err) {
      if (err instanceof OcspError) throw new Check(`${which} OCSP: ${err.message}`);
      throw err;
    }
    const stamp = JSON.parse(text(`signatures/${p.signature}.json`)) as { timestamp: number | null; chain: string | null };
    must(stamp.timestamp !== null && stamp.chain !== null, `${which} signature is not timestamped`);
    let stampRoot: Buffer;
    try {
      stampRoot = rootFromProof(stampLeaf(xml), decodeProof(stamp.chain!));
    } catch {
      throw new Check(`${which} timestamp hash chain is malformed`);
    }
    const token = timestamp(String(stamp.timestamp));
    must(token.root.equals(stampRoot), `${which} timestamp hash chain does not lead to the stamped root`);
    must(token.genTime >= signedAt - SKEW_MS, `${which} timestamp predates the signature`);
  };

  const lines = text('records.jsonl').split('\n').filter(Boolean);
  const failures: Failure[] = [];
  let records = 0;
  let verifiedParts = 0;
  lines.forEach((line, i) => {
    let record: ArchivedRecord;
    try {
      record = JSON.parse(line) as ArchivedRecord;
    } catch {
      failures.push({ record: `records.jsonl line ${i + 1}`, reason: 'not JSON' });
      return;
    }
    if (options.messageId && record.messageId !== options.messageId) return;
    records++;
    const name = `${record.messageId} (${record.side}, record ${record.id})`;
    try {
      if (record.succeeded) must(record.request && record.response, 'a successful exchange must have a signed request and response');
      for (const which of ['request', 'response'] as const) {
        const p = record[which];
        if (p) {
          checkPart(record, which, p);
          verifiedParts++;
        }
      }
    } catch (err) {
      if (err instanceof Check) failures.push({ record: name, reason: err.message });
      else failures.push({ record: name, reason: `cannot be checked: ${(err as Error).message}` });
    }
  });
  if (options.messageId && records === 0) failures.push({ record: options.messageId, reason: 'no record with this X-Road-Id in the archive' });
  const timestamps = Object.keys(files)
    .filter((f) => /^timestamps\/\d+\.json$/.test(f))
    .map((f) => {
      const meta = JSON.parse(strFromU8(files[f]!)) as { root: string; genTime: string; tsa: string };
      return { id: f.slice('timestamps/'.length, -'.json'.length), root: meta.root, genTime: meta.genTime, tsa: meta.tsa };
    });
  return { manifest, records, verifiedParts, timestamps, failures };
}
