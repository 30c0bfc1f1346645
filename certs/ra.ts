import { createHash, randomBytes } from 'node:crypto';
import type { CertificateAuthority, IssuedCertificate } from './ca.js';
import { CsrFormatError, parseCsr, type ParsedCsr } from './csr.js';
import { formatName, nameDifferences, sameName } from './names.js';
import { checkIdentity, getProfile, isProfileName, type Identity, type IssuingCaName, type Profile, type ProfileName } from './profiles.js';
import type { PkiStore } from './store.js';

/** The rules a certificate request can fail, each with a stable name. */
export const RA_RULES = {
  'token.missing': 'an enrolment token is required',
  'token.unknown': 'the enrolment token is not one this RA issued',
  'token.used': 'the enrolment token has already been used',
  'token.expired': 'the enrolment token has expired',
  'csr.malformed': 'the request is not a well-formed PKCS#10 CSR',
  'csr.too-large': 'the request is larger than the RA accepts',
  'csr.signature': "the CSR's self-signature does not verify with its own public key",
  'csr.attributes': 'the CSR carries attributes other than an extension request',
  'key.type': 'the key algorithm is not allowed for this profile',
  'key.rsa-size': 'RSA keys must be at least 2048 bits',
  'key.curve': 'the elliptic curve is not allowed for this profile',
  'subject.mismatch': 'the subject must equal the enrolled identity',
  'extension.unexpected': 'the CSR asks for an extension this profile does not issue',
  'extension.basic-constraints': 'end-entity certificates cannot be CAs',
  'extension.key-usage': 'the requested key usage is outside the profile',
  'extension.ext-key-usage': 'the requested extended key usage is outside the profile',
  'extension.san': 'the requested subject alternative names are not all enrolled',
} as const;
export type RaRule = keyof typeof RA_RULES;

export class RaRejection extends Error {
  constructor(
    readonly rule: RaRule,
    detail?: string,
  ) {
    super(detail ? `${RA_RULES[rule]}: ${detail}` : RA_RULES[rule]);
    this.name = 'RaRejection';
  }
}

export interface Enrolment {
  readonly token: string;
  readonly profile: ProfileName;
  readonly identity: Identity;
  readonly expiresAt: Date;
}

export const DEFAULT_ENROLMENT_TTL_SECONDS = 7 * 24 * 3600;
export const MAX_CSR_BYTES = 64 * 1024;

const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

/**
 * The registration authority: an administrator enrols an identity for a profile and gets a
 * one-time token; whoever holds the token submits a CSR, which must match the enrolment
 * exactly before the CA signs it. Only the token's hash is stored. A refused request
 * changes nothing — the token stays usable and no certificate is recorded.
 */
export class RegistrationAuthority {
  constructor(
    private readonly store: PkiStore,
    private readonly cas: ReadonlyMap<IssuingCaName, CertificateAuthority>,
    private readonly ocspUrl: string,
    private readonly clock: () => number = Date.now,
  ) {}

  enrol(profileName: string, identity: Identity, ttlSeconds = DEFAULT_ENROLMENT_TTL_SECONDS): Enrolment {
    if (!isProfileName(profileName)) throw new Error(`unknown profile '${profileName}'`);
    const profile = getProfile(profileName);
    if (!profile.enrollable) throw new Error(`profile ${profileName} is issued by 'camdx pki init' only, not through enrolment`);
    if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) throw new Error('ttlSeconds must be a positive whole number');
    const checked = checkIdentity(profile, identity);
    const token = randomBytes(32).toString('base64url');
    const now = this.clock();
    const expiresAt = now + ttlSeconds * 1000;
    this.store.insertEnrolment(hashToken(token), profileName, checked, now, expiresAt);
    return { token, profile: profileName, identity: checked, expiresAt: new Date(expiresAt) };
  }

  submit(csrBytes: Uint8Array, token: string | undefined): IssuedCertificate & { profile: ProfileName } {
    if (!token) throw new RaRejection('token.missing');
    if (csrBytes.byteLength > MAX_CSR_BYTES) throw new RaRejection('csr.too-large', `${csrBytes.byteLength} bytes, limit ${MAX_CSR_BYTES}`);
    const enrolment = this.store.getEnrolment(hashToken(token));
    if (!enrolment) throw new RaRejection('token.unknown');
    if (enrolment.usedAt !== null) throw new RaRejection('token.used', `used at ${new Date(enrolment.usedAt).toISOString()}`);
    if (enrolment.expiresAt <= this.clock()) throw new RaRejection('token.expired', `expired at ${new Date(enrolment.expiresAt).toISOString()}`);

    let csr: ParsedCsr;
    try {
      csr = parseCsr(csrBytes);
    } catch (err) {
      if (err instanceof CsrFormatError) throw new RaRejection('csr.malformed', err.message);
      throw err;
    }
    const profile = getProfile(enrolment.profile);
    checkCsr(csr, profile, enrolment.identity);

    const ca = this.cas.get(profile.issuer as IssuingCaName);
    if (!ca) throw new Error(`no online CA ${profile.issuer} for profile ${profile.name}`);
    const now = this.clock();
    return this.store.transaction(() => {
      const issued = ca.issue(
        this.store,
        {
          profile,
          subject: profile.subject(enrolment.identity),
          publicKey: csr.publicKey,
          altNames: { dns: enrolment.identity.dns ?? [], ip: enrolment.identity.ip ?? [] },
          ocspUrl: this.ocspUrl,
          now: new Date(now),
        },
        enrolment.identity,
      );
      // A concurrent request may have consumed the token since the check above: roll back.
      if (!this.store.useEnrolment(enrolment.tokenHash, issued.serial, now)) throw new RaRejection('token.used');
      return { ...issued, profile: profile.name };
    });
  }
}

/** The profile template check; throws the first rule the CSR breaks. */
export function checkCsr(csr: ParsedCsr, profile: Profile, identity: Identity): void {
  if (!csr.signatureAlgorithmKnown || !csr.signatureValid) {
    throw new RaRejection('csr.signature', csr.signatureAlgorithmKnown ? undefined : `unsupported algorithm ${csr.signatureAlgorithm}`);
  }
  if (csr.otherAttributes.length > 0) throw new RaRejection('csr.attributes', csr.otherAttributes.join(', '));

  const { key } = csr;
  const allowed = profile.keyTypes;
  if (key.algorithm === 'RSA') {
    if (!allowed.some((t) => t.startsWith('RSA-'))) throw new RaRejection('key.type', `profile ${profile.name} takes ${allowed.join(', ')}; got ${key.label}`);
    if (key.bits < 2048) throw new RaRejection('key.rsa-size', `got ${key.bits} bits`);
  } else if (key.algorithm === 'EC') {
    if (!(allowed as readonly string[]).includes(key.label)) {
      throw new RaRejection('key.curve', `profile ${profile.name} takes ${allowed.filter((t) => t.startsWith('P-')).join(', ') || 'no EC keys'}; got ${key.label}`);
    }
  } else {
    throw new RaRejection('key.type', `profile ${profile.name} takes ${allowed.join(', ')}; got ${key.label}`);
  }

  const expected = profile.subject(identity);
  if (csr.subject.unexpected.length > 0) {
    throw new RaRejection('subject.mismatch', `unexpected attributes ${csr.subject.unexpected.join(', ')}; expected ${formatName(expected)}`);
  }
  if (!sameName(csr.subject.name, expected)) throw new RaRejection('subject.mismatch', nameDifferences(csr.subject.name, expected).join('; '));

  const ext = csr.extensions;
  if (ext.unexpected.length > 0) throw new RaRejection('extension.unexpected', ext.unexpected.join(', '));
  if (ext.basicConstraints?.cA) throw new RaRejection('extension.basic-constraints', 'the CSR asks for CA:TRUE');
  if (ext.keyUsage) {
    const permitted = profile.keyUsage(key);
    const extra = ext.keyUsage.filter((u) => !permitted.includes(u));
    if (extra.length > 0) throw new RaRejection('extension.key-usage', `${extra.join(', ')} not in ${permitted.join(', ')}`);
  }
  if (ext.extKeyUsage) {
    const permitted = profile.extKeyUsage?.purposes ?? [];
    const extra = ext.extKeyUsage.filter((p) => !permitted.includes(p));
    if (extra.length > 0) throw new RaRejection('extension.ext-key-usage', `${extra.join(', ')} not permitted`);
  }
  if (ext.altNames) {
    const enrolledDns = profile.altNames ? (identity.dns ?? []) : [];
    const enrolledIp = profile.altNames ? (identity.ip ?? []) : [];
    const extra = [
      ...ext.altNames.dns.filter((d) => !enrolledDns.some((e) => e.toLowerCase() === d.toLowerCase())).map((d) => `DNS:${d}`),
      ...ext.altNames.ip.filter((i) => !enrolledIp.includes(i)).map((i) => `IP:${i}`),
      ...ext.altNames.other,
    ];
    if (extra.length > 0) throw new RaRejection('extension.san', `${extra.join(', ')} not enrolled`);
  }
}
