import { REVOCATION_REASONS, type CertificateRecord, type PkiStore, type RevocationReason } from './store.js';

export type RevocationResult = { readonly outcome: 'revoked'; readonly record: CertificateRecord } | { readonly outcome: 'unknown' | 'already-revoked' | 'ambiguous'; readonly message: string };

export function isRevocationReason(value: string): value is RevocationReason {
  return value in REVOCATION_REASONS;
}

/** Revokes by serial (hex, any case, optional `0x`), from the CLI or the admin API. */
export function revokeBySerial(store: PkiStore, serialText: string, reason: RevocationReason, at = Date.now()): RevocationResult {
  const serial = serialText.replace(/^0x/i, '').replace(/:/g, '').toUpperCase();
  if (!/^[0-9A-F]{1,40}$/.test(serial)) return { outcome: 'unknown', message: `'${serialText}' is not a hexadecimal serial number` };
  const matches = store.findBySerial(serial);
  if (matches.length === 0) return { outcome: 'unknown', message: `no certificate with serial ${serial}` };
  if (matches.length > 1) return { outcome: 'ambiguous', message: `serial ${serial} exists under several CAs` };
  const record = matches[0]!;
  if (record.status === 'revoked') return { outcome: 'already-revoked', message: `certificate ${serial} was revoked at ${new Date(record.revokedAt!).toISOString()}` };
  if (record.ca === 'root-ca') return { outcome: 'unknown', message: 'certificates issued by the offline root cannot be revoked by the online service' };
  store.revoke(record.ca, serial, reason, at);
  return { outcome: 'revoked', record: store.getCertificate(record.ca, serial)! };
}
