import { Validator } from '@seriousme/openapi-schema-validator';
import type { Router } from 'express';
import { describe, expect, it } from 'vitest';
import { adminRouter, type AdminDeps } from '../../central/api/admin.js';
import { adminOpenApiDocument, openApiPath } from '../../central/api/openapi.js';
import { sessionRouter, usersRouter, type UsersDeps } from '../../central/api/users.js';

/** The admin API's document (/api/openapi.json): valid OpenAPI 3.1, and exactly the routes the routers register. */

type Operation = { requestBody?: unknown; security?: unknown[]; responses: Record<string, { description?: string }> };
type Doc = { openapi: string; servers: Array<{ url: string }>; paths: Record<string, Record<string, Operation>> };
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const doc = () => adminOpenApiDocument() as Doc;

async function validate(document: unknown) {
  const validator = new Validator();
  const result = await validator.validate(structuredClone(document) as Parameters<Validator['validate']>[0]);
  return { valid: result.valid, version: validator.version, errors: result.errors };
}

/** `METHOD /path` of every route an express Router registers, read from its stack (path parameters as OpenAPI writes them). */
function registered(router: Router): string[] {
  return router.stack.flatMap((layer) => {
    const route = layer.route as { path: string; methods: Record<string, boolean> } | undefined;
    if (!route) return [];
    return Object.keys(route.methods)
      .filter((m) => route.methods[m] && m !== '_all')
      .map((m) => `${m.toUpperCase()} ${openApiPath(route.path)}`);
  });
}

const documented = (d: Doc) => Object.entries(d.paths).flatMap(([path, item]) => METHODS.filter((m) => m in item).map((m) => `${m.toUpperCase()} ${path}`));

describe('the admin API OpenAPI document', () => {
  it('is an OpenAPI 3.1 document the validator accepts, served relative to /api (and the validator refuses a broken one)', async () => {
    expect(await validate(doc())).toMatchObject({ valid: true, version: '3.1' });
    expect(doc().servers).toEqual([{ url: '/api' }]);
    // A response without its (required) description.
    const broken = structuredClone(doc());
    delete broken.paths['/members']!.get!.responses['200']!.description;
    expect((await validate(broken)).valid).toBe(false);
  });

  it("has exactly the routes admin.ts and users.ts register, read from the routers' stacks", () => {
    // The routers read their dependencies only when a request comes.
    const routes = [...registered(adminRouter({} as AdminDeps)), ...registered(sessionRouter({} as UsersDeps)), ...registered(usersRouter({} as UsersDeps))];
    expect(routes.length).toBeGreaterThan(40);
    expect(new Set(routes).size).toBe(routes.length);
    expect(documented(doc()).sort()).toEqual(routes.sort());
    // The contract's session and user routes are among them.
    for (const r of ['POST /session', 'GET /session', 'DELETE /session', 'GET /users', 'POST /users', 'DELETE /users/{name}', 'PUT /users/{name}/password']) expect(routes).toContain(r);
  });

  it('describes request bodies with the schemas the routes validate, and signing in needs no credentials', () => {
    const d = doc();
    const body = (path: string, method: string) => JSON.stringify(d.paths[path]![method]!.requestBody);
    // AddMember: strict, so the document says no other properties are allowed.
    expect(body('/members', 'post')).toMatch(/"additionalProperties":false/);
    expect(body('/members', 'post')).toMatch(/"name":\{[^}]*"maxLength":200/);
    expect(body('/users', 'post')).toMatch(/"enum":\["administrator","observer"\]/);
    expect(d.paths['/session']!.post!.security).toEqual([]);
    expect(d.paths['/members']!.post!.security).toBeUndefined();
  });
});
