import type { X509Certificate } from 'node:crypto';
import * as pkijs from 'pkijs';
import { bytesOf } from './der.js';
import { decodeExtensions, type KeyUsage } from './extensions.js';
import { parseName, type DistinguishedName } from './names.js';
import { OID } from './oids.js';

/** What a certificate may be used for and whom it names, decoded once per certificate. */
export interface CertificateFacts {
  readonly subject: DistinguishedName;
  readonly keyUsage: readonly KeyUsage[];
  readonly extKeyUsage: readonly string[];
  readonly ca: boolean;
}

const cache = new Map<string, CertificateFacts>();
const CACHE_LIMIT = 4096;

export function certificateFacts(cert: X509Certificate): CertificateFacts {
  const key = cert.fingerprint256;
  const known = cache.get(key);
  if (known) return known;
  const parsed = pkijs.Certificate.fromBER(bytesOf(cert.raw));
  const ext = decodeExtensions(parsed.extensions ?? []);
  const facts: CertificateFacts = {
    subject: parseName(parsed.subject).name,
    keyUsage: ext.keyUsage ?? [],
    extKeyUsage: ext.extKeyUsage ?? [],
    ca: ext.basicConstraints?.cA ?? false,
  };
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(key, facts);
  return facts;
}

/**
 * A message-signing certificate (X-Road "sign"): nonRepudiation, and no TLS usage, so it can
 * never double as an authentication certificate.
 */
export function isSigningCertificate(facts: CertificateFacts): boolean {
  return (
    !facts.ca && facts.keyUsage.includes('nonRepudiation') && !facts.keyUsage.includes('digitalSignature') && !facts.extKeyUsage.includes(OID.clientAuth) && !facts.extKeyUsage.includes(OID.serverAuth)
  );
}

/** A security server's TLS authentication certificate: digitalSignature + TLS client auth, never nonRepudiation. */
export function isAuthenticationCertificate(facts: CertificateFacts): boolean {
  return !facts.ca && facts.keyUsage.includes('digitalSignature') && !facts.keyUsage.includes('nonRepudiation') && facts.extKeyUsage.includes(OID.clientAuth);
}

export interface TrustAnchor {
  readonly certificate: X509Certificate;
  readonly root: X509Certificate;
}

/**
 * The approved CA that issued `cert`, if the certificate is within its validity at `now` and
 * its signature verifies under that CA's key (and the CA under its root). Undefined otherwise.
 */
export function issuingAnchor<T extends TrustAnchor>(cert: X509Certificate, anchors: readonly T[], now = Date.now()): T | undefined {
  if (Date.parse(cert.validFrom) > now || Date.parse(cert.validTo) < now) return undefined;
  return anchors.find(
    (a) =>
      cert.checkIssued(a.certificate) &&
      cert.verify(a.certificate.publicKey) &&
      a.certificate.checkIssued(a.root) &&
      a.certificate.verify(a.root.publicKey) &&
      Date.parse(a.certificate.validTo) >= now,
  );
}
