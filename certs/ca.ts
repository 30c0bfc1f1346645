import { X509Certificate, type KeyObject } from 'node:crypto';
import { buildCertificate, issuerKeyOf, randomSerial, serialHex, type CertificateTemplate, type IssuerKey } from './certificate.js';
import { formatName } from './names.js';
import { toPem } from './pem.js';
import type { CaName, Identity } from './profiles.js';
import type { CertificateRecord, PkiStore } from './store.js';

export interface IssuedCertificate {
  readonly serial: string;
  readonly der: Buffer;
  readonly pem: string;
  /** The issued certificate and its issuing CA, as PEM: what a TLS peer presents. */
  readonly chain: readonly string[];
}

/** An online CA: its certificate and key, issuing into the certificate register. */
export class CertificateAuthority {
  readonly cert: X509Certificate;
  private readonly issuer: IssuerKey;

  constructor(
    readonly name: CaName,
    readonly certDer: Buffer,
    privateKey: KeyObject,
  ) {
    this.cert = new X509Certificate(certDer);
    this.issuer = issuerKeyOf(certDer, privateKey);
  }

  get pem(): string {
    return this.cert.toString();
  }

  /**
   * Signs a certificate and records it. Call inside a store transaction when the issue must
   * land together with other writes (an enrolment token being consumed).
   */
  issue(store: PkiStore, template: CertificateTemplate, identity: Identity): IssuedCertificate {
    const serialBytes = randomSerial();
    const der = buildCertificate(template, serialBytes, this.issuer);
    const cert = new X509Certificate(der);
    const serial = serialHex(serialBytes);
    const record: Omit<CertificateRecord, 'status' | 'revokedAt' | 'revocationReason'> = {
      serial,
      ca: this.name,
      profile: template.profile.name,
      subject: formatName(template.subject),
      identity,
      notBefore: Date.parse(cert.validFrom),
      notAfter: Date.parse(cert.validTo),
      issuedAt: Date.now(),
      der,
    };
    store.insertCertificate(record);
    const pem = toPem(der, 'CERTIFICATE');
    return { serial, der, pem, chain: [pem, this.pem] };
  }
}
