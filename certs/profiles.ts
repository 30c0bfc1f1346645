import { isIP } from 'node:net';
import { checkPart, formatMemberId } from '../protocol/identifiers.js';
import type { KeyDescription, KeyType } from './keys.js';
import { bytesToIp, ipToBytes, type KeyUsage } from './extensions.js';
import type { DistinguishedName } from './names.js';
import { OID } from './oids.js';

/**
 * Certificate profiles: what each kind of certificate may carry. The CA issues only through
 * a profile, and the RA checks every CSR against the profile of its enrolment.
 *
 * Authentication (TLS) and signing certificates are kept apart by key usage: auth certs
 * have digitalSignature + TLS client/server EKUs and no nonRepudiation; signing certs have
 * nonRepudiation only. A verifier can therefore refuse either in the other's role.
 */

export type CaName = 'root-ca' | 'camdx-ca' | 'camdigikey-ca';
/** The online CAs; the root is offline. */
export type IssuingCaName = Exclude<CaName, 'root-ca'>;
export const ISSUING_CAS: readonly IssuingCaName[] = ['camdx-ca', 'camdigikey-ca'];

export type ProfileName =
  'root-ca' | 'configuration-signer' | 'intermediate-ca' | 'member-signing' | 'server-auth' | 'ocsp-signer' | 'tsa' | 'camdigikey-tls' | 'camdigikey-token-signer' | 'user' | 'service-account';

/** Who a certificate is for. Which fields a profile needs is in `Profile.identityFields`. */
export interface Identity {
  readonly instance?: string;
  readonly memberClass?: string;
  readonly memberCode?: string;
  readonly memberName?: string;
  readonly serverCode?: string;
  readonly commonName?: string;
  readonly personalCode?: string;
  readonly clientId?: string;
  readonly domain?: string;
  readonly dns?: readonly string[];
  readonly ip?: readonly string[];
}
type TextField = Exclude<keyof Identity, 'dns' | 'ip'>;

export interface Profile {
  readonly name: ProfileName;
  readonly description: string;
  /** Who signs it; `self` for self-signed certificates. */
  readonly issuer: CaName | 'self';
  readonly keyTypes: readonly KeyType[];
  readonly defaultKeyType: KeyType;
  readonly validityDays: number;
  keyUsage(key: KeyDescription): readonly KeyUsage[];
  readonly extKeyUsage?: { readonly purposes: readonly string[]; readonly critical: boolean };
  readonly ca?: { readonly pathLen?: number };
  readonly ocspNoCheck?: boolean;
  /** The identity's DNS names and IP addresses go into subjectAltName. */
  readonly altNames: boolean;
  /** End-entity certificates point at the OCSP responder. */
  readonly ocspUrl: boolean;
  /** May be requested through the RA with an enrolment token. */
  readonly enrollable: boolean;
  readonly identityFields: readonly TextField[];
  subject(id: Identity): DistinguishedName;
}

const COUNTRY = 'KH';
const EC_AND_RSA: readonly KeyType[] = ['P-256', 'P-384', 'RSA-2048', 'RSA-3072', 'RSA-4096'];
/** RSA keys do key transport in TLS 1.2; EC keys never encipher. */
const tlsKeyUsage = (key: KeyDescription): KeyUsage[] => (key.algorithm === 'RSA' ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature']);
const infrastructure = (id: Identity): DistinguishedName => ({ C: COUNTRY, O: 'CamDX', CN: id.commonName! });
const memberSerial = (id: Identity): string => formatMemberId({ instance: id.instance!, memberClass: id.memberClass!, memberCode: id.memberCode! });

const PROFILES: Record<ProfileName, Profile> = {
  'root-ca': {
    name: 'root-ca',
    description: 'offline root CA (self-signed); signs only the intermediate CAs',
    issuer: 'self',
    keyTypes: ['P-384', 'P-256', 'RSA-3072', 'RSA-4096'],
    // Long-lived and verified only when a chain is first built: the stronger curve costs little.
    defaultKeyType: 'P-384',
    validityDays: 7305,
    keyUsage: () => ['keyCertSign', 'cRLSign'],
    ca: {},
    altNames: false,
    ocspUrl: false,
    enrollable: false,
    identityFields: ['commonName'],
    subject: infrastructure,
  },
  'configuration-signer': {
    name: 'configuration-signer',
    description: "the central server's global-configuration signer (self-signed, pinned by the configuration anchor)",
    issuer: 'self',
    // The configuration is a JWS with alg ES256, which means P-256.
    keyTypes: ['P-256'],
    defaultKeyType: 'P-256',
    validityDays: 3652,
    keyUsage: () => ['digitalSignature'],
    altNames: false,
    ocspUrl: false,
    enrollable: false,
    identityFields: ['commonName'],
    subject: infrastructure,
  },
  'intermediate-ca': {
    name: 'intermediate-ca',
    description: 'online issuing CA (CamDX CA, CamDigiKey CA)',
    issuer: 'root-ca',
    keyTypes: ['P-256', 'P-384', 'RSA-2048', 'RSA-3072', 'RSA-4096'],
    // Every leaf check verifies one signature by this key: P-256 keeps that cheap.
    defaultKeyType: 'P-256',
    validityDays: 3652,
    keyUsage: () => ['keyCertSign', 'cRLSign'],
    ca: { pathLen: 0 },
    altNames: false,
    ocspUrl: false,
    enrollable: false,
    identityFields: ['commonName'],
    subject: infrastructure,
  },
  'member-signing': {
    name: 'member-signing',
    description: "a member's message-signing certificate (X-Road sign cert)",
    issuer: 'camdx-ca',
    keyTypes: EC_AND_RSA,
    defaultKeyType: 'P-256',
    validityDays: 730,
    keyUsage: () => ['nonRepudiation'],
    altNames: false,
    ocspUrl: true,
    enrollable: true,
    identityFields: ['instance', 'memberClass', 'memberCode', 'memberName'],
    subject: (id) => ({ C: COUNTRY, O: id.memberName!, serialNumber: memberSerial(id), CN: id.memberCode! }),
  },
  'server-auth': {
    name: 'server-auth',
    description: "a security server's TLS authentication certificate (X-Road auth cert)",
    issuer: 'camdx-ca',
    keyTypes: EC_AND_RSA,
    defaultKeyType: 'P-256',
    validityDays: 730,
    keyUsage: tlsKeyUsage,
    extKeyUsage: { purposes: [OID.serverAuth, OID.clientAuth], critical: false },
    altNames: true,
    ocspUrl: true,
    enrollable: true,
    identityFields: ['instance', 'memberClass', 'memberCode', 'memberName', 'serverCode'],
    subject: (id) => ({ C: COUNTRY, O: id.memberName!, serialNumber: `${memberSerial(id)}/${id.serverCode!}`, CN: id.serverCode! }),
  },
  'ocsp-signer': {
    name: 'ocsp-signer',
    description: "a CA's delegated OCSP responder",
    issuer: 'camdx-ca',
    keyTypes: EC_AND_RSA,
    defaultKeyType: 'P-256',
    validityDays: 365,
    keyUsage: () => ['digitalSignature'],
    extKeyUsage: { purposes: [OID.ocspSigning], critical: false },
    ocspNoCheck: true,
    altNames: false,
    ocspUrl: false,
    enrollable: false,
    identityFields: ['commonName'],
    subject: infrastructure,
  },
  tsa: {
    name: 'tsa',
    description: 'the RFC 3161 timestamping authority',
    issuer: 'camdx-ca',
    keyTypes: EC_AND_RSA,
    defaultKeyType: 'P-256',
    // Tokens must stay verifiable long after they are made.
    validityDays: 1826,
    keyUsage: () => ['digitalSignature', 'nonRepudiation'],
    extKeyUsage: { purposes: [OID.timeStamping], critical: true },
    altNames: false,
    ocspUrl: true,
    enrollable: false,
    identityFields: ['commonName'],
    subject: infrastructure,
  },
  'camdigikey-tls': {
    name: 'camdigikey-tls',
    description: "CamDigiKey's HTTPS server certificate",
    issuer: 'camdigikey-ca',
    keyTypes: EC_AND_RSA,
    defaultKeyType: 'P-256',
    validityDays: 397,
    keyUsage: tlsKeyUsage,
    extKeyUsage: { purposes: [OID.serverAuth], critical: false },
    altNames: true,
    ocspUrl: true,
    enrollable: true,
    identityFields: ['commonName'],
    subject: (id) => ({ C: COUNTRY, O: 'CamDigiKey', CN: id.commonName! }),
  },
  'camdigikey-token-signer': {
    name: 'camdigikey-token-signer',
    description: "CamDigiKey's access-token signer (SHA512withECDSA, so P-521 only)",
    issuer: 'camdigikey-ca',
    keyTypes: ['P-521'],
    defaultKeyType: 'P-521',
    validityDays: 1095,
    keyUsage: () => ['digitalSignature'],
    altNames: false,
    ocspUrl: true,
    enrollable: true,
    identityFields: ['commonName'],
    subject: (id) => ({ C: COUNTRY, O: 'CamDigiKey', CN: id.commonName! }),
  },
  user: {
    name: 'user',
    description: "a citizen's CamDigiKey certificate",
    issuer: 'camdigikey-ca',
    keyTypes: EC_AND_RSA,
    defaultKeyType: 'P-256',
    validityDays: 730,
    keyUsage: () => ['digitalSignature', 'nonRepudiation'],
    extKeyUsage: { purposes: [OID.clientAuth, OID.emailProtection], critical: false },
    altNames: false,
    ocspUrl: true,
    enrollable: true,
    identityFields: ['personalCode', 'commonName'],
    subject: (id) => ({ C: COUNTRY, serialNumber: id.personalCode!, CN: id.commonName! }),
  },
  'service-account': {
    name: 'service-account',
    description: "a relying party's CamDigiKey service-account TLS client certificate",
    issuer: 'camdigikey-ca',
    keyTypes: EC_AND_RSA,
    defaultKeyType: 'P-256',
    validityDays: 730,
    keyUsage: tlsKeyUsage,
    extKeyUsage: { purposes: [OID.clientAuth], critical: false },
    altNames: false,
    ocspUrl: true,
    enrollable: true,
    identityFields: ['clientId', 'domain'],
    subject: (id) => ({ C: COUNTRY, O: id.domain!, CN: id.clientId! }),
  },
};

export const PROFILE_NAMES = Object.keys(PROFILES) as ProfileName[];

export function isProfileName(name: string): name is ProfileName {
  return name in PROFILES;
}

export function getProfile(name: ProfileName): Profile {
  return PROFILES[name];
}

const X_ROAD_FIELDS: ReadonlySet<TextField> = new Set(['instance', 'memberClass', 'memberCode', 'serverCode']);
const MAX_TEXT = 128;
const DNS_NAME = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * The subject alternative names of a server-auth certificate for a security server reached at
 * `address` (`host:port`, IPv6 in brackets): the host, as an IP address or a DNS name. Central
 * enrols with these, so a renewal must request the same.
 */
export function serverAuthSans(address: string): { dns: string[]; ip: string[] } {
  const host = address.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return /^[0-9.]+$/.test(host) || host.includes(':') ? { dns: [], ip: [host] } : { dns: [host], ip: [] };
}

/**
 * Checks an identity for a profile before an enrolment token is issued for it, and returns
 * it reduced to the profile's fields. Throws an Error that names the field and the rule.
 */
export function checkIdentity(profile: Profile, identity: Identity): Identity {
  const out: Record<string, unknown> = {};
  for (const field of profile.identityFields) {
    const value = identity[field];
    if (X_ROAD_FIELDS.has(field)) {
      out[field] = checkPart(value, field);
      continue;
    }
    if (typeof value !== 'string' || value.trim() === '') throw new Error(`${field} is required for profile ${profile.name}`);
    if (value.length > MAX_TEXT) throw new Error(`${field} is longer than ${MAX_TEXT} characters`);
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(value) || value !== value.trim()) {
      throw new Error(`${field} has control characters or surrounding spaces`);
    }
    out[field] = value;
  }
  if (profile.altNames) {
    const dns = identity.dns ?? [];
    const ip = identity.ip ?? [];
    for (const name of dns) if (!DNS_NAME.test(name)) throw new Error(`dns name '${name}' is not a valid host name`);
    for (const addr of ip) if (isIP(addr) === 0) throw new Error(`ip '${addr}' is not an IP address`);
    out.dns = [...dns];
    out.ip = ip.map((addr) => bytesToIp(ipToBytes(addr)));
  } else if ((identity.dns?.length ?? 0) + (identity.ip?.length ?? 0) > 0) {
    throw new Error(`profile ${profile.name} carries no subject alternative names`);
  }
  return out as Identity;
}
