import { randomBytes, type KeyObject, type X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeSecretFile } from '../../common/files.js';
import { certificatesFromPem } from '../../certs/pem.js';
import { createKeystore, readKeystore } from '../../certs/pkcs12.js';

/**
 * A gateway keeps each key in a PKCS#12 keystore beside a password file (`<file>.password`,
 * mode 0600), as its configuration names them.
 */
export function writeKeystoreFile(file: string, privateKey: KeyObject, chainPem: readonly string[]): void {
  const { password, der } = newKeystore(file, privateKey, chainPem);
  writeSecretFile(`${file}.password`, password);
  writeSecretFile(file, der);
}

/** A PKCS#12 keystore of the key and its chain under a fresh random password (file contents: `password` ends in a newline). */
export function newKeystore(file: string, privateKey: KeyObject, chainPem: readonly string[]): { password: string; der: Buffer } {
  const password = randomBytes(18).toString('base64url');
  const certificates = chainPem.flatMap((pem) => certificatesFromPem(pem));
  if (certificates.length === 0) throw new Error(`no certificate for ${file}`);
  return { password: `${password}\n`, der: createKeystore({ privateKey, certificates, password }) };
}

export function readKeystoreFile(file: string): { key: KeyObject; cert: X509Certificate } {
  const ks = readKeystore(readFileSync(file), readFileSync(`${file}.password`, 'utf8').trim());
  if (!ks.privateKey || !ks.certificates[0]) throw new Error(`${file} holds no key and certificate`);
  return { key: ks.privateKey, cert: ks.certificates[0] };
}
