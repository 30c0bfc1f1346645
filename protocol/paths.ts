/**
 * REST endpoint paths and access-right path patterns. A pattern is a path whose segments may
 * be `*` (exactly one segment), `**` (any number, including none) or `{name}` (one segment,
 * as OpenAPI writes path parameters). Request paths are normalised strictly before matching:
 * anything that could make two spellings of a path match differently is refused.
 */

import { CamdxError } from './errors.js';

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];
export type MethodPattern = HttpMethod | '*';

/** RFC 3986 pchar without percent-escapes, plus `{}` for path parameters in patterns. */
const LITERAL_SEGMENT = /^[A-Za-z0-9\-._~!$&'()+,;=:@]+$/;
const PARAM_SEGMENT = /^\{[A-Za-z_][A-Za-z0-9_.-]*\}$/;

/** A path, pattern or query that breaks the rules above; `rule` says which. */
export class PathError extends CamdxError<'PathRule'> {
  constructor(
    readonly rule: string,
    message: string,
  ) {
    super('PathRule', message);
  }
}

export function isMethodPattern(value: string): value is MethodPattern {
  return value === '*' || (HTTP_METHODS as readonly string[]).includes(value);
}

/** Checks a pattern (for services' endpoints and access rights) and returns it unchanged. */
export function checkPathPattern(pattern: string): string {
  if (!pattern.startsWith('/')) throw new PathError('absolute', `path pattern '${pattern}' must start with '/'`);
  if (pattern === '/') return pattern;
  const segments = pattern.slice(1).split('/');
  segments.forEach((segment, i) => {
    if (segment === '' && i === segments.length - 1) return; // a trailing slash is allowed
    if (segment === '*' || segment === '**' || PARAM_SEGMENT.test(segment)) return;
    if (segment === '') throw new PathError('empty-segment', `path pattern '${pattern}' has an empty segment ('//')`);
    if (segment === '.' || segment === '..') throw new PathError('dot-segment', `path pattern '${pattern}' has a '${segment}' segment`);
    if (segment.includes('*')) throw new PathError('wildcard', `in '${pattern}', '*' and '**' must be whole segments`);
    if (!LITERAL_SEGMENT.test(segment)) throw new PathError('characters', `path pattern '${pattern}' has a segment with characters outside RFC 3986 pchar: '${segment}'`);
  });
  return pattern;
}

/** RFC 3986 pchar (unreserved, sub-delims, ':' and '@') and '/' as raw characters; '%' is checked per escape. */
const PATH_CHARACTERS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$/;
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
/** Escapes that name a separator, a dot or NUL: a decoder behind us would see a different path. */
const SEPARATOR_BYTES = new Set([0x2f, 0x5c, 0x2e, 0x00]);

/**
 * Checks that a request path (the part after the service code, without the query) is already
 * in its one normal form and returns it unchanged, so the bytes the access check matched are
 * the bytes the provider's system receives. Refused rather than repaired: anything a server or
 * framework behind us could read as another path — dot segments (also `..;x`, as Tomcat strips
 * `;` parameters), empty segments, escaped separators, dots or unreserved characters (`%41`),
 * double escapes (`%252e`), lower-case hex, fragments. Messages never repeat the path itself.
 */
export function normaliseRequestPath(raw: string): string {
  if (raw === '') return raw;
  if (!raw.startsWith('/')) throw new PathError('absolute', 'the path must start with /');
  if (raw.includes('#')) throw new PathError('fragment', "the path contains '#'; a fragment is not part of a request");
  if (raw.includes('\\')) throw new PathError('backslash', 'the path contains a backslash');
  if (!PATH_CHARACTERS.test(raw)) throw new PathError('characters', 'the path contains characters outside RFC 3986 pchar; percent-encode them (upper-case hex)');
  for (let i = raw.indexOf('%'); i >= 0; i = raw.indexOf('%', i + 1)) checkEscape(raw, i);
  const segments = raw.slice(1).split('/');
  segments.forEach((segment, i) => {
    if (segment === '' && i === segments.length - 1) return; // one trailing slash
    if (segment === '') throw new PathError('empty-segment', "the path contains '//'");
    const name = segment.split(';')[0]!;
    if (name === '.' || name === '..') throw new PathError('dot-segment', "the path contains a '.' or '..' segment (with or without ';' parameters)");
    if (name === '') throw new PathError('empty-segment', "a path segment starts with ';', so its name is empty");
    try {
      decodeURIComponent(segment);
    } catch {
      throw new PathError('encoding', 'the path has percent-escapes that are not UTF-8');
    }
  });
  return raw;
}

function checkEscape(raw: string, at: number): void {
  const hex = raw.slice(at + 1, at + 3);
  if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw new PathError('encoding', 'the path has a malformed percent-escape');
  const byte = parseInt(hex, 16);
  if (SEPARATOR_BYTES.has(byte)) throw new PathError('encoded', 'the path contains an encoded slash, backslash, dot or NUL');
  if (byte === 0x25 && /^[0-9A-Fa-f]{2}$/.test(raw.slice(at + 3, at + 5))) throw new PathError('double-encoded', "the path contains an escaped escape ('%25' before two hex digits)");
  if (byte < 0x20 || byte === 0x7f) throw new PathError('control', 'the path contains control characters');
  if (hex !== hex.toUpperCase()) throw new PathError('escape-case', 'percent-escapes must use upper-case hex digits (%C3, not %c3)');
  if (UNRESERVED.test(String.fromCharCode(byte)))
    throw new PathError('escaped-unreserved', `the path escapes an unreserved character (%${hex} is '${String.fromCharCode(byte)}'); send the character itself`);
}

/**
 * Checks a raw query string (without '?'): printable ASCII without space, and no '#'. The query
 * is not matched by access rights, but it is forwarded verbatim and must stay one request target.
 */
export function checkQuery(raw: string): string {
  if (raw.includes('#')) throw new PathError('fragment', "the query contains '#'; a fragment is not part of a request");
  if (!/^[\x21-\x7e]*$/.test(raw)) throw new PathError('query', 'the query contains spaces, control or non-ASCII characters; percent-encode them');
  return raw;
}

/** Does a normalised request path match a pattern? Matching is on raw (still escaped) segments. */
export function matchPath(pattern: string, path: string): boolean {
  const p = split(pattern);
  const s = split(path);
  return matchFrom(p, 0, s, 0);
}

function split(path: string): string[] {
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(1, -1) : path.slice(1);
  return trimmed === '' ? [] : trimmed.split('/');
}

function matchFrom(p: string[], i: number, s: string[], j: number): boolean {
  if (i === p.length) return j === s.length;
  const seg = p[i]!;
  if (seg === '**') {
    for (let k = j; k <= s.length; k++) if (matchFrom(p, i + 1, s, k)) return true;
    return false;
  }
  if (j === s.length) return false;
  if (seg === '*' || PARAM_SEGMENT.test(seg) || seg === s[j]) return matchFrom(p, i + 1, s, j + 1);
  return false;
}

export function matchMethod(pattern: MethodPattern, method: string): boolean {
  return pattern === '*' || pattern === method;
}
