import type { RequestHandler } from 'express';
import { z } from 'zod';
import { consoleApiDocument, type ApiRoute } from '../../common/console/openapi.js';
import { SignIn } from './api.js';
import { ClientPatch, ServicePatch } from './settings-api.js';

/**
 * The gateway console API's OpenAPI 3.1 document, served at /api/openapi.json. Request bodies
 * are the zod schemas the routes validate with; test/gateway/console-openapi.test.ts holds the
 * route list equal to what the /api/v1 routers register.
 */

const Session = z.object({ name: z.string(), role: z.string(), csrfToken: z.string(), expiresAt: z.string() }).meta({ id: 'Session' });
const Client = z.object({ id: z.string(), connection: z.enum(['HTTP', 'HTTPS', 'HTTPS_NO_AUTH']), certificates: z.number().int(), registered: z.boolean() }).meta({ id: 'Client' });
const Endpoint = z.object({ method: z.string(), path: z.string() });
const Service = z.object({ id: z.string(), url: z.string(), endpoints: z.array(Endpoint), published: z.boolean() }).meta({ id: 'Service' });
const Certificate = z.object({ subject: z.string(), issuer: z.string(), serial: z.string(), notBefore: z.string(), notAfter: z.string(), ocsp: z.object({ ageSeconds: z.number().nullable(), good: z.boolean() }) });
const Check = z.object({ name: z.string(), target: z.string(), ok: z.boolean(), detail: z.string(), latencyMs: z.number().optional() });
const Records = z.array(z.object({}).catchall(z.unknown())).meta({ description: 'Operational records (metadata only: who called what, when, with what result)' });
const RecordsQuery = z.object({
  from: z.string().optional().meta({ description: 'ms since the epoch' }),
  to: z.string().optional().meta({ description: 'ms since the epoch' }),
  client: z.string().optional(),
  service: z.string().optional(),
  limit: z.string().optional().meta({ description: '1-10000' }),
});

export const GATEWAY_ROUTES: readonly ApiRoute[] = [
  { method: 'post', path: '/session', summary: 'Trade the admin token for a console session; sets the camdx_session cookie', body: SignIn, status: 201, response: Session, open: true },
  { method: 'get', path: '/session', summary: 'The current session, if the cookie holds one', response: Session, open: true },
  { method: 'delete', path: '/session', summary: 'Sign out' },
  { method: 'get', path: '/records', summary: 'Operational records', query: RecordsQuery, response: Records },
  { method: 'get', path: '/clients', summary: "The owner's subsystems and this server's clients: connection type, pinned certificates, registration", response: z.array(Client) },
  { method: 'get', path: '/services', summary: 'The services this gateway provides: base URL and published endpoints', response: z.array(Service) },
  { method: 'get', path: '/token-certificates', summary: 'The authentication and signing certificates in use, with OCSP status', response: z.object({ auth: Certificate, signing: Certificate }) },
  { method: 'get', path: '/diagnostics', summary: "X-Road's connection tests: central, configuration, OCSP, TSA, peers, own services", response: z.object({ ok: z.boolean(), checks: z.array(Check) }) },
  { method: 'post', path: '/ocsp/refresh', summary: "Fetch fresh OCSP responses for the own certificates now", response: z.object({ ocspAgeSeconds: z.record(z.string(), z.number().nullable()) }) },
  { method: 'patch', path: '/clients/:id', summary: "Set a client's connection type or pinned IS certificates (gateway.yaml, validated whole, swapped in)", body: ClientPatch, response: z.object({}).catchall(z.unknown()) },
  { method: 'patch', path: '/services/:id', summary: "Set a service's base URL, timeout or TLS verification of its provider system", body: ServicePatch, response: z.object({}).catchall(z.unknown()) },
  { method: 'post', path: '/keys/reload', summary: 'Read the keystores again and switch to renewed certificates', response: z.object({ server: z.string(), certificates: z.array(z.object({}).catchall(z.unknown())) }) },
];

let built: object | undefined;

export function gatewayOpenApiDocument(): object {
  built ??= consoleApiDocument({
    title: 'CamDX security server console API',
    description: "Manages one security server, after X-Road's security server admin API. Scripts send the admin token; the console trades it for a session cookie and sends X-CSRF-Token on every change.",
    server: '/api/v1',
    routes: GATEWAY_ROUTES,
    params: { id: 'an identifier, as X-Road writes it (CAMDX:COM:DEMOBANK:ONBOARDING) or URL-encoded' },
    tokenFile: "The gateway state directory's admin-token",
    forbidden: 'Not allowed: a missing or wrong CSRF token',
  });
  return built;
}

/** GET /api/openapi.json. */
export const gatewayOpenApiRoute = (): RequestHandler => (_req, res) => void res.json(gatewayOpenApiDocument());
