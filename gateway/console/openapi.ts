import type { RequestHandler } from 'express';
import { z } from 'zod';
import { consoleApiDocument, type ApiRoute } from '../../common/console/openapi.js';
import { SignIn } from './api.js';
import { ClientPatch, ServicePatch } from './settings-api.js';
import { AccessRightBody } from './access-rights-api.js';
import { LocalGroupBody, LocalGroupIdBody, LocalGroupMemberBody } from './local-groups-api.js';
import { AddressChangeBody, MaintenanceBody } from './server-state-api.js';
import { ClientAdd, ClientRegistration } from './clients-api.js';
import { ServiceDescriptionAdd, ServiceDescriptionRefresh } from './service-descriptions-api.js';
import { Initialization } from '../bare/initialization.js';
import { CertificateImport, CertificateRequest, CsrGenerate, NewKey } from './keys-api.js';

/**
 * The gateway console API's OpenAPI 3.1 document, served at /api/openapi.json. Request bodies
 * are the zod schemas the routes validate with; test/gateway/console-openapi.test.ts holds the
 * route list equal to what the /api/v1 routers register.
 */

const Session = z.object({ name: z.string(), role: z.string(), csrfToken: z.string(), expiresAt: z.string() }).meta({ id: 'Session' });
const Client = z
  .object({
    id: z.string(),
    connection: z.enum(['HTTP', 'HTTPS', 'HTTPS_NO_AUTH']),
    certificates: z.number().int(),
    registered: z.boolean(),
    disabled: z.boolean(),
    disableRefused: z.string().optional().describe("central's reason, when it refused a disable this gateway applies anyway"),
  })
  .meta({ id: 'Client' });
const Endpoint = z.object({ method: z.string(), path: z.string() });
const Service = z
  .object({
    id: z.string(),
    url: z.string(),
    timeoutMs: z.number().nullable(),
    effectiveTimeoutMs: z.number(),
    tls: z.object({ verify: z.boolean(), caFile: z.string().nullable() }),
    endpoints: z.array(Endpoint),
    published: z.boolean(),
  })
  .meta({ id: 'Service' });
const ServiceDescription = z
  .object({
    serviceId: z.string(),
    url: z.string().nullable(),
    endpoints: z.array(Endpoint),
    status: z.enum(['in progress', 'published', 'not published']),
    requestId: z.number().int().optional(),
    change: z.string().optional(),
  })
  .meta({ id: 'ServiceDescription' });
const EndpointDiffView = z.object({
  added: z.array(Endpoint),
  removed: z.array(Endpoint),
  kept: z.array(Endpoint),
  rightsOnRemoved: z.array(z.object({ right: z.object({ subject: z.string(), method: z.string(), path: z.string() }), endpoint: Endpoint })),
  applied: z.boolean(),
  status: z.string().optional(),
  requestId: z.number().int().optional(),
});
const Certificate = z.object({
  subject: z.string(),
  issuer: z.string(),
  serial: z.string(),
  notBefore: z.string(),
  notAfter: z.string(),
  ocsp: z.object({ ageSeconds: z.number().nullable(), good: z.boolean() }),
});
const InitializationStatus = z
  .object({
    anchorImported: z.boolean(),
    serverOwnerInitialized: z.boolean(),
    serverCodeInitialized: z.boolean(),
    serverId: z.string().nullable(),
    certificates: z.object({ auth: z.boolean(), signing: z.boolean() }),
    authCertRegistered: z.boolean(),
    ready: z.boolean(),
    step: z.enum(['owner', 'certificates', 'registration', 'ready']),
    next: z.string(),
  })
  .meta({ id: 'InitializationStatus' });
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
  {
    method: 'get',
    path: '/initialization/status',
    summary: "How far the set-up is (X-Road's initial configuration, then certificates and registration); a bare gateway (camdx gateway run --new) opens its consumer and peer ports at ready",
    response: InitializationStatus,
  },
  {
    method: 'post',
    path: '/initialization',
    summary: "A bare gateway's owner member and server code (writes gateway.yaml); 409 once set",
    body: Initialization,
    status: 201,
    response: InitializationStatus.extend({ warnings: z.array(z.string()) }),
  },
  { method: 'get', path: '/records', summary: 'Operational records', query: RecordsQuery, response: Records },
  { method: 'get', path: '/clients', summary: "The owner's subsystems and this server's clients: connection type, pinned certificates, registration", response: z.array(Client) },
  { method: 'get', path: '/services', summary: 'The services this gateway provides: base URL and published endpoints', response: z.array(Service) },
  {
    method: 'get',
    path: '/token-certificates',
    summary: 'The authentication and signing certificates in use, with OCSP status (a bare gateway in set-up: those imported so far)',
    response: z.object({ auth: Certificate.optional(), signing: Certificate.optional() }),
  },
  {
    method: 'get',
    path: '/diagnostics',
    summary: "X-Road's connection tests: central, configuration, OCSP, TSA, peers, own services",
    response: z.object({ ok: z.boolean(), checks: z.array(Check) }),
  },
  { method: 'post', path: '/ocsp/refresh', summary: 'Fetch fresh OCSP responses for the own certificates now', response: z.object({ ocspAgeSeconds: z.record(z.string(), z.number().nullable()) }) },
  {
    method: 'post',
    path: '/clients',
    summary:
      'Add a subsystem of the owner as a client (gateway.yaml, validated whole; connection HTTPS unless given, with its pinned IS certificates) and send ' +
      'registerClient to central; undone if central refuses',
    body: ClientAdd,
    status: 201,
    response: ClientRegistration,
  },
  { method: 'post', path: '/clients/:id/register', summary: "Send registerClient to central again for a client of this gateway, signed by the owner's signing key", response: ClientRegistration },
  {
    method: 'patch',
    path: '/clients/:id',
    summary: "Set a client's connection type or pinned IS certificates (gateway.yaml, validated whole, swapped in)",
    body: ClientPatch,
    response: z.object({}).catchall(z.unknown()),
  },
  { method: 'patch', path: '/services/:id', summary: "Set a service's base URL, timeout or TLS verification of its provider system", body: ServicePatch, response: z.object({}).catchall(z.unknown()) },
  {
    method: 'post',
    path: '/keys/reload',
    summary: 'Read the keystores again and switch to renewed certificates',
    response: z.object({ server: z.string(), certificates: z.array(z.object({}).catchall(z.unknown())) }),
  },
  {
    method: 'get',
    path: '/keys',
    summary: 'The keys in use (with their certificates: expiry, OCSP, registration) and those waiting for a certificate',
    response: z.array(z.object({}).catchall(z.unknown())),
  },
  {
    method: 'post',
    path: '/keys',
    summary: 'A new auth or signing key, waiting for its certificate (<stateDir>/pending-<role>.key)',
    body: NewKey,
    status: 201,
    response: z.object({ id: z.string(), role: z.string(), keyType: z.string() }),
  },
  {
    method: 'post',
    path: '/keys/:id/csrs',
    summary: "The pending key's CSR (PEM); its subject is this gateway's owner (and server) only",
    body: CsrGenerate,
    status: 201,
    response: z.object({ id: z.string(), role: z.string(), subject: z.string(), csr: z.string() }),
  },
  {
    method: 'post',
    path: '/keys/:id/certificate-requests',
    summary: "Send the pending key's CSR with an enrolment token to the RA; answers the certificate (PEM chain)",
    body: CertificateRequest,
    status: 201,
    response: z.object({ id: z.string(), role: z.string(), serial: z.string(), notAfter: z.string(), certificate: z.string() }),
  },
  {
    method: 'post',
    path: '/token-certificates',
    summary: "Import a pending key's certificate with gateway init's checks (key, role, member, approved CA, OCSP good); the keystore is swapped and the gateway switches",
    body: CertificateImport,
    status: 201,
    response: z.object({}).catchall(z.unknown()),
  },
  {
    method: 'post',
    path: '/token-certificates/:hash/register',
    summary: 'registerAuthCert with central for the authentication certificate in use',
    response: z.object({ hash: z.string(), server: z.string(), address: z.string(), outcome: z.string() }),
  },
  {
    method: 'get',
    path: '/service-descriptions',
    summary: "The services this gateway provides from OpenAPI documents, each with its endpoints and status ('in progress' until the global configuration carries the last change)",
    response: z.array(ServiceDescription),
  },
  {
    method: 'post',
    path: '/service-descriptions',
    summary:
      "Add a service of the owner's from its OpenAPI 3.0/3.1 document (uploaded, or fetched once from url: http(s), at most 10 MB, 10 s, no redirects): base " +
      'URL into gateway.yaml, serviceAdd to central',
    body: ServiceDescriptionAdd,
    status: 201,
    response: ServiceDescription,
  },
  {
    method: 'post',
    path: '/service-descriptions/:id/refresh',
    summary: 'The endpoint diff a new document makes (added, removed, kept, rights naming a removed endpoint); with apply, serviceUpdate to central, refused while such rights remain',
    body: ServiceDescriptionRefresh,
    response: EndpointDiffView,
  },
  { method: 'delete', path: '/service-descriptions/:id', summary: 'serviceRemove to central; the service leaves gateway.yaml once central accepts it', response: ServiceDescription },
  {
    method: 'get',
    path: '/access-rights',
    summary: "The rights on this gateway's services as the configuration carries them (with their origin, and whether withdrawn here), and the withdrawals central has not recorded yet",
    response: z.object({
      rights: z.array(z.object({}).catchall(z.unknown())),
      withdrawals: z.array(z.object({}).catchall(z.unknown())),
      pending: z.array(z.object({}).catchall(z.unknown())).describe('grants sent that the configuration does not carry yet: in progress'),
    }),
  },
  {
    method: 'post',
    path: '/access-rights',
    summary: "Grant a subsystem a right on one of this gateway's services (all of it, or one method and path): a signed accessRightAdd to central",
    body: AccessRightBody,
    status: 201,
    response: z.object({}).catchall(z.unknown()),
  },
  {
    method: 'delete',
    path: '/access-rights',
    summary: 'Revoke a right: denied here at once (kept across restarts), accessRightRemove sent now and each poll until central records it',
    body: AccessRightBody,
    response: z.object({}).catchall(z.unknown()),
  },
  {
    method: 'delete',
    path: '/access-rights/withdrawals',
    summary: "End a withdrawal here (one central refused, say): the configuration's rights apply again",
    body: AccessRightBody,
    response: z.object({}).catchall(z.unknown()),
  },
  {
    method: 'get',
    path: '/maintenance',
    summary: 'Whether the polled configuration lists this server in maintenance mode, with its message',
    response: z.object({ server: z.string(), maintenance: z.boolean(), message: z.string().nullable() }),
  },
  {
    method: 'post',
    path: '/maintenance',
    summary: "maintenanceModeEnable to central (applied at once): callers' gateways skip this server, or answer Server.ClientProxy.MaintenanceMode with the message",
    body: MaintenanceBody,
    status: 201,
    response: z.object({}).catchall(z.unknown()),
  },
  { method: 'delete', path: '/maintenance', summary: 'maintenanceModeDisable to central: back in service', response: z.object({}).catchall(z.unknown()) },
  {
    method: 'put',
    path: '/server/address',
    summary: 'addressChange to central: peers connect to the new address from the next poll (they pin the certificate, not the name)',
    body: AddressChangeBody,
    status: 201,
    response: z.object({}).catchall(z.unknown()),
  },
  {
    method: 'delete',
    path: '/token-certificates/:hash',
    summary: 'authCertDeletion to central: the registered authentication certificate with this SHA-256 is deleted; peers refuse it from the next poll',
    status: 201,
    response: z.object({}).catchall(z.unknown()),
  },
  { method: 'delete', path: '/clients/:id', summary: 'clientDeletion to central: the client leaves this server in the registry', status: 201, response: z.object({}).catchall(z.unknown()) },
  {
    method: 'post',
    path: '/clients/:id/disable',
    summary: 'clientDisable to central (applied at once): the client can neither call (Client.ClientNotRegistered) nor be called (Server.ServerProxy.ServiceDisabled)',
    response: z.object({}).catchall(z.unknown()),
  },
  {
    method: 'post',
    path: '/clients/:id/enable',
    summary: 'clientEnable to central: the disabled client back in service (refused when it is not disabled)',
    response: z.object({}).catchall(z.unknown()),
  },
  {
    method: 'get',
    path: '/local-groups',
    summary: "The local groups of this server's clients as the configuration carries them, members withdrawn here, and requests in progress",
    response: z.object({ groups: z.array(z.object({}).catchall(z.unknown())), withdrawals: z.array(z.object({}).catchall(z.unknown())), pending: z.array(z.object({}).catchall(z.unknown())) }),
  },
  {
    method: 'post',
    path: '/local-groups',
    summary: "Make a local group of one of this server's clients: a signed localGroupAdd",
    body: LocalGroupBody,
    status: 201,
    response: z.object({}).catchall(z.unknown()),
  },
  {
    method: 'delete',
    path: '/local-groups',
    summary: 'Remove a local group no right names: a signed localGroupRemove',
    body: LocalGroupIdBody,
    status: 201,
    response: z.object({}).catchall(z.unknown()),
  },
  {
    method: 'post',
    path: '/local-groups/members',
    summary: 'Add a subsystem to a local group: a signed localGroupMemberAdd',
    body: LocalGroupMemberBody,
    status: 201,
    response: z.object({}).catchall(z.unknown()),
  },
  {
    method: 'delete',
    path: '/local-groups/members',
    summary: 'Take a subsystem out of a local group: denied here at once, localGroupMemberRemove sent now and each poll until central records it',
    body: LocalGroupMemberBody,
    response: z.object({}).catchall(z.unknown()),
  },
  {
    method: 'post',
    path: '/access-rights/withdrawals/resend',
    summary: 'Send the pending removals to central now, instead of at the next poll',
    response: z.object({ sent: z.array(z.object({}).catchall(z.unknown())) }),
  },
];

let built: object | undefined;

export function gatewayOpenApiDocument(): object {
  built ??= consoleApiDocument({
    title: 'CamDX security server console API',
    description:
      "Manages one security server, after X-Road's security server admin API. Scripts send the admin token; the console trades it for a session cookie and sends X-CSRF-Token on every change.",
    server: '/api/v1',
    routes: GATEWAY_ROUTES,
    params: { id: 'an identifier, as X-Road writes it (CAMDX:COM:DEMOBANK:ONBOARDING) or URL-encoded', hash: "a certificate's SHA-256 (hex)" },
    tokenFile: "The gateway state directory's admin-token",
    forbidden: 'Not allowed: a missing or wrong CSRF token',
  });
  return built;
}

/** GET /api/openapi.json. */
export const gatewayOpenApiRoute = (): RequestHandler => (_req, res) => void res.json(gatewayOpenApiDocument());
