import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, writeSecretFile } from '../common/files.js';
import { buildCertificate, randomSerial, selfIssuer } from '../certs/certificate.js';
import { generateKeyPair, privateKeyToPem } from '../certs/keys.js';
import { toPem } from '../certs/pem.js';
import { getProfile } from '../certs/profiles.js';

/**
 * The consumer port's own TLS certificate (X-Road's "internal TLS certificate"): self-signed,
 * made on first start; information systems that connect over HTTPS pin it.
 */
export function internalTls(stateDir: string, serverId: string): { key: string; cert: string; certificate: X509Certificate } {
  const keyFile = join(stateDir, 'internal-tls', 'key.pem');
  const certFile = join(stateDir, 'internal-tls', 'cert.pem');
  if (!existsSync(keyFile)) {
    const profile = getProfile('camdigikey-tls');
    const { privateKey, publicKey } = generateKeyPair('P-256');
    const subject = { C: 'KH', O: 'CamDX', CN: `${serverId} internal TLS` };
    const der = buildCertificate({ profile, subject, publicKey, altNames: { dns: ['localhost'], ip: ['127.0.0.1'] } }, randomSerial(), selfIssuer(subject, privateKey));
    writeSecretFile(keyFile, privateKeyToPem(privateKey));
    writeFileAtomic(certFile, toPem(der, 'CERTIFICATE'));
  }
  const cert = readFileSync(certFile, 'utf8');
  return { key: readFileSync(keyFile, 'utf8'), cert, certificate: new X509Certificate(cert) };
}
