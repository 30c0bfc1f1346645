import { X509Certificate } from 'node:crypto';
import { OID } from '../../certs/oids.js';
import { conflict, notFound, RegistryError } from './errors.js';
import { isUniqueViolation, type RegistryCore } from './core.js';

export interface ApprovedCaRecord {
  readonly name: string;
  readonly certificate: string;
  readonly rootCertificate: string;
  readonly ocspUrl: string;
}

export interface ApprovedTsaRecord {
  readonly name: string;
  readonly url: string;
  readonly certificate: string;
}

function certificate(pem: string, field: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw new RegistryError('invalid', field, `${field} is not a PEM certificate`);
  }
}

function checkUrl(url: string, field: string): string {
  try {
    const u = new URL(url);
    if (u.protocol === 'http:' || u.protocol === 'https:') return url;
  } catch {
    // fall through
  }
  throw new RegistryError('invalid', field, `${field} '${url}' is not an http(s) URL`);
}

/** Approved certification authorities (issuing CA + its root + OCSP URL) and timestamping authorities. */
export class Trust {
  private readonly stmt;

  constructor(private readonly core: RegistryCore) {
    const db = core.db;
    this.stmt = {
      insertCa: db.prepare('INSERT INTO approved_cas (name, certificate, root_certificate, ocsp_url, created_at) VALUES (?, ?, ?, ?, ?)'),
      removeCa: db.prepare('DELETE FROM approved_cas WHERE name = ?'),
      cas: db.prepare('SELECT name, certificate, root_certificate, ocsp_url FROM approved_cas ORDER BY name'),
      insertTsa: db.prepare('INSERT INTO approved_tsas (name, url, certificate, created_at) VALUES (?, ?, ?, ?)'),
      removeTsa: db.prepare('DELETE FROM approved_tsas WHERE name = ?'),
      tsas: db.prepare('SELECT name, url, certificate FROM approved_tsas ORDER BY name'),
    };
  }

  addCa(actor: string, ca: ApprovedCaRecord): ApprovedCaRecord {
    const cert = certificate(ca.certificate, 'certificate');
    const root = certificate(ca.rootCertificate, 'rootCertificate');
    if (!cert.ca) throw new RegistryError('invalid', 'certificate', 'certificate is not a CA certificate (basicConstraints CA:TRUE)');
    if (!root.ca || !root.checkIssued(root) || !root.verify(root.publicKey)) {
      throw new RegistryError('invalid', 'rootCertificate', 'rootCertificate is not a self-signed CA certificate');
    }
    if (!cert.checkIssued(root) || !cert.verify(root.publicKey)) throw new RegistryError('invalid', 'certificate', 'certificate is not issued by rootCertificate');
    checkUrl(ca.ocspUrl, 'ocspUrl');
    try {
      this.core.mutate(actor, 'ca.add', ca.name, { subject: cert.subject, ocspUrl: ca.ocspUrl }, () =>
        this.stmt.insertCa.run(ca.name, Buffer.from(cert.raw), Buffer.from(root.raw), ca.ocspUrl, this.core.clock()),
      );
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('name', `approved CA ${ca.name}`);
      throw err;
    }
    return this.listCas().find((c) => c.name === ca.name)!;
  }

  removeCa(actor: string, name: string): void {
    if (!this.listCas().some((c) => c.name === name)) throw notFound('name', `approved CA ${name}`);
    this.core.mutate(actor, 'ca.remove', name, undefined, () => this.stmt.removeCa.run(name));
  }

  listCas(): ApprovedCaRecord[] {
    return (this.stmt.cas.all() as Array<{ name: string; certificate: Buffer; root_certificate: Buffer; ocsp_url: string }>).map((r) => ({
      name: r.name,
      certificate: new X509Certificate(r.certificate).toString(),
      rootCertificate: new X509Certificate(r.root_certificate).toString(),
      ocspUrl: r.ocsp_url,
    }));
  }

  addTsa(actor: string, tsa: ApprovedTsaRecord): ApprovedTsaRecord {
    const cert = certificate(tsa.certificate, 'certificate');
    if (!(cert.keyUsage ?? []).includes(OID.timeStamping)) throw new RegistryError('invalid', 'certificate', 'certificate lacks the id-kp-timeStamping extended key usage');
    checkUrl(tsa.url, 'url');
    try {
      this.core.mutate(actor, 'tsa.add', tsa.name, { subject: cert.subject, url: tsa.url }, () => this.stmt.insertTsa.run(tsa.name, tsa.url, Buffer.from(cert.raw), this.core.clock()));
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('name', `approved TSA ${tsa.name}`);
      throw err;
    }
    return this.listTsas().find((t) => t.name === tsa.name)!;
  }

  removeTsa(actor: string, name: string): void {
    if (!this.listTsas().some((t) => t.name === name)) throw notFound('name', `approved TSA ${name}`);
    this.core.mutate(actor, 'tsa.remove', name, undefined, () => this.stmt.removeTsa.run(name));
  }

  listTsas(): ApprovedTsaRecord[] {
    return (this.stmt.tsas.all() as Array<{ name: string; url: string; certificate: Buffer }>).map((r) => ({
      name: r.name,
      url: r.url,
      certificate: new X509Certificate(r.certificate).toString(),
    }));
  }
}
