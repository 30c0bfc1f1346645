import { z } from 'zod';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from 'zod-openapi';

/**
 * The OpenAPI 3.1 document of a console API (central's `/api`, a gateway's `/api/v1`), built
 * with zod-openapi from a route list whose bodies are the zod schemas the routes validate with.
 * Each API's test holds its route list equal to what its routers register.
 */

export type Method = 'get' | 'post' | 'patch' | 'put' | 'delete';

export interface ApiRoute {
  readonly method: Method;
  /** Express form, relative to the API's server: `/members/:i/:c/:m`. */
  readonly path: string;
  readonly summary: string;
  readonly body?: z.ZodType;
  readonly query?: z.ZodObject;
  /** The answer's status and schema; without a schema the answer is 204 No Content. */
  readonly status?: 200 | 201;
  readonly response?: z.ZodType;
  /** Reachable without credentials (signing in). */
  readonly open?: boolean;
}

export interface ConsoleApiDocument {
  readonly title: string;
  readonly description: string;
  /** Where the paths are relative to: `/api`, `/api/v1`. */
  readonly server: string;
  readonly routes: readonly ApiRoute[];
  /** What each path parameter is. */
  readonly params: Readonly<Record<string, string>>;
  /** Where the admin token is (for the bearer scheme's description). */
  readonly tokenFile: string;
  /** The 403 of a change: who may not. */
  readonly forbidden: string;
}

export const ApiError = z
  .object({ error: z.string(), message: z.string(), field: z.string().optional(), rule: z.string().optional() })
  .meta({ id: 'Error', description: 'Why the request was refused; `field` names the input at fault.' });

/** `/members/:i/:c/:m` → `/members/{i}/{c}/{m}`. */
export const openApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
const pathParams = (path: string) => [...path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!);

const json = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });
const refusal = (description: string) => ({ description, ...json(ApiError) });

function operation(route: ApiRoute, d: ConsoleApiDocument): ZodOpenApiOperationObject {
  const params = pathParams(route.path);
  const change = route.method !== 'get';
  return {
    summary: route.summary,
    ...(params.length || route.query
      ? {
          requestParams: {
            ...(params.length ? { path: z.object(Object.fromEntries(params.map((p) => [p, z.string().meta({ description: d.params[p] ?? p })]))) } : {}),
            ...(route.query ? { query: route.query } : {}),
          },
        }
      : {}),
    ...(route.body ? { requestBody: { required: true, ...json(route.body) } } : {}),
    ...(route.open ? { security: [] } : {}),
    responses: {
      ...(route.response ? { [String(route.status ?? 200)]: { description: 'OK', ...json(route.response) } } : { '204': { description: 'Done' } }),
      '400': refusal('Bad input: `field` names it'),
      ...(route.open ? {} : { '401': refusal('No credentials, a wrong token, or an ended session'), '403': refusal(change ? d.forbidden : 'Not allowed') }),
      ...(params.length ? { '404': refusal('No such record') } : {}),
      ...(change ? { '409': refusal('Conflicts with what is there') } : {}),
    },
  };
}

export function consoleApiDocument(d: ConsoleApiDocument): object {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of d.routes) {
    const key = openApiPath(route.path);
    paths[key] = { ...paths[key], [route.method]: operation(route, d) };
  }
  return createDocument({
    openapi: '3.1.0',
    info: { title: d.title, version: '1', description: d.description },
    servers: [{ url: d.server }],
    security: [{ adminToken: [] }, { session: [], csrf: [] }],
    paths,
    components: {
      securitySchemes: {
        adminToken: { type: 'http', scheme: 'bearer', description: d.tokenFile },
        session: { type: 'apiKey', in: 'cookie', name: 'camdx_session', description: 'Set by POST /session' },
        csrf: { type: 'apiKey', in: 'header', name: 'X-CSRF-Token', description: "The session's csrfToken; required on every change made with a session" },
      },
    },
  });
}
