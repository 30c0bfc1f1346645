import type { Manifest, RequestHead, ResponseHead } from './format.js';

/**
 * The shapes of a peer's head and manifest, checked by hand: these run for every message, where
 * a schema library's generality costs more than the check (issue 22). Each is strict — exactly
 * the keys named, each of its type and bounds — as the zod schemas they replace were.
 */

/** What a head may carry (format.ts HEAD_LIMITS re-exports these). */
export const HEAD_LIMITS = {
  /** The methods a head may carry: upper-case letters (so not M-SEARCH, which Node parses). */
  method: /^[A-Z]{1,16}$/,
  /** Characters of the path after the service code, and of the query. */
  pathChars: 8192,
  queryChars: 8192,
  /** End-to-end headers, and the size of each name and value. */
  headers: 256,
  nameChars: 256,
  valueChars: 16384,
} as const;

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Exactly these keys (the optional ones may be absent), no others. */
function hasExactly(value: Json, required: readonly string[], optional: readonly string[] = []): boolean {
  const keys = Object.keys(value);
  if (!required.every((k) => Object.hasOwn(value, k))) return false;
  return keys.every((k) => required.includes(k) || optional.includes(k));
}

const isText = (value: unknown, max: number, min = 0): value is string => typeof value === 'string' && value.length >= min && value.length <= max;
const isInteger = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value);

function isHeaderList(value: unknown): value is Array<[string, string]> {
  if (!Array.isArray(value) || value.length > HEAD_LIMITS.headers) return false;
  return value.every((pair) => Array.isArray(pair) && pair.length === 2 && isText(pair[0], HEAD_LIMITS.nameChars, 1) && isText(pair[1], HEAD_LIMITS.valueChars));
}

export function isRequestHead(value: unknown): value is RequestHead {
  if (!isObject(value) || !hasExactly(value, ['method', 'path', 'query', 'headers'])) return false;
  const method = value.method;
  return typeof method === 'string' && HEAD_LIMITS.method.test(method) && isText(value.path, HEAD_LIMITS.pathChars) && isText(value.query, HEAD_LIMITS.queryChars) && isHeaderList(value.headers);
}

export function isResponseHead(value: unknown): value is ResponseHead {
  return isObject(value) && hasExactly(value, ['status', 'headers']) && isInteger(value.status) && isHeaderList(value.headers);
}

const B64_512 = /^[A-Za-z0-9+/]{86}==$/;
const SALT = /^[A-Za-z0-9+/]{22}==$/;
const MILLISECOND_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const MANIFEST_KEYS = ['v', 'type', 'id', 'requestId', 'client', 'service', 'signedAt', 'salt', 'headDigest', 'bodyDigest', 'bodyBytes'] as const;

/** A UTC time with milliseconds that names a real instant (the calendar checked by a round trip). */
const isSigningTime = (value: unknown): value is string => typeof value === 'string' && MILLISECOND_TIME.test(value) && new Date(value).toISOString() === value;

export function isManifest(value: unknown): value is Manifest {
  if (!isObject(value) || !hasExactly(value, MANIFEST_KEYS, ['requestHash'])) return false;
  return (
    value.v === 1 &&
    (value.type === 'request' || value.type === 'response') &&
    isText(value.id, 256, 1) &&
    isText(value.requestId, 256, 1) &&
    isText(value.client, 1024) &&
    isText(value.service, 1024) &&
    isSigningTime(value.signedAt) &&
    typeof value.salt === 'string' &&
    SALT.test(value.salt) &&
    typeof value.headDigest === 'string' &&
    B64_512.test(value.headDigest) &&
    typeof value.bodyDigest === 'string' &&
    B64_512.test(value.bodyDigest) &&
    isInteger(value.bodyBytes) &&
    value.bodyBytes >= 0 &&
    (value.requestHash === undefined || (typeof value.requestHash === 'string' && B64_512.test(value.requestHash)))
  );
}
