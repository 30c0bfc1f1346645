import { randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic, writeSecretFile } from '../common/files.js';
import type { Logger } from '../common/log.js';
import { CertificateAuthority } from './ca.js';
import { buildCertificate, randomSerial, selfIssuer, serialHex } from './certificate.js';
import { generateKeyPair, privateKeyFromPem, privateKeyToPem } from './keys.js';
import { pkiLayout, type PkiLayout } from './layout.js';
import { formatName } from './names.js';
import { toPem } from './pem.js';
import { getProfile, ISSUING_CAS, type CaName } from './profiles.js';
import { DEFAULT_SETTINGS, ocspUrlOf, writeSettings, type PkiSettings } from './settings.js';
import { PkiStore } from './store.js';

export interface InitOptions {
  readonly stateDir: string;
  readonly settings?: Partial<PkiSettings>;
  /** Root key passphrase; without one a random passphrase is generated into a 0600 file. */
  readonly rootPassphrase?: string;
  readonly log: Logger;
}

export interface InitResult {
  readonly layout: PkiLayout;
  /** Artefacts created by this run (empty when everything already existed). */
  readonly created: readonly string[];
}

const CA_NAMES: Record<CaName, string> = { 'root-ca': 'CamDX Root CA', 'camdx-ca': 'CamDX CA', 'camdigikey-ca': 'CamDigiKey CA' };

/**
 * Creates whatever part of the CA hierarchy is missing: the offline root (key encrypted at
 * rest), the CamDX and CamDigiKey CAs, one delegated OCSP signer per CA, the TSA, the admin
 * token and the settings file. Running it again changes nothing.
 */
export function initPki(options: InitOptions): InitResult {
  const layout = pkiLayout(options.stateDir);
  const created: string[] = [];
  const settings: PkiSettings = { ...DEFAULT_SETTINGS, ...options.settings };
  if (!existsSync(layout.settings)) {
    writeSettings(layout.settings, settings);
    created.push('settings');
  }
  const store = new PkiStore(layout.database);
  try {
    let rootKey: KeyObject | undefined;
    const loadRootKey = (): KeyObject => (rootKey ??= privateKeyFromPem(readFileSync(layout.rootKey), rootPassphrase(layout, options)));

    if (!existsSync(layout.caCert('root-ca'))) {
      const profile = getProfile('root-ca');
      const { privateKey, publicKey } = generateKeyPair(profile.defaultKeyType);
      const subject = profile.subject({ commonName: CA_NAMES['root-ca'] });
      const serial = randomSerial();
      const der = buildCertificate({ profile, subject, publicKey }, serial, selfIssuer(subject, privateKey));
      writeSecretFile(layout.rootKey, privateKeyToPem(privateKey, rootPassphrase(layout, options)));
      writeFileAtomic(layout.caCert('root-ca'), toPem(der, 'CERTIFICATE'));
      recordCertificate(store, 'root-ca', 'root-ca', der, serialHex(serial), formatName(subject));
      rootKey = privateKey;
      created.push('root-ca');
      options.log.info({ ca: 'root-ca' }, 'created the offline root CA');
    }

    for (const ca of ISSUING_CAS) {
      if (existsSync(layout.caCert(ca))) continue;
      const root = new CertificateAuthority('root-ca', pemFileDer(layout.caCert('root-ca')), loadRootKey());
      const profile = getProfile('intermediate-ca');
      const { privateKey, publicKey } = generateKeyPair(profile.defaultKeyType);
      const issued = root.issue(store, { profile, subject: profile.subject({ commonName: CA_NAMES[ca] }), publicKey }, { commonName: CA_NAMES[ca] });
      writeSecretFile(layout.caKey(ca), privateKeyToPem(privateKey));
      writeFileAtomic(layout.caCert(ca), issued.pem);
      created.push(ca);
      options.log.info({ ca, serial: issued.serial }, 'created an issuing CA');
    }

    for (const ca of ISSUING_CAS) {
      if (existsSync(layout.ocspCert(ca))) continue;
      issueService(store, layout, settings, ca, 'ocsp-signer', `${CA_NAMES[ca]} OCSP Responder`, layout.ocspCert(ca), layout.ocspKey(ca));
      created.push(`${ca} ocsp-signer`);
    }

    if (!existsSync(layout.tsaCert)) {
      issueService(store, layout, settings, 'camdx-ca', 'tsa', 'CamDX Timestamping Authority', layout.tsaCert, layout.tsaKey);
      created.push('tsa');
    }
  } finally {
    store.close();
  }

  if (!existsSync(layout.adminToken)) {
    writeSecretFile(layout.adminToken, `${randomBytes(32).toString('base64url')}\n`);
    created.push('admin-token');
  }
  return { layout, created };
}

/** The root passphrase: given, or read from / generated into the 0600 file beside the root key. */
function rootPassphrase(layout: PkiLayout, options: InitOptions): string {
  if (options.rootPassphrase) return options.rootPassphrase;
  if (existsSync(layout.rootPassphrase)) return readFileSync(layout.rootPassphrase, 'utf8').trim();
  const generated = randomBytes(32).toString('base64url');
  writeSecretFile(layout.rootPassphrase, `${generated}\n`);
  return generated;
}

function issueService(
  store: PkiStore,
  layout: PkiLayout,
  settings: PkiSettings,
  ca: Exclude<CaName, 'root-ca'>,
  profileName: 'ocsp-signer' | 'tsa',
  commonName: string,
  certPath: string,
  keyPath: string,
): void {
  const authority = new CertificateAuthority(ca, pemFileDer(layout.caCert(ca)), privateKeyFromPem(readFileSync(layout.caKey(ca))));
  const profile = getProfile(profileName);
  const { privateKey, publicKey } = generateKeyPair(profile.defaultKeyType);
  const issued = authority.issue(store, { profile, subject: profile.subject({ commonName }), publicKey, ocspUrl: ocspUrlOf(settings) }, { commonName });
  writeSecretFile(keyPath, privateKeyToPem(privateKey));
  writeFileAtomic(certPath, issued.pem);
}

function recordCertificate(store: PkiStore, ca: CaName, profile: 'root-ca', der: Buffer, serial: string, subject: string): void {
  const cert = new X509Certificate(der);
  store.insertCertificate({
    serial,
    ca,
    profile,
    subject,
    identity: { commonName: CA_NAMES[ca] },
    notBefore: Date.parse(cert.validFrom),
    notAfter: Date.parse(cert.validTo),
    issuedAt: Date.now(),
    der,
  });
}

export function pemFileDer(path: string): Buffer {
  return Buffer.from(new X509Certificate(readFileSync(path)).raw);
}
