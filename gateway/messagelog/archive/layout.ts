/**
 * The message-log archive: a zip container in the manner of ASiC-E — an uncompressed
 * `mimetype` entry first, then plain files a person can read and check with standard tools.
 * Zip64 (APPNOTE 4.5.3) once it holds 65,535 entries or more than 4 GiB, as a busy period's does.
 *
 *   mimetype                      application/vnd.camdx.messagelog+zip
 *   README.txt                    how to verify, by hand or with `camdx verify`
 *   META-INF/manifest.json        what the archive holds (server, time range, counts, settings), and
 *                                 which records are pending: exported before their batch was timestamped
 *   records.jsonl                 one exchange record per line: metadata, manifests, hash chains,
 *                                 and references (SHA-256) to the files below
 *   signatures/<sha256>.xml       signature documents (XMLDSig; xmlsec1 verifies them)
 *   signatures/<sha256>.json      {timestamp: id, chain}: the document's hash chain to its token
 *   timestamps/<id>.tst           RFC 3161 token (CMS, DER): `openssl ts -verify -token_in`
 *   timestamps/<id>.json          {root, tsa, genTime}: the batch root the token stamps
 *   certificates/<sha256>.pem     signer certificates
 *   ocsp/<sha256>.der             OCSP responses for them, as sent with the messages
 *   trust/*.pem                   the approved CAs, their roots and the TSAs, from the global configuration:
 *                                 candidates for building chains, never trusted themselves (a forger
 *                                 would ship his own root); the root comes from the person verifying
 */
import type { OperationalRecord } from '../log.js';

export const ARCHIVE_MIME = 'application/vnd.camdx.messagelog+zip';
export const ARCHIVE_FORMAT = 'camdx-messagelog-archive/1';

export interface ArchivedPart {
  readonly manifest: string;
  readonly chain: string;
  readonly signature: string;
  readonly signer: string;
  readonly ocsp: string;
}

/** A record's metadata (the same fields as an operational record) and its two signed parts. */
export interface ArchivedRecord extends OperationalRecord {
  readonly request: ArchivedPart | null;
  readonly response: ArchivedPart | null;
}

export interface ArchiveManifest {
  readonly format: typeof ARCHIVE_FORMAT;
  readonly server: string;
  readonly exportedAt: string;
  readonly from: string;
  readonly to: string;
  readonly records: number;
  readonly signatures: number;
  readonly timestamps: number;
  readonly ocspFreshnessSeconds: number;
  /**
   * Ids of the records written before their signatures were timestamped (`log export
   * --include-pending`). Only the missing timestamp is excused: `verify` still checks everything
   * else of them, and fails a record that lacks a timestamp without being listed here. Absent in
   * archives of stamped records only.
   */
  readonly pending?: readonly number[];
  readonly trust: { readonly cas: readonly string[]; readonly roots: readonly string[]; readonly tsas: readonly string[] };
}

export const README = `CamDX message-log archive

Every exchange this security server handled in the period is in records.jsonl (metadata only:
no bodies, query strings or header values). For each signed message the archive holds its
manifest (salted digests of the request line, headers and body), its hash chain to the signed
batch root, the signature document, the signer certificate and its OCSP response, and the RFC
3161 timestamp covering the signature document.

Records listed under "pending" in META-INF/manifest.json were exported before their batch was
timestamped: their signatures, certificates, OCSP responses and hash chains can be checked, but
nothing independent of the signer proves when they were signed. Export them again once stamped.

The roots in trust/ are copies for reference, written by whoever made this file: trust a root
you obtained yourself (your network's, or one its operator gave you), never the archive's.

Check everything at once:   camdx verify <this file> [--trust your-root-ca.pem]
                            (without --trust: the root of the network in the state directory)
Check one exchange:         camdx verify <this file> --id <X-Road-Id>
Print openssl commands:     camdx verify <this file> --openssl

By hand, after unzipping:
  xmlsec1 --verify --trusted-pem your-root-ca.pem --untrusted-pem trust/<ca>.pem \\
          --enabled-reference-uris empty --enabled-key-data x509 signatures/<sha256>.xml
  openssl ts -verify -digest <root from timestamps/<id>.json> -token_in -in timestamps/<id>.tst \\
          -CAfile your-root-ca.pem -untrusted trust/<tsa>.pem -untrusted trust/<ca>.pem
`;
