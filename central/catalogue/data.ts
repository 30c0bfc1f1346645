import { parse, stringify } from 'yaml';
import { matchMethod, matchPath, type MethodPattern } from '../../protocol/paths.js';
import type { ConfPublisher } from '../globalconf/publisher.js';
import type { ServiceRecord } from '../registry/services.js';
import type { Registry } from '../registry/registry.js';
import { memberOfId } from '../../protocol/identifiers.js';

/**
 * What `/catalogue/data` returns: each service with its provider, its endpoints (with the
 * operations of its OpenAPI document they cover, and their summaries), the parsed document, and
 * who may call which endpoint. Only what the global configuration publishes to every member.
 */
export interface CatalogueData {
  readonly instance: string;
  readonly confVersion: number;
  readonly services: readonly CatalogueService[];
}

export interface Operation {
  readonly method: string;
  readonly path: string;
  readonly summary: string | null;
  readonly operationId: string | null;
}

/** 'all': every operation under the endpoint is allowed; 'some': a narrower rule allows part of it. */
export type Coverage = 'all' | 'some' | 'none';

export interface CatalogueService {
  readonly id: string;
  readonly serviceCode: string;
  readonly provider: { readonly subsystem: string; readonly member: string; readonly memberName: string | null };
  readonly endpoints: ReadonlyArray<{ readonly method: string; readonly path: string; readonly operations: readonly Operation[] }>;
  /** One row per subject holding a right on the service; `endpoints[i]` is its coverage of the service's endpoint i. */
  readonly access: ReadonlyArray<{
    readonly subject: string;
    readonly subjectType: 'SUBSYSTEM' | 'GLOBALGROUP' | 'LOCALGROUP';
    /** A global or local group's members. */
    readonly members: readonly string[];
    readonly rules: ReadonlyArray<{ readonly method: string; readonly path: string }>;
    readonly endpoints: readonly Coverage[];
  }>;
  /** The parsed document, or null (none registered, or `documentError` says why it could not be read). */
  readonly document: Record<string, unknown> | null;
  readonly documentError: string | null;
  readonly downloads: { readonly yaml: string; readonly json: string } | null;
}

const HTTP_OPERATIONS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** A stored document (YAML or JSON, which is YAML too) as an object; aliases are capped by the yaml package (100). */
export function parseDocument(text: string): Record<string, unknown> {
  const doc: unknown = parse(text);
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error('the document is not a YAML or JSON object');
  return doc as Record<string, unknown>;
}

export const documentAsYaml = (text: string) => (text.trimStart().startsWith('{') ? stringify(parseDocument(text)) : text);
export const documentAsJson = (text: string) => `${JSON.stringify(parseDocument(text), null, 2)}\n`;

function operationsOf(doc: Record<string, unknown> | null): Operation[] {
  const paths = doc?.paths;
  if (typeof paths !== 'object' || paths === null) return [];
  return Object.entries(paths as Record<string, unknown>).flatMap(([path, item]) =>
    HTTP_OPERATIONS.filter((m) => typeof item === 'object' && item !== null && typeof (item as Record<string, unknown>)[m] === 'object').map((m) => {
      const op = (item as Record<string, Record<string, unknown>>)[m]!;
      return { method: m.toUpperCase(), path, summary: typeof op.summary === 'string' ? op.summary : null, operationId: typeof op.operationId === 'string' ? op.operationId : null };
    }),
  );
}

const allows = (rule: { method: MethodPattern; path: string }, method: string, path: string) => matchMethod(rule.method, method) && matchPath(rule.path, path);

/** An endpoint's coverage by rules: judged on its document's operations, else on the endpoint's own pattern. */
function coverage(rules: ReadonlyArray<{ method: MethodPattern; path: string }>, endpoint: { method: MethodPattern; path: string }, operations: readonly Operation[]): Coverage {
  if (operations.length > 0) {
    const allowed = operations.filter((op) => rules.some((r) => allows(r, op.method, op.path))).length;
    return allowed === 0 ? 'none' : allowed === operations.length ? 'all' : 'some';
  }
  const method = endpoint.method === '*' ? 'GET' : endpoint.method;
  if (rules.some((r) => (r.method === '*' || r.method === endpoint.method) && matchPath(r.path, endpoint.path))) return 'all';
  return rules.some((r) => matchMethod(r.method, method) && matchPath(endpoint.path, r.path)) ? 'some' : 'none';
}

interface Published {
  readonly memberNames: ReadonlyMap<string, string>;
  readonly groups: ReadonlyMap<string, readonly string[]>;
  readonly rights: ReturnType<Registry['access']['listRights']>;
}

function catalogueService(s: ServiceRecord, published: Published): CatalogueService {
  let document: Record<string, unknown> | null = null;
  let documentError: string | null = null;
  if (s.openApi) {
    try {
      document = parseDocument(s.openApi);
    } catch (err) {
      documentError = `the OpenAPI document could not be read: ${(err as Error).message.split('\n')[0]}`;
    }
  }
  const operations = operationsOf(document);
  const endpoints = s.endpoints.map((e) => ({ method: e.method, path: e.path, operations: operations.filter((op) => allows(e, op.method, op.path)) }));
  const bySubject = new Map<string, { subjectType: 'SUBSYSTEM' | 'GLOBALGROUP' | 'LOCALGROUP'; rules: Array<{ method: MethodPattern; path: string }> }>();
  for (const r of published.rights) {
    if (r.service !== s.id) continue;
    if (!bySubject.has(r.subject)) bySubject.set(r.subject, { subjectType: r.subjectType, rules: [] });
    bySubject.get(r.subject)!.rules.push({ method: r.method, path: r.path });
  }
  const member = memberOfId(s.provider);
  const path = `/catalogue/services/${s.id}`;
  return {
    id: s.id,
    serviceCode: s.serviceCode,
    provider: { subsystem: s.provider, member, memberName: published.memberNames.get(member) ?? null },
    endpoints: endpoints.map((e) => ({ method: e.method, path: e.path, operations: e.operations })),
    access: [...bySubject.entries()].map(([subject, { subjectType, rules }]) => ({
      subject,
      subjectType,
      members: [...(published.groups.get(subject) ?? [])],
      rules,
      endpoints: endpoints.map((e) => coverage(rules, e, e.operations)),
    })),
    document,
    documentError,
    downloads: document ? { yaml: `${path}/openapi.yaml`, json: `${path}/openapi.json` } : null,
  };
}

export function catalogueData(registry: Registry, publisher: ConfPublisher): CatalogueData {
  const published: Published = {
    memberNames: new Map(registry.members.list().map((m) => [m.id, m.name])),
    groups: new Map([...registry.access.listGroups(), ...registry.localGroups.list()].map((g) => [g.id, g.members])),
    rights: registry.access.listRights(),
  };
  return {
    instance: registry.instance,
    confVersion: publisher.current.version,
    services: registry.services.list().map((s) => catalogueService(s, published)),
  };
}
