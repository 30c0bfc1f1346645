/**
 * What refreshing a service from a new OpenAPI document would change, shown before it is applied
 * (issue 19). A refresh that removes an endpoint some access right names is refused until those
 * rights are gone: otherwise the right would stay in the configuration granting nothing, and
 * would silently grant again if an endpoint of that name came back.
 */
import type { MethodPattern } from '../../protocol/paths.js';

export interface DiffEndpoint {
  readonly method: MethodPattern;
  readonly path: string;
}

export interface DiffRight extends DiffEndpoint {
  readonly subject: string;
}

export interface EndpointDiff {
  /** In `next` only. */
  readonly added: DiffEndpoint[];
  /** In `current` only. */
  readonly removed: DiffEndpoint[];
  /** In both, as `next` spells it. */
  readonly kept: DiffEndpoint[];
  /** Rights that name a removed endpoint and no endpoint of `next`, each with the endpoint it named. */
  readonly rightsOnRemoved: Array<{ readonly right: DiffRight; readonly endpoint: DiffEndpoint }>;
}

/**
 * Endpoints are the same when their methods are equal and their paths are the same pattern; a
 * whole-segment `{param}` and `*` are the same (both match exactly one segment), so a hand-typed
 * `/orders/{id}` is kept, not removed and re-added, when the document says `/orders/{orderId}`.
 *
 * A right names an endpoint when its path is the endpoint's path (compared as above) and its
 * method is the endpoint's, or either method is `*`. Rights with broader patterns (`/orders/**`)
 * name no endpoint in particular: they grant whatever the service offers and are never blocking.
 */
export function endpointDiff(current: readonly DiffEndpoint[], next: readonly DiffEndpoint[], rights: readonly DiffRight[]): EndpointDiff {
  const currentKeys = new Set(current.map(keyOf));
  const nextKeys = new Set(next.map(keyOf));
  const removed = current.filter((e) => !nextKeys.has(keyOf(e)));
  const rightsOnRemoved: EndpointDiff['rightsOnRemoved'] = [];
  for (const right of rights) {
    if (next.some((e) => names(right, e))) continue;
    const endpoint = removed.find((e) => names(right, e));
    if (endpoint) rightsOnRemoved.push({ right, endpoint });
  }
  return {
    added: next.filter((e) => !currentKeys.has(keyOf(e))),
    removed,
    kept: next.filter((e) => currentKeys.has(keyOf(e))),
    rightsOnRemoved,
  };
}

export type ApplyDecision = { readonly allowed: true } | { readonly allowed: false; readonly message: string };

/** A refresh may be applied only when no right names a removed endpoint; the refusal names each such right. */
export function applyAllowed(diff: EndpointDiff): ApplyDecision {
  const blocking = diff.rightsOnRemoved;
  if (blocking.length === 0) return { allowed: true };
  const shown = blocking.slice(0, 10).map(({ right, endpoint }) => `${right.subject} (${right.method} ${right.path}, on ${endpoint.method} ${endpoint.path})`);
  const more = blocking.length > shown.length ? `, and ${blocking.length - shown.length} more` : '';
  return {
    allowed: false,
    message: `the refresh removes endpoints that ${blocking.length} access right(s) name: ${shown.join('; ')}${more}; remove those rights first`,
  };
}

/** `{param}` segments read as `*`, the one-segment wildcard they match as. */
const normalPath = (path: string) => path.replace(/(?<=\/)\{[^{}/]+\}(?=\/|$)/g, '*');
const keyOf = (e: DiffEndpoint) => `${e.method} ${normalPath(e.path)}`;

function names(right: DiffEndpoint, endpoint: DiffEndpoint): boolean {
  if (normalPath(right.path) !== normalPath(endpoint.path)) return false;
  return right.method === endpoint.method || right.method === '*' || endpoint.method === '*';
}
