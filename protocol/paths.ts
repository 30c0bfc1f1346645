/**
 * REST endpoint paths and access-right path patterns. A pattern is a path whose segments may
 * be `*` (exactly one segment), `**` (any number, including none) or `{name}` (one segment,
 * as OpenAPI writes path parameters). Request paths are normalised strictly before matching:
 * anything that could make two spellings of a path match differently is refused.
 */

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];
export type MethodPattern = HttpMethod | '*';

/** RFC 3986 pchar without percent-escapes, plus `{}` for path parameters in patterns. */
const LITERAL_SEGMENT = /^[A-Za-z0-9\-._~!$&'()+,;=:@]+$/;
const PARAM_SEGMENT = /^\{[A-Za-z_][A-Za-z0-9_.-]*\}$/;

export class PathError extends Error {
  constructor(
    readonly rule: string,
    message: string,
  ) {
    super(message);
    this.name = 'PathError';
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
    if (segment === '' ) throw new PathError('empty-segment', `path pattern '${pattern}' has an empty segment ('//')`);
    if (segment === '.' || segment === '..') throw new PathError('dot-segment', `path pattern '${pattern}' has a '${segment}' segment`);
    if (segment.includes('*')) throw new PathError('wildcard', `in '${pattern}', '*' and '**' must be whole segments`);
    if (!LITERAL_SEGMENT.test(segment)) throw new PathError('characters', `path pattern '${pattern}' has a segment with characters outside RFC 3986 pchar: '${segment}'`);
  });
  return pattern;
}

/**
 * Normalises a request path (the part after the service code, without the query) for access
 * checks. Percent-escapes of unreserved characters are decoded; `..`, `.`, `//`, and escaped
 * `/`, `\`, `.` or NUL are refused rather than resolved, since a proxy behind us might resolve
 * them differently.
 */
export function normaliseRequestPath(raw: string): string {
  if (raw === '') return '/';
  if (!raw.startsWith('/')) throw new PathError('absolute', 'the path must start with /');
  if (/%(2f|5c|2e|00)/i.test(raw)) throw new PathError('encoded', 'the path contains an encoded slash, backslash, dot or NUL');
  if (raw.includes('\\')) throw new PathError('backslash', 'the path contains a backslash');
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    throw new PathError('encoding', 'the path has a malformed percent-escape');
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(decoded)) throw new PathError('control', 'the path contains control characters');
  const segments = raw.slice(1).split('/');
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    if (s === '' && i < segments.length - 1) throw new PathError('empty-segment', "the path contains '//'");
    if (s === '.' || s === '..') throw new PathError('dot-segment', `the path contains a '${s}' segment`);
  }
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
