/**
 * A service's endpoints from its OpenAPI document (issue 19, "Services from OpenAPI documents").
 * The document is parsed (YAML or JSON), checked for external references, validated with
 * @readme/openapi-parser, and its operations become endpoints: method + path relative to the
 * service's base URL. Everything doubtful is refused, never widened or repaired, because an
 * endpoint that is wider than the document says would let access rights grant more than the
 * provider meant to offer.
 */
import type { ParserOptions } from '@readme/openapi-parser';
import { parse as parseYaml } from 'yaml';
import { CamdxError, LocalCode } from '../../protocol/errors.js';
import { checkPathPattern, PathError, type HttpMethod } from '../../protocol/paths.js';
import { OpenApiImportError } from './import-error.js';

export { OpenApiImportError } from './import-error.js';

/** Central's limit on a service's stored document (central/registry/services.ts): it rides in the global configuration. */
export const OPENAPI_MAX_BYTES = 512 * 1024;
/** Central's limits on a service's endpoint list (central/api/schemas.ts). */
const MAX_ENDPOINTS = 500;
const MAX_PATH_CHARS = 1024;

export interface ImportedEndpoint {
  readonly method: HttpMethod;
  readonly path: string;
}

export interface ImportedOpenApi {
  /** The text as given: what central stores and `getOpenAPI` returns. */
  readonly document: string;
  readonly version: '3.0' | '3.1';
  readonly endpoints: ImportedEndpoint[];
}

/** OpenAPI's operation keys in a path item (3.0 and 3.1). */
const OPERATIONS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
/** A segment that is one path parameter and nothing else: `{id}`. */
const WHOLE_PARAMETER = /^\{[^{}/]+\}$/;

// External resolution off in every form the parser knows. References that do not start with '#'
// are refused before the parser runs (refuseExternalRefs); this is the second lock.
const PARSER_OPTIONS: ParserOptions = {
  resolve: { external: false, file: false, http: { redirects: 0, timeout: 1 } },
  dereference: { circular: 'ignore' },
  timeoutMs: 5_000,
};

/**
 * Imports an OpenAPI 3.0 or 3.1 document. `origin` labels the document in messages (for example
 * "the uploaded document" or the URL it came from). Throws OpenApiImportError (field 'document').
 */
export async function importOpenApi(text: string, origin: string): Promise<ImportedOpenApi> {
  const refuse = (message: string) => new OpenApiImportError('document', `${origin}: ${message}`);
  const size = Buffer.byteLength(text);
  if (size > OPENAPI_MAX_BYTES) {
    throw refuse(`the document is ${size} bytes; central stores at most ${OPENAPI_MAX_BYTES} bytes (512 KiB) per service`);
  }
  try {
    const parsed = parseText(text);
    const version = openApiVersion(parsed);
    refuseExternalRefs(parsed);
    const resolved = await validated(parsed);
    return { document: text, version, endpoints: endpointsOf(resolved) };
  } catch (err) {
    if (err instanceof ImportRefusal) throw refuse(err.message);
    throw err;
  }
}

/** A refusal inside this module, before `origin` is prefixed. */
class ImportRefusal extends CamdxError<'ServiceDescription'> {
  constructor(message: string) {
    super(LocalCode.ServiceDescription, message);
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };
const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const firstLine = (s: string) => s.split('\n')[0]!.trim();
const clip = (s: string) => (s.length > 120 ? `${s.slice(0, 117)}...` : s);

/**
 * JSON is YAML 1.2, so one parser reads both; duplicate keys are refused rather than one silently
 * winning. Log level 'error': errors still throw, warnings (unknown tags) are not printed.
 */
function parseText(text: string): Json {
  try {
    return parseYaml(text, { uniqueKeys: true, maxAliasCount: 100, logLevel: 'error' }) as Json;
  } catch (err) {
    throw new ImportRefusal(`not YAML or JSON: ${clip(firstLine((err as Error).message))}`);
  }
}

function openApiVersion(doc: Json): '3.0' | '3.1' {
  if (!isObject(doc)) throw new ImportRefusal('not an OpenAPI document: expected an object with an "openapi" field');
  if ('swagger' in doc) throw new ImportRefusal(`a Swagger ${clip(String(doc.swagger))} document is not accepted; convert it to OpenAPI 3.0 or 3.1`);
  const version = doc.openapi;
  if (typeof version !== 'string') throw new ImportRefusal('not an OpenAPI document: it has no "openapi" version field');
  const match = /^3\.([01])\.\d+$/.exec(version);
  if (!match) throw new ImportRefusal(`OpenAPI ${clip(version)} is not accepted; only 3.0.x and 3.1.x are`);
  return match[1] === '0' ? '3.0' : '3.1';
}

/**
 * Refuses every `$ref` that leaves the document (a URL, a file, a relative name), naming where it
 * is: resolving one would make this gateway fetch whatever the document's author chose.
 */
function refuseExternalRefs(root: Json): void {
  const stack: Array<[Json, string]> = [[root, '']];
  const seen = new Set<object>();
  while (stack.length > 0) {
    const [value, where] = stack.pop()!;
    if (typeof value !== 'object' || value === null || seen.has(value)) continue;
    seen.add(value);
    if (isObject(value) && typeof value.$ref === 'string' && !value.$ref.startsWith('#')) {
      throw new ImportRefusal(`${locationOf(where, '$ref')}: the external reference '${clip(value.$ref)}' is not resolved; inline it or move it under components`);
    }
    for (const [key, child] of Object.entries(value)) stack.push([child, locationOf(where, key)]);
  }
}

const locationOf = (parent: string, key: string) => (parent === '' ? key : `${parent}.${key}`);

/** Validates a copy (the parser dereferences it in place) and returns that dereferenced copy. */
async function validated(parsed: Json): Promise<JsonObject> {
  const working = structuredClone(parsed) as JsonObject;
  let result;
  try {
    // Loaded when a description is imported: the parser and its schemas weigh megabytes a running gateway would otherwise hold.
    const { validate } = await import('@readme/openapi-parser');
    result = await validate(working as never, PARSER_OPTIONS);
  } catch (err) {
    throw new ImportRefusal(`the OpenAPI parser refused it: ${clip(firstLine((err as Error).message))}`);
  }
  if (!result.valid) {
    const more = result.errors.length - 1 + result.additionalErrors;
    throw new ImportRefusal(`${describeParserError(result.errors[0]?.message ?? 'invalid', working)}${more > 0 ? ` (and ${more} more)` : ''}`);
  }
  return working;
}

/**
 * The parser's first line plus where it points. Schema errors come with a code frame of the
 * document as `JSON.stringify(doc, null, 2)`, its line marked '>'; that line is mapped back to the
 * keys that lead to it (`paths./orders.get.responses`), which a person can find in any format.
 */
function describeParserError(message: string, doc: JsonObject): string {
  const headline = clip(firstLine(message));
  const marked = /^>\s*(\d+) \|/m.exec(message);
  const where = marked ? linePaths(doc)[Number(marked[1]) - 1] : undefined;
  if (where === undefined) return headline;
  return `${where === '' ? 'the document root' : where}: ${headline}`;
}

/** For each line of `JSON.stringify(value, null, 2)`, the dotted keys of the value on it. */
function linePaths(value: Json): string[] {
  const lines: string[] = [];
  const visit = (v: Json, where: string) => {
    lines.push(where);
    if (typeof v !== 'object' || v === null) return;
    const entries: Array<[string, Json]> = Array.isArray(v) ? v.map((x, i) => [String(i), x]) : Object.entries(v);
    if (entries.length === 0) return; // `{}` and `[]` stay on their line
    for (const [key, child] of entries) visit(child, locationOf(where, key));
    lines.push(where); // the closing bracket
  };
  visit(value, '');
  return lines;
}

/** Each operation as an endpoint, in document order, without duplicates (`/a/{x}` and `/a/{y}` are both `/a/*`). */
function endpointsOf(doc: JsonObject): ImportedEndpoint[] {
  const paths = isObject(doc.paths) ? doc.paths : {}; // 3.1 allows a document of only webhooks
  const endpoints = new Map<string, ImportedEndpoint>();
  for (const [template, item] of Object.entries(paths)) {
    const path = endpointPath(template);
    if (!isObject(item)) continue;
    if (typeof item.$ref === 'string') throw new ImportRefusal(`${locationOf(`paths.${template}`, '$ref')}: a circular path item reference is not accepted`);
    for (const operation of OPERATIONS) {
      if (!(operation in item)) continue;
      if (operation === 'trace') throw new ImportRefusal(`paths.${template}.trace: TRACE is not a method a CamDX service can carry`);
      const method = operation.toUpperCase() as HttpMethod;
      endpoints.set(`${method} ${path}`, { method, path });
    }
  }
  if (endpoints.size > MAX_ENDPOINTS) throw new ImportRefusal(`the document has ${endpoints.size} endpoints; a service has at most ${MAX_ENDPOINTS}`);
  return [...endpoints.values()];
}

/**
 * An OpenAPI path template as an endpoint path: a whole-segment `{param}` becomes `*` (one
 * segment). A parameter sharing its segment with other text (`{id}.json`) is refused: `*` would
 * also match `/files/anything`, wider than the document. So is a literal `*` or `**` segment,
 * which OpenAPI means literally and an endpoint would read as a wildcard.
 */
function endpointPath(template: string): string {
  const where = `paths.${template}`;
  if (template.length > MAX_PATH_CHARS) throw new ImportRefusal(`${clip(where)}: the path is longer than ${MAX_PATH_CHARS} characters`);
  const segments = template.split('/').map((segment) => {
    if (WHOLE_PARAMETER.test(segment)) return '*';
    if (segment.includes('{') || segment.includes('}')) {
      throw new ImportRefusal(`${where}: '${segment}' is a partial path template; an endpoint segment is either literal or one whole {parameter}, and this one would have to be widened to '*'`);
    }
    if (segment === '*' || segment === '**') throw new ImportRefusal(`${where}: a literal '${segment}' segment would read as a wildcard`);
    return segment;
  });
  try {
    return checkPathPattern(segments.join('/'));
  } catch (err) {
    if (err instanceof PathError) throw new ImportRefusal(`${where}: ${err.message}`);
    throw err;
  }
}
