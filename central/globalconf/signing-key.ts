import { X509Certificate, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { writeFileAtomic, writeSecretFile } from '../../common/files.js';
import { buildCertificate, randomSerial, selfIssuer } from '../../certs/certificate.js';
import { generateKeyPair, privateKeyFromPem, privateKeyToPem } from '../../certs/keys.js';
import { toPem } from '../../certs/pem.js';
import { getProfile } from '../../certs/profiles.js';
import { formatAnchor, parseAnchor, type ConfigurationAnchor } from '../../protocol/anchor.js';
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
export function buildAnchor(settings: CentralSettings, certificates: readonly X509Certificate[], minVersion?: number): string {
  const anchor: ConfigurationAnchor = {
    format: 'camdx-anchor/1',
    instance: settings.instance,
    generatedAt: new Date().toISOString(),
    centralUrl: settings.publicUrl,
    certificates: certificates.map((c) => c.toString()),
    ...(minVersion ? { minVersion } : {}),
  };
  return formatAnchor(anchor);
}

/** The anchor `text` with its version floor set to `minVersion` (0: none). */
export function withVersionFloor(text: string, minVersion: number): string {
  const { minVersion: _old, ...anchor } = parseAnchor(text).anchor;
  return formatAnchor(minVersion > 0 ? { ...anchor, minVersion } : anchor);
}

/**
 * The last configuration version central signed (0 before the first), read without opening the
 * registry for writing: the floor an anchor handed out now should carry.
 */
export function lastSignedVersion(layout: CentralLayout): number {
  if (!existsSync(layout.database)) return 0;
  const db = new Database(layout.database, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT version FROM conf_state WHERE id = 1').get() as { version: number } | undefined)?.version ?? 0;
  } finally {
    db.close();
  }
}
