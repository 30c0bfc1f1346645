import { X509Certificate } from 'node:crypto';
import { certificateFacts } from '../../certs/inspect.js';
import { OID } from '../../certs/oids.js';
import type { SignatureRole } from '../../protocol/management.js';

/** A management request's signer, as an officer reviews it before approving. */
export interface SignatureCertificate {
  readonly role: SignatureRole;
  readonly subject: string;
  readonly issuer: string;
  /** Hexadecimal, as X-Road's central server shows it. */
  readonly serial: string;
  readonly notBefore: string;
  readonly notAfter: string;
  /** Key usage bits by their RFC 5280 names (digitalSignature, nonRepudiation, …). */
  readonly keyUsage: readonly string[];
  /** Extended key usages by name (clientAuth, serverAuth, …), or the OID when it has none here. */
  readonly extendedKeyUsage: readonly string[];
}

/** The certificate a signature was made with, as kept with the request (role and PEM). */
export interface SignerCertificate {
  readonly role: SignatureRole;
  readonly certificate: string;
}

const EKU_NAMES = new Map<string, string>((['serverAuth', 'clientAuth', 'emailProtection', 'timeStamping', 'ocspSigning'] as const).map((name) => [OID[name], name]));

// node:crypto prints a distinguished name one attribute a line; one line reads better in a table.
const oneLine = (name: string) => name.split('\n').filter(Boolean).join(', ');

export function signatureCertificate(signer: SignerCertificate): SignatureCertificate {
  const cert = new X509Certificate(signer.certificate);
  const facts = certificateFacts(cert);
  return {
    role: signer.role,
    subject: oneLine(cert.subject),
    issuer: oneLine(cert.issuer),
    serial: cert.serialNumber.toLowerCase(),
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
    keyUsage: [...facts.keyUsage],
    extendedKeyUsage: facts.extKeyUsage.map((oid) => EKU_NAMES.get(oid) ?? oid),
  };
}
