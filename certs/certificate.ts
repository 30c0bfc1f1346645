import { randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import {
  authorityKeyIdentifierExtension,
  basicConstraintsExtension,
  extKeyUsageExtension,
  keyIdentifier,
  keyUsageExtension,
  ocspAccessExtension,
  ocspNoCheckExtension,
  subjectAltNameExtension,
  subjectKeyIdentifierExtension,
  type AltNames,
} from './extensions.js';
import { describeKey, spkiDer } from './keys.js';
import { buildName, type DistinguishedName } from './names.js';
import type { Profile } from './profiles.js';
import { signData, signatureAlgorithmFor } from './signature.js';
import { bytesOf } from './der.js';

const DAY_MS = 86_400_000;
/** Certificates start a little in the past so a peer whose clock lags still accepts them. */
const BACKDATE_MS = 5 * 60_000;

/** The parts of an issuer a new certificate needs. */
export interface IssuerKey {
  readonly name: pkijs.RelativeDistinguishedNames;
  readonly keyId: Uint8Array;
  readonly privateKey: KeyObject;
  readonly notAfter: Date;
}

export interface CertificateTemplate {
  readonly profile: Profile;
  readonly subject: DistinguishedName;
  readonly publicKey: KeyObject;
  readonly altNames?: AltNames;
  readonly ocspUrl?: string;
  readonly now?: Date;
  readonly validityDays?: number;
}

/** Random 127-bit positive serial (RFC 5280 allows 20 octets; CA/B asks for ≥ 64 random bits). */
export function randomSerial(): Buffer {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return bytes;
}

/** Serial as OpenSSL and node:crypto print it: upper-case hex. */
export function serialHex(serial: Uint8Array): string {
  return Buffer.from(serial).toString('hex').toUpperCase();
}

/** RFC 5280: UTCTime through 2049, GeneralizedTime from 2050. */
function certTime(date: Date): pkijs.Time {
  return new pkijs.Time({ type: date.getUTCFullYear() < 2050 ? 0 : 1, value: date });
}

/**
 * Builds and signs a certificate from a profile. The validity never outlasts the issuer's.
 * A root passes `selfIssuer(...)` as its own issuer.
 */
export function buildCertificate(template: CertificateTemplate, serial: Uint8Array, issuer: IssuerKey): Buffer {
  const { profile } = template;
  const now = template.now ?? new Date();
  const spki = pkijs.PublicKeyInfo.fromBER(bytesOf(spkiDer(template.publicKey)));
  const notBefore = new Date(now.getTime() - BACKDATE_MS);
  const wanted = new Date(now.getTime() + (template.validityDays ?? profile.validityDays) * DAY_MS);
  const notAfter = wanted > issuer.notAfter ? issuer.notAfter : wanted;

  const extensions: pkijs.Extension[] = [basicConstraintsExtension(profile.ca !== undefined, profile.ca?.pathLen), keyUsageExtension(profile.keyUsage(describeKey(template.publicKey)))];
  if (profile.extKeyUsage) extensions.push(extKeyUsageExtension(profile.extKeyUsage.purposes, profile.extKeyUsage.critical));
  extensions.push(subjectKeyIdentifierExtension(keyIdentifier(spki)), authorityKeyIdentifierExtension(issuer.keyId));
  if (profile.altNames && template.altNames && template.altNames.dns.length + template.altNames.ip.length > 0) {
    extensions.push(subjectAltNameExtension(template.altNames));
  }
  if (profile.ocspUrl && template.ocspUrl) extensions.push(ocspAccessExtension(template.ocspUrl));
  if (profile.ocspNoCheck) extensions.push(ocspNoCheckExtension());

  const cert = new pkijs.Certificate({
    version: 2,
    serialNumber: new asn1js.Integer({ valueHex: serial }),
    issuer: issuer.name,
    subject: buildName(template.subject),
    notBefore: certTime(notBefore),
    notAfter: certTime(notAfter),
    subjectPublicKeyInfo: spki,
    extensions,
  });
  return signCertificate(cert, issuer.privateKey);
}

/** The issuer of a self-signed certificate: its own name and key. */
export function selfIssuer(subject: DistinguishedName, privateKey: KeyObject): IssuerKey {
  return {
    name: buildName(subject),
    keyId: keyIdentifier(pkijs.PublicKeyInfo.fromBER(bytesOf(spkiDer(privateKey)))),
    privateKey,
    notAfter: new Date(Date.UTC(9999, 11, 31)),
  };
}

function signCertificate(cert: pkijs.Certificate, key: KeyObject): Buffer {
  const algorithm = signatureAlgorithmFor(key);
  cert.signature = algorithm;
  cert.signatureAlgorithm = algorithm;
  cert.tbsView = new Uint8Array(cert.encodeTBS().toBER(false));
  cert.signatureValue = new asn1js.BitString({ valueHex: signData(cert.tbsView, key) });
  return Buffer.from(cert.toSchema().toBER(false));
}

/** Issuer data for a CA held as a certificate + key. */
export function issuerKeyOf(certDer: Uint8Array, privateKey: KeyObject): IssuerKey {
  const cert = pkijs.Certificate.fromBER(bytesOf(certDer));
  return {
    name: cert.subject,
    keyId: keyIdentifier(cert.subjectPublicKeyInfo),
    privateKey,
    notAfter: new Date(new X509Certificate(Buffer.from(certDer)).validTo),
  };
}
