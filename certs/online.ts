import { X509Certificate, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { CertificateAuthority } from './ca.js';
import { pemFileDer } from './hierarchy.js';
import { privateKeyFromPem } from './keys.js';
import { pkiLayout, type PkiLayout } from './layout.js';
import { ISSUING_CAS, type IssuingCaName } from './profiles.js';
import { readSettings, type PkiSettings } from './settings.js';
import { PkiStore } from './store.js';

/** A certificate with the key that signs as it (OCSP responder, TSA). */
export interface SigningIdentity {
  readonly cert: X509Certificate;
  readonly der: Buffer;
  readonly key: KeyObject;
}

/**
 * Everything the running PKI service holds: the issuing CAs, their OCSP signers, the TSA,
 * the register. Loading it never touches the offline root key.
 */
export interface OnlinePki {
  readonly layout: PkiLayout;
  readonly settings: PkiSettings;
  readonly store: PkiStore;
  readonly root: X509Certificate;
  readonly cas: ReadonlyMap<IssuingCaName, CertificateAuthority>;
  readonly ocspSigners: ReadonlyMap<IssuingCaName, SigningIdentity>;
  readonly tsa: SigningIdentity;
  readonly adminToken: string;
  close(): void;
}

function signingIdentity(certPath: string, keyPath: string): SigningIdentity {
  const der = pemFileDer(certPath);
  return { cert: new X509Certificate(der), der, key: privateKeyFromPem(readFileSync(keyPath)) };
}

export function loadOnlinePki(stateDir: string): OnlinePki {
  const layout = pkiLayout(stateDir);
  if (!existsSync(layout.settings) || !existsSync(layout.caCert('camdx-ca'))) {
    throw new Error(`no PKI under ${layout.dir}: run 'camdx pki init' first`);
  }
  const cas = new Map<IssuingCaName, CertificateAuthority>();
  const ocspSigners = new Map<IssuingCaName, SigningIdentity>();
  for (const ca of ISSUING_CAS) {
    cas.set(ca, new CertificateAuthority(ca, pemFileDer(layout.caCert(ca)), privateKeyFromPem(readFileSync(layout.caKey(ca)))));
    ocspSigners.set(ca, signingIdentity(layout.ocspCert(ca), layout.ocspKey(ca)));
  }
  const store = new PkiStore(layout.database);
  return {
    layout,
    settings: readSettings(layout.settings),
    store,
    root: new X509Certificate(readFileSync(layout.caCert('root-ca'))),
    cas,
    ocspSigners,
    tsa: signingIdentity(layout.tsaCert, layout.tsaKey),
    adminToken: readFileSync(layout.adminToken, 'utf8').trim(),
    close: () => store.close(),
  };
}
