import { CamdxError } from './errors.js';

/**
 * X-Road identifiers (instance / member class / member code / subsystem / service or server
 * code). Every part is checked against X-Road's character rule and rejected, never trimmed
 * or repaired: a caller that sends `GOV/MOI ` has a bug worth hearing about.
 */

/** X-Road allows letters, digits and `' ( ) + , - . = ?` in identifier parts. */
const PART = /^[A-Za-z0-9'()+,\-.=?]+$/;
const MAX_PART_LENGTH = 255;

export interface MemberId {
  readonly instance: string;
  readonly memberClass: string;
  readonly memberCode: string;
}
export interface SubsystemId extends MemberId {
  readonly subsystemCode: string;
}
export interface ServiceId extends SubsystemId {
  readonly serviceCode: string;
}
/** A provider subsystem's local group (X-Road LOCALGROUP): the subsystem and the group's code. */
export interface LocalGroupId extends SubsystemId {
  readonly groupCode: string;
}
export interface SecurityServerId extends MemberId {
  readonly serverCode: string;
}

/** Thrown for a malformed identifier; `field` names what was being parsed, `rule` what failed. */
export class IdentifierError extends CamdxError<'Identifier'> {
  declare readonly field: string;

  constructor(
    field: string,
    readonly rule: string,
    message: string,
  ) {
    super('Identifier', message, { field });
  }
}

/** Describes the first offending character so a person can find it (it may be invisible). */
function describeBadCharacter(value: string): string {
  for (const ch of value) {
    if (!PART.test(ch)) {
      const code = ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
      const shown = code < '0020' || code === '007F' ? '' : ` '${ch}'`;
      return `character U+${code}${shown}`;
    }
  }
  return 'an invalid character';
}

/** Checks one identifier part; returns it unchanged. */
export function checkPart(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new IdentifierError(field, 'required', `${field} is missing or empty`);
  }
  if (value.length > MAX_PART_LENGTH) {
    throw new IdentifierError(field, 'length', `${field} is longer than ${MAX_PART_LENGTH} characters`);
  }
  if (!PART.test(value)) {
    throw new IdentifierError(field, 'characters', `${field} contains ${describeBadCharacter(value)}; allowed are A-Z a-z 0-9 and ' ( ) + , - . = ?`);
  }
  return value;
}

function splitParts(text: unknown, count: number, field: string, shape: string): string[] {
  if (typeof text !== 'string' || text.length === 0) {
    throw new IdentifierError(field, 'required', `${field} is missing; expected ${shape}`);
  }
  const parts = text.split('/');
  if (parts.length !== count) {
    throw new IdentifierError(field, 'shape', `${field} '${printable(text)}' has ${parts.length} parts; expected ${shape}`);
  }
  return parts;
}

/** Renders untrusted text for an error message: control characters escaped, length capped. */
export function printable(text: string, max = 120): string {
  const escaped = JSON.stringify(text).slice(1, -1);
  return escaped.length > max ? `${escaped.slice(0, max)}…` : escaped;
}

const MEMBER_SHAPE = 'INSTANCE/CLASS/CODE';
const SUBSYSTEM_SHAPE = 'INSTANCE/CLASS/CODE/SUBSYSTEM';
const SERVICE_SHAPE = 'INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE';
const SERVER_SHAPE = 'INSTANCE/CLASS/CODE/SERVERCODE';

export function memberId(instance: string, memberClass: string, memberCode: string, field = 'member'): MemberId {
  return {
    instance: checkPart(instance, `${field} instance`),
    memberClass: checkPart(memberClass, `${field} class`),
    memberCode: checkPart(memberCode, `${field} code`),
  };
}

export function parseMemberId(text: unknown, field = 'member'): MemberId {
  const [i, c, m] = splitParts(text, 3, field, MEMBER_SHAPE);
  return memberId(i!, c!, m!, field);
}

export function parseSubsystemId(text: unknown, field = 'subsystem'): SubsystemId {
  const [i, c, m, s] = splitParts(text, 4, field, SUBSYSTEM_SHAPE);
  return { ...memberId(i!, c!, m!, field), subsystemCode: checkPart(s, `${field} subsystem code`) };
}

export function parseServiceId(text: unknown, field = 'service'): ServiceId {
  const [i, c, m, s, v] = splitParts(text, 5, field, SERVICE_SHAPE);
  return {
    ...memberId(i!, c!, m!, field),
    subsystemCode: checkPart(s, `${field} subsystem code`),
    serviceCode: checkPart(v, `${field} service code`),
  };
}

export function parseLocalGroupId(text: unknown, field = 'local group'): LocalGroupId {
  const [i, c, m, s, g] = splitParts(text, 5, field, 'INSTANCE/CLASS/CODE/SUBSYSTEM/GROUPCODE');
  return { ...memberId(i!, c!, m!, field), subsystemCode: checkPart(s, `${field} subsystem code`), groupCode: checkPart(g, `${field} group code`) };
}

export function parseSecurityServerId(text: unknown, field = 'security server'): SecurityServerId {
  const [i, c, m, s] = splitParts(text, 4, field, SERVER_SHAPE);
  return { ...memberId(i!, c!, m!, field), serverCode: checkPart(s, `${field} server code`) };
}

export function formatMemberId(id: MemberId): string {
  return `${id.instance}/${id.memberClass}/${id.memberCode}`;
}
export function formatSubsystemId(id: SubsystemId): string {
  return `${formatMemberId(id)}/${id.subsystemCode}`;
}
export function formatServiceId(id: ServiceId): string {
  return `${formatSubsystemId(id)}/${id.serviceCode}`;
}
export function formatLocalGroupId(id: LocalGroupId): string {
  return `${formatSubsystemId(id)}/${id.groupCode}`;
}
export function formatSecurityServerId(id: SecurityServerId): string {
  return `${formatMemberId(id)}/${id.serverCode}`;
}

export function sameMember(a: MemberId, b: MemberId): boolean {
  return a.instance === b.instance && a.memberClass === b.memberClass && a.memberCode === b.memberCode;
}

/**
 * The member (`INSTANCE/CLASS/CODE`) of an identifier already in text form and checked: a
 * subsystem's, a service's or a local group's. Used where ids travel as text (manifests, the
 * global configuration), so that "the first three parts" is said in one place.
 */
export function memberOfId(id: string): string {
  return id.split('/', 3).join('/');
}

/** The subsystem (`INSTANCE/CLASS/CODE/SUBSYSTEM`) of a service's or a local group's id in text form. */
export function subsystemOfId(id: string): string {
  return id.split('/', 4).join('/');
}
