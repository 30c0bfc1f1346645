import { readFileSync } from 'node:fs';
import type { KeyObject, X509Certificate } from 'node:crypto';
import { certificateFacts, isAuthenticationCertificate, isSigningCertificate } from '../certs/inspect.js';
import { readKeystore } from '../certs/pkcs12.js';
import { ConfigError, type GatewayConfig } from './config.js';

export interface KeyAndChain {
  readonly key: KeyObject;
  readonly cert: X509Certificate;
  readonly chain: readonly X509Certificate[];
}

export interface GatewayKeys {
  readonly auth: KeyAndChain;
  readonly signing: KeyAndChain;
}

/** One keystore (`gateway.yaml`'s `keystores.<role>`): its key and chain; ConfigError naming `field` if unusable. */
export function openKeystore(field: string, store: { file: string; passwordFile: string }): KeyAndChain {
  try {
    const ks = readKeystore(readFileSync(store.file), readFileSync(store.passwordFile, 'utf8').replace(/\r?\n$/, ''));
    if (!ks.privateKey) throw new Error('it holds no private key');
    return { key: ks.privateKey, cert: ks.certificates[0]!, chain: ks.certificates };
  } catch (err) {
    throw new ConfigError(field, (err as Error).message);
  }
}

/** Checks a certificate is fit for its role and names this gateway (for auth its server id, for signing its owner). */
export function checkRoleCertificate(role: 'auth' | 'signing', cert: X509Certificate, ids: { serverId: string; ownerId: string }): void {
  const facts = certificateFacts(cert);
  if (role === 'auth') {
    if (!isAuthenticationCertificate(facts)) throw new ConfigError('keystores.auth', 'the certificate is not an authentication certificate (digitalSignature + TLS client usage)');
    if (facts.subject.serialNumber !== ids.serverId) throw new ConfigError('keystores.auth', `the certificate is issued to ${facts.subject.serialNumber}, not ${ids.serverId}`);
    return;
  }
  if (!isSigningCertificate(facts)) throw new ConfigError('keystores.signing', 'the certificate is not a signing certificate (nonRepudiation only)');
  if (facts.subject.serialNumber !== ids.ownerId) throw new ConfigError('keystores.signing', `the certificate is issued to ${facts.subject.serialNumber}, not ${ids.ownerId}`);
}

/** Checks each certificate is fit for its role and names this gateway (its server id, its owner). */
export function checkGatewayCertificates(auth: X509Certificate, signing: X509Certificate, ids: { serverId: string; ownerId: string }): void {
  checkRoleCertificate('auth', auth, ids);
  checkRoleCertificate('signing', signing, ids);
}

/** Loads both keystores and checks their certificates (checkGatewayCertificates). */
export function loadGatewayKeys(config: GatewayConfig): GatewayKeys {
  const auth = openKeystore('keystores.auth', config.keystores.auth);
  const signing = openKeystore('keystores.signing', config.keystores.signing);
  checkGatewayCertificates(auth.cert, signing.cert, config);
  return { auth, signing };
}
