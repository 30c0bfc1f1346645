import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { OID } from './oids.js';

/** The subject attributes our profiles use, in the order they are encoded. */
export interface DistinguishedName {
  readonly C?: string;
  readonly O?: string;
  readonly OU?: string;
  readonly serialNumber?: string;
  readonly CN?: string;
}
type NameKey = keyof DistinguishedName;

const ATTRIBUTES: ReadonlyArray<{ key: NameKey; oid: string; printable: boolean }> = [
  { key: 'C', oid: OID.countryName, printable: true },
  { key: 'O', oid: OID.organizationName, printable: false },
  { key: 'OU', oid: OID.organizationalUnitName, printable: false },
  // X.520 makes serialNumber a PrintableString; X-Road identifiers only use its characters.
  { key: 'serialNumber', oid: OID.serialNumber, printable: true },
  { key: 'CN', oid: OID.commonName, printable: false },
];

/**
 * One attribute per RDN, as X.509 names are conventionally written (pkijs would otherwise
 * put every attribute into a single multi-valued RDN: `C=KH + O=… + CN=…`).
 */
export function buildName(name: DistinguishedName): pkijs.RelativeDistinguishedNames {
  const rdns = ATTRIBUTES.filter((a) => name[a.key] !== undefined).map((a) => {
    const value = a.printable ? new asn1js.PrintableString({ value: name[a.key]! }) : new asn1js.Utf8String({ value: name[a.key]! });
    return new asn1js.Set({ value: [new pkijs.AttributeTypeAndValue({ type: a.oid, value }).toSchema()] });
  });
  return pkijs.RelativeDistinguishedNames.fromBER(new asn1js.Sequence({ value: rdns }).toBER(false));
}

export interface ParsedName {
  readonly name: DistinguishedName;
  /** OIDs of attributes outside our vocabulary, and attributes given more than once. */
  readonly unexpected: readonly string[];
}

export function parseName(rdns: pkijs.RelativeDistinguishedNames): ParsedName {
  const name: Record<string, string> = {};
  const unexpected: string[] = [];
  for (const tv of rdns.typesAndValues) {
    const attr = ATTRIBUTES.find((a) => a.oid === tv.type);
    const value = (tv.value as { valueBlock?: { value?: unknown } }).valueBlock?.value;
    if (!attr || typeof value !== 'string') {
      unexpected.push(String(tv.type));
    } else if (attr.key in name) {
      unexpected.push(`${attr.key} (repeated)`);
    } else {
      name[attr.key] = value;
    }
  }
  return { name, unexpected };
}

export function formatName(name: DistinguishedName): string {
  return ATTRIBUTES.filter((a) => name[a.key] !== undefined)
    .map((a) => `${a.key}=${name[a.key]}`)
    .join(', ');
}

export function sameName(a: DistinguishedName, b: DistinguishedName): boolean {
  return ATTRIBUTES.every((attr) => a[attr.key] === b[attr.key]);
}

/** Lists the attributes where `actual` differs from `expected`, for an error message. */
export function nameDifferences(actual: DistinguishedName, expected: DistinguishedName): string[] {
  return ATTRIBUTES.filter((a) => actual[a.key] !== expected[a.key]).map(
    (a) => `${a.key} is ${actual[a.key] === undefined ? 'missing' : `'${actual[a.key]}'`}, expected ${expected[a.key] === undefined ? 'none' : `'${expected[a.key]}'`}`,
  );
}
