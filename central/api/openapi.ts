import type { RequestHandler } from 'express';
import { z } from 'zod';
import { consoleApiDocument, type ApiRoute } from '../../common/console/openapi.js';
import * as R from './response-schemas.js';
import * as S from './schemas.js';
import { AddUser, SetPassword, SignIn } from './user-schemas.js';

/**
 * The admin API's OpenAPI 3.1 document, served by the console listener at /api/openapi.json.
 * Request bodies are the zod schemas the routes validate with (schemas.ts, user-schemas.ts),
 * so the document cannot drift from the checks; test/central/admin-openapi.test.ts holds the
 * route list below equal to what admin.ts and users.ts register.
 */

type Route = ApiRoute;

/** What each path parameter is: X-Road identifiers travel as their parts. */
const PARAMS: Record<string, string> = {
  i: 'instance (as in CAMDX)',
  c: 'member class',
  m: 'member code',
  s: 'subsystem or server code',
  svc: 'service code',
  ci: "client's instance",
  cc: "client's member class",
  cm: "client's member code",
  cs: "client's subsystem code",
  hash: 'SHA-256 (hex) of the authentication certificate',
  code: 'global group code',
  id: 'numeric id',
  name: 'name',
};

const list = (schema: z.ZodType) => z.array(schema);
const member = '/members/:i/:c/:m';
const server = '/servers/:i/:c/:m/:s';
const service = '/services/:i/:c/:m/:s/:svc';

export const ADMIN_ROUTES: readonly Route[] = [
  { method: 'get', path: '/members', summary: 'List members and their subsystems', response: list(R.Member) },
  {
    method: 'post',
    path: '/members',
    summary: 'Add a member (and enrol its signing key)',
    body: S.AddMember,
    status: 201,
    response: z.object({ member: R.Member, enrolment: z.object({ signing: R.Enrolment }).optional() }),
  },
  { method: 'get', path: member, summary: 'Show a member', response: R.Member },
  { method: 'patch', path: member, summary: 'Rename a member', body: S.RenameMember, response: R.Member },
  { method: 'delete', path: member, summary: 'Remove a member' },
  { method: 'post', path: `${member}/enrolments`, summary: "A new enrolment token for the member's signing key", status: 201, response: z.object({ signing: R.Enrolment }) },
  { method: 'post', path: '/subsystems', summary: 'Add a subsystem', body: S.AddSubsystem, status: 201, response: z.object({ id: z.string() }) },
  { method: 'delete', path: '/subsystems/:i/:c/:m/:s', summary: 'Remove a subsystem' },
  { method: 'get', path: '/servers', summary: 'List security servers', response: list(R.Server) },
  {
    method: 'post',
    path: '/servers',
    summary: 'Add a security server (and enrol its authentication key)',
    body: S.AddServer,
    status: 201,
    response: z.object({ server: R.Server, enrolment: z.object({ auth: R.Enrolment }).optional() }),
  },
  { method: 'get', path: server, summary: 'Show a security server', response: R.Server },
  { method: 'patch', path: server, summary: "Change a server's address or monitoring URL", body: S.UpdateServer, response: R.Server },
  { method: 'delete', path: server, summary: 'Remove a security server' },
  { method: 'post', path: `${server}/enrolments`, summary: "A new enrolment token for the server's authentication key", status: 201, response: z.object({ auth: R.Enrolment }) },
  { method: 'post', path: `${server}/clients`, summary: 'Register a client subsystem on the server', body: S.AddClient },
  { method: 'delete', path: `${server}/clients/:ci/:cc/:cm/:cs`, summary: 'Unregister a client subsystem' },
  { method: 'delete', path: `${server}/auth-certs/:hash`, summary: 'Remove an authentication certificate' },
  { method: 'get', path: '/services', summary: 'List services', response: list(R.Service) },
  { method: 'post', path: '/services', summary: 'Add a service with its endpoints', body: S.AddService, status: 201, response: R.Service },
  { method: 'get', path: service, summary: 'Show a service', response: R.Service },
  { method: 'patch', path: service, summary: "Change a service's endpoints, OpenAPI document or timestamping", body: S.UpdateService, response: R.Service },
  { method: 'delete', path: service, summary: 'Remove a service' },
  { method: 'get', path: '/groups', summary: 'List global groups', response: list(R.Group) },
  { method: 'post', path: '/groups', summary: 'Add a global group', body: S.AddGroup, status: 201, response: R.Group },
  { method: 'delete', path: '/groups/:code', summary: 'Remove a global group' },
  { method: 'post', path: '/groups/:code/members', summary: 'Add a subsystem to a global group', body: S.AddGroupMember },
  { method: 'delete', path: '/groups/:code/members/:i/:c/:m/:s', summary: 'Remove a subsystem from a global group' },
  { method: 'get', path: '/access-rights', summary: 'List access rights', response: list(R.AccessRight) },
  { method: 'post', path: '/access-rights', summary: 'Grant a subsystem or global group a service, narrowed to a method and path', body: S.AddRight, status: 201, response: R.AccessRight },
  { method: 'delete', path: '/access-rights/:id', summary: 'Revoke an access right' },
  { method: 'get', path: '/approved-cas', summary: 'List approved certification authorities', response: list(R.ApprovedCa) },
  { method: 'post', path: '/approved-cas', summary: 'Approve a certification authority', body: S.AddCa, status: 201, response: R.ApprovedCa },
  { method: 'delete', path: '/approved-cas/:name', summary: 'Withdraw an approved CA' },
  { method: 'get', path: '/approved-tsas', summary: 'List approved timestamping authorities', response: list(R.ApprovedTsa) },
  { method: 'post', path: '/approved-tsas', summary: 'Approve a timestamping authority', body: S.AddTsa, status: 201, response: R.ApprovedTsa },
  { method: 'delete', path: '/approved-tsas/:name', summary: 'Withdraw an approved TSA' },
  { method: 'post', path: '/approved/from-pki', summary: "Approve the simulation PKI's CA and TSA", status: 201, response: z.object({ approvedCa: z.string(), approvedTsa: z.string() }) },
  { method: 'get', path: '/management-requests', summary: "List management requests, each with its signatures' certificates", response: list(R.ManagementRequest) },
  { method: 'get', path: '/management-requests/:id', summary: "Show a management request with its signatures' certificates", response: R.ManagementRequest },
  { method: 'post', path: '/management-requests/:id/approve', summary: 'Approve a pending management request', response: R.ManagementRequest },
  { method: 'post', path: '/management-requests/:id/decline', summary: 'Decline a pending management request, with a reason', body: S.Decline, response: R.ManagementRequest },
  {
    method: 'get',
    path: '/audit',
    summary: 'The audit trail: a page filtered by actor, action and time (newest first); or, with after/limit or no parameters, the records after an id (oldest first)',
    query: S.AuditQuery,
    response: z.union([R.AuditPage, list(R.AuditRecord)]),
  },
  { method: 'get', path: '/globalconf/status', summary: 'The current global configuration version', response: R.GlobalConfStatus },
];

/** central/api/users.ts: signing in and out, and the console's users (administrators only). */
export const USER_ROUTES: readonly Route[] = [
  { method: 'post', path: '/session', summary: 'Sign in; sets the camdx_session cookie', body: SignIn, status: 201, response: R.Session, open: true },
  { method: 'get', path: '/session', summary: 'The current session, if the cookie holds one', response: R.Session, open: true },
  { method: 'delete', path: '/session', summary: 'Sign out' },
  { method: 'get', path: '/users', summary: 'List users', response: list(R.User) },
  { method: 'post', path: '/users', summary: 'Add a user (with the admin token: only the first)', body: AddUser, status: 201, response: R.User },
  { method: 'delete', path: '/users/:name', summary: 'Remove a user and end their sessions' },
  { method: 'put', path: '/users/:name/password', summary: "Set a user's password (one's own, or as an administrator); ends that user's sessions", body: SetPassword },
];

export { openApiPath } from '../../common/console/openapi.js';

let built: object | undefined;

/** Built once: the schemas do not change while central runs. */
export function adminOpenApiDocument(): object {
  built ??= consoleApiDocument({
    title: 'CamDX central server admin API',
    description:
      'Manages the registry the global configuration is published from. Scripts send the admin token (audited as admin-token, or admin-token:NAME with ' +
      'X-CamDX-Actor); the console signs in and sends its session cookie, with X-CSRF-Token on every change.',
    server: '/api',
    routes: [...ADMIN_ROUTES, ...USER_ROUTES],
    params: PARAMS,
    tokenFile: "The state directory's central/admin-token",
    forbidden: 'Not allowed: an observer, a missing CSRF token, or the token after the first user',
  });
  return built;
}

/** GET /api/openapi.json. */
export const openApiRoute = (): RequestHandler => (_req, res) => void res.json(adminOpenApiDocument());
