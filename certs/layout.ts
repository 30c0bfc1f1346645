import { join } from 'node:path';
import type { CaName } from './profiles.js';

/**
 * Where the PKI keeps its files under the state directory. `offline/` holds the root CA's
 * encrypted key and is read only by `camdx pki init`; the running service never opens it.
 */
export interface PkiLayout {
  readonly dir: string;
  readonly offlineDir: string;
  readonly rootKey: string;
  readonly rootPassphrase: string;
  readonly database: string;
  readonly adminToken: string;
  readonly settings: string;
  caCert(ca: CaName): string;
  caKey(ca: Exclude<CaName, 'root-ca'>): string;
  ocspCert(ca: CaName): string;
  ocspKey(ca: CaName): string;
  readonly tsaCert: string;
  readonly tsaKey: string;
}

export function pkiLayout(stateDir: string): PkiLayout {
  const dir = join(stateDir, 'pki');
  const offlineDir = join(dir, 'offline');
  return {
    dir,
    offlineDir,
    rootKey: join(offlineDir, 'root-ca.key.pem'),
    rootPassphrase: join(offlineDir, 'root-ca.passphrase'),
    database: join(dir, 'pki.db'),
    adminToken: join(dir, 'admin-token'),
    settings: join(dir, 'settings.json'),
    caCert: (ca) => join(dir, 'ca', `${ca}.pem`),
    caKey: (ca) => join(dir, 'ca', `${ca}.key.pem`),
    ocspCert: (ca) => join(dir, 'ocsp', `${ca}-ocsp.pem`),
    ocspKey: (ca) => join(dir, 'ocsp', `${ca}-ocsp.key.pem`),
    tsaCert: join(dir, 'tsa', 'tsa.pem'),
    tsaKey: join(dir, 'tsa', 'tsa.key.pem'),
  };
}
