import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import * as asn1js from 'asn1js';
import ipaddr from 'ipaddr.js';
import * as pkijs from 'pkijs';
import { bitPositions, bytesOf, namedBitString } from './der.js';
import { OID } from './oids.js';

/** RFC 5280 key usage bits, by position. */
export const KEY_USAGE_BITS = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly'] as const;
export type KeyUsage = (typeof KEY_USAGE_BITS)[number];

/** Subject alternative names we issue: DNS names and IP addresses. */
export interface AltNames {
  readonly dns: readonly string[];
  readonly ip: readonly string[];
}

function extension(extnID: string, critical: boolean, value: asn1js.BaseBlock): pkijs.Extension {
  return new pkijs.Extension({ extnID, critical, extnValue: value.toBER(false) });
}

export function keyUsageExtension(usages: readonly KeyUsage[]): pkijs.Extension {
  return extension(OID.keyUsage, true, namedBitString(usages.map((u) => KEY_USAGE_BITS.indexOf(u))));
}

export function extKeyUsageExtension(purposes: readonly string[], critical: boolean): pkijs.Extension {
  return extension(OID.extKeyUsage, critical, new pkijs.ExtKeyUsage({ keyPurposes: [...purposes] }).toSchema());
}

export function basicConstraintsExtension(cA: boolean, pathLenConstraint?: number): pkijs.Extension {
  const bc = new pkijs.BasicConstraints(pathLenConstraint === undefined ? { cA } : { cA, pathLenConstraint });
  return extension(OID.basicConstraints, true, bc.toSchema());
}

/** RFC 5280 method 1: SHA-1 of the subjectPublicKey BIT STRING contents. */
export function keyIdentifier(spki: pkijs.PublicKeyInfo): Buffer {
  return createHash('sha1').update(Buffer.from(spki.subjectPublicKey.valueBlock.valueHexView)).digest();
}

export function subjectKeyIdentifierExtension(keyId: Uint8Array): pkijs.Extension {
  return extension(OID.subjectKeyIdentifier, false, new asn1js.OctetString({ valueHex: keyId }));
}

export function authorityKeyIdentifierExtension(keyId: Uint8Array): pkijs.Extension {
  const aki = new pkijs.AuthorityKeyIdentifier({ keyIdentifier: new asn1js.OctetString({ valueHex: keyId }) });
  return extension(OID.authorityKeyIdentifier, false, aki.toSchema());
}

export function ocspAccessExtension(url: string): pkijs.Extension {
  const aia = new pkijs.InfoAccess({
    accessDescriptions: [new pkijs.AccessDescription({ accessMethod: OID.accessOcsp, accessLocation: new pkijs.GeneralName({ type: 6, value: url }) })],
  });
  return extension(OID.authorityInfoAccess, false, aia.toSchema());
}

/** RFC 6960 id-pkix-ocsp-nocheck: a delegated responder's own status is not checked. */
export function ocspNoCheckExtension(): pkijs.Extension {
  return extension(OID.ocspNoCheck, false, new asn1js.Null());
}

export function subjectAltNameExtension(names: AltNames): pkijs.Extension {
  const altNames = [
    ...names.dns.map((value) => new pkijs.GeneralName({ type: 2, value })),
    ...names.ip.map((ip) => new pkijs.GeneralName({ type: 7, value: new asn1js.OctetString({ valueHex: ipToBytes(ip) }) })),
  ];
  return extension(OID.subjectAltName, false, new pkijs.AltName({ altNames }).toSchema());
}

/**
 * The iPAddress GeneralName octets (RFC 5280 §4.2.1.6: 4 bytes, or 16 for IPv6) for an address
 * in standard text form. node:net decides what is an address (no legacy `0x7f.1` or `010.0.0.1`
 * forms, which ipaddr.js would take); zone ids (`%eth0`) have no place in a certificate.
 */
export function ipToBytes(ip: string): Uint8Array {
  if (isIP(ip) === 0 || ip.includes('%')) throw new Error(`'${ip}' is not an IP address`);
  return Uint8Array.from(ipaddr.parse(ip).toByteArray());
}

/**
 * An iPAddress's octets as text: dotted IPv4, or IPv6 in RFC 5952's canonical form (lower case,
 * longest zero run compressed) with an IPv4-mapped address in mixed notation (§5), as
 * `::ffff:127.0.0.1` — what openssl prints and people write.
 */
export function bytesToIp(bytes: Uint8Array): string {
  if (bytes.length !== 4 && bytes.length !== 16) return `invalid(${Buffer.from(bytes).toString('hex')})`;
  const address = ipaddr.fromByteArray(Array.from(bytes));
  if (address instanceof ipaddr.IPv4) return address.toString();
  return address.isIPv4MappedAddress() ? `::ffff:${address.toIPv4Address().toString()}` : address.toRFC5952String();
}

/** What a certificate or CSR asks for, decoded from its extensions. */
export interface DecodedExtensions {
  readonly keyUsage?: readonly KeyUsage[];
  readonly extKeyUsage?: readonly string[];
  readonly basicConstraints?: { readonly cA: boolean; readonly pathLen?: number };
  readonly altNames?: AltNames & { readonly other: readonly string[] };
  /** OIDs outside the set above (subject key identifier excepted). */
  readonly unexpected: readonly string[];
}

export function decodeExtensions(extensions: readonly pkijs.Extension[]): DecodedExtensions {
  const out: {
    keyUsage?: KeyUsage[];
    extKeyUsage?: string[];
    basicConstraints?: { cA: boolean; pathLen?: number };
    altNames?: { dns: string[]; ip: string[]; other: string[] };
    unexpected: string[];
  } = { unexpected: [] };
  for (const ext of extensions) {
    const value = ext.extnValue.valueBlock.valueHexView;
    switch (ext.extnID) {
      case OID.keyUsage: {
        const bits = bitPositions(asn1js.fromBER(value).result as asn1js.BitString);
        out.keyUsage = KEY_USAGE_BITS.filter((_, i) => bits.includes(i));
        break;
      }
      case OID.extKeyUsage:
        out.extKeyUsage = pkijs.ExtKeyUsage.fromBER(bytesOf(value)).keyPurposes;
        break;
      case OID.basicConstraints: {
        const bc = pkijs.BasicConstraints.fromBER(bytesOf(value));
        const pathLen = bc.pathLenConstraint;
        out.basicConstraints = {
          cA: bc.cA,
          ...(pathLen === undefined ? {} : { pathLen: typeof pathLen === 'number' ? pathLen : pathLen.valueBlock.valueDec }),
        };
        break;
      }
      case OID.subjectAltName: {
        const alt = { dns: [] as string[], ip: [] as string[], other: [] as string[] };
        for (const gn of pkijs.AltName.fromBER(bytesOf(value)).altNames) {
          if (gn.type === 2) alt.dns.push(String(gn.value));
          else if (gn.type === 7) alt.ip.push(bytesToIp((gn.value as asn1js.OctetString).valueBlock.valueHexView));
          else alt.other.push(`GeneralName type ${gn.type}`);
        }
        out.altNames = alt;
        break;
      }
      case OID.subjectKeyIdentifier:
        break;
      default:
        out.unexpected.push(ext.extnID);
    }
  }
  return out;
}
