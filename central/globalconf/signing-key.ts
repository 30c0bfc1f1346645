import { X509Certificate, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic, writeSecretFile } from '../../common/files.js';
import { buildCertificate, randomSerial, selfIssuer } from '../../certs/certificate.js';
import { generateKeyPair, privateKeyFromPem, privateKeyToPem } from '../../certs/keys.js';
import { toPem } from '../../certs/pem.js';
import { getProfile } from '../../certs/profiles.js';
import { formatAnchor, type ConfigurationAnchor } from '../../protocol/anchor.js';
import type { CentralLayout, CentralSettings } from '../settings.js';

export interface SigningKey {
  readonly key: KeyObject;
  readonly cert: X509Certificate;
}

/** Creates a new self-signed configuration-signing key and certificate, replacing any present. */
export function createSigningKey(layout: CentralLayout): SigningKey {
  const profile = getProfile('configuration-signer');
  const { privateKey, publicKey } = generateKeyPair(profile.defaultKeyType);
  const subject = profile.subject({ commonName: `CamDX Configuration Signer ${new Date().toISOString().slice(0, 10)}` });
  const der = buildCertificate({ profile, subject, publicKey }, randomSerial(), selfIssuer(subject, privateKey));
  writeSecretFile(layout.signingKey, privateKeyToPem(privateKey));
  writeFileAtomic(layout.signingCert, toPem(der, 'CERTIFICATE'));
  return { key: privateKey, cert: new X509Certificate(der) };
}

export function loadSigningKey(layout: CentralLayout): SigningKey {
  if (!existsSync(layout.signingKey)) throw new Error(`no configuration signing key at ${layout.signingKey}: run 'camdx central init'`);
  return { key: privateKeyFromPem(readFileSync(layout.signingKey)), cert: new X509Certificate(readFileSync(layout.signingCert)) };
}

/** The anchor gateways install to trust this central server's configuration. */
export function buildAnchor(settings: CentralSettings, certificates: readonly X509Certificate[]): string {
  const anchor: ConfigurationAnchor = {
    format: 'camdx-anchor/1',
    instance: settings.instance,
    generatedAt: new Date().toISOString(),
    centralUrl: settings.publicUrl,
    certificates: certificates.map((c) => c.toString()),
  };
  return formatAnchor(anchor);
}
