import { Validator } from '@seriousme/openapi-schema-validator';
import type { Router } from 'express';
import { describe, expect, it } from 'vitest';
import { openApiPath } from '../../common/console/openapi.js';
import { gatewayApiRouter, type GatewayApiDeps } from '../../gateway/console/api.js';
import { gatewayOpenApiDocument } from '../../gateway/console/openapi.js';

/** The gateway console API's document (/api/openapi.json): valid OpenAPI 3.1, and exactly the routes /api/v1 serves. */

type Doc = { openapi: string; servers: Array<{ url: string }>; paths: Record<string, Record<string, unknown>> };
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** `METHOD /path` of every route a Router and the routers mounted in it register, read from their stacks. */
function registered(router: Router): string[] {
  return router.stack.flatMap((layer) => {
    const route = layer.route as { path: string; methods: Record<string, boolean> } | undefined;
    const nested = (layer.handle as unknown as { stack?: unknown }).stack;
    if (!route) return nested ? registered(layer.handle as unknown as Router) : [];
    return Object.keys(route.methods)
      .filter((m) => route.methods[m] && m !== '_all')
      .map((m) => `${m.toUpperCase()} ${openApiPath(route.path)}`);
  });
}

describe('the gateway console API OpenAPI document', () => {
  it('is an OpenAPI 3.1 document the validator accepts, served relative to /api/v1', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(gatewayOpenApiDocument()) as Parameters<Validator['validate']>[0]);
    expect(result.errors).toBeUndefined();
    expect({ valid: result.valid, version: validator.version }).toEqual({ valid: true, version: '3.1' });
    expect((gatewayOpenApiDocument() as Doc).servers).toEqual([{ url: '/api/v1' }]);
  });

  it("lists exactly the routes /api/v1 registers, read from the routers' stacks", () => {
    // The routers read their dependencies only when a request comes.
    const routes = registered(gatewayApiRouter({} as GatewayApiDeps));
    expect(new Set(routes).size).toBe(routes.length);
    const documented = Object.entries((gatewayOpenApiDocument() as Doc).paths).flatMap(([path, item]) => METHODS.filter((m) => m in item).map((m) => `${m.toUpperCase()} ${path}`));
    expect(documented.sort()).toEqual(routes.sort());
  });
});
