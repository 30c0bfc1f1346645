import { Router, type Request, type Response } from 'express';
import type { z } from 'zod';
import type { Logger } from '../../common/log.js';
import { serverAuthSans } from '../../certs/profiles.js';
import { checkPart, parseMemberId, parseSecurityServerId, parseServiceId, parseSubsystemId, type SecurityServerId } from '../../protocol/identifiers.js';
import type { ConfPublisher } from '../globalconf/publisher.js';
import type { ManagementService } from '../management/service.js';
import type { PkiClient } from '../pki-client.js';
import { RegistryError } from '../registry/errors.js';
import type { Subject } from '../registry/access.js';
import type { Registry } from '../registry/registry.js';
import { checkAddress, checkMonitoringUrl } from '../registry/servers.js';
import type { CentralSettings } from '../settings.js';
import { sendError } from './errors.js';
import * as S from './schemas.js';

export interface AdminDeps {
  readonly registry: Registry;
  readonly management: ManagementService;
  readonly publisher: ConfPublisher;
  readonly settings: CentralSettings;
  readonly pki: PkiClient | undefined;
  readonly log: Logger;
}

const ACTOR = /^[A-Za-z0-9._@-]{1,64}$/;

/**
 * Who made a change: whom the API's gate (common/console/gate.ts) let in — a user's name, or
 * `admin-token[:NAME]` — read from the response's locals (express links `req.res`). Mounted
 * without that gate (tests), the admin token holder, optionally naming themselves in X-CamDX-Actor.
 */
function actorOf(req: Request): string {
  const locals = req.res?.locals as { actor?: unknown; caller?: { actor?: unknown } } | undefined;
  const signedIn = locals?.actor ?? locals?.caller?.actor;
  if (typeof signedIn === 'string') return signedIn;
  const name = req.get('x-camdx-actor');
  if (name === undefined) return 'admin-token';
  if (!ACTOR.test(name)) throw new RegistryError('invalid', 'X-CamDX-Actor', 'X-CamDX-Actor must be 1-64 characters of A-Z a-z 0-9 . _ @ -');
  return `admin-token:${name}`;
}

/**
 * GET /audit's query: the paged answer when any of its parameters is given, else the older array
 * (`after`/`limit`, as `camdx central audit` reads it). Empty values are no filter, as a form sends them.
 */
function auditQuery(registry: Registry, query: Record<string, unknown>) {
  const given = Object.fromEntries(Object.entries(query).filter(([, v]) => v !== ''));
  const q = S.AuditQuery.parse(given);
  const paged = q.after === undefined && q.limit === undefined && S.AUDIT_PAGE_PARAMS.some((k) => k in given);
  if (!paged) return registry.audit(q.after ?? 0, q.limit ?? 500);
  const filter = { actor: q.actor, action: q.action, from: q.from === undefined ? undefined : Date.parse(q.from), to: q.to === undefined ? undefined : Date.parse(q.to) };
  return { ...registry.auditPage(filter, q.page, q.pageSize), page: q.page, pageSize: q.pageSize };
}

const join = (...parts: unknown[]) => parts.map(String).join('/');

/** `2 parts` names a global group (INSTANCE/CODE), `4 parts` a subsystem — as X-Road identifiers do. */
function parseSubject(text: string): Subject {
  if (text.split('/').length === 2) {
    const [instance, code] = text.split('/');
    checkPart(instance, 'subject instance');
    return { type: 'GLOBALGROUP', code: checkPart(code, 'subject group code') };
  }
  return { type: 'SUBSYSTEM', id: parseSubsystemId(text, 'subject') };
}

export function adminRouter(deps: AdminDeps): Router {
  const { registry, management, publisher, log } = deps;
  const router = Router();

  /** Wraps a handler: parses its body with `schema`, maps errors, and waits for the new configuration after writes. */
  function handle<T extends z.ZodType>(schema: T | undefined, fn: (body: z.infer<T>, req: Request) => unknown, status = 200) {
    return async (req: Request, res: Response) => {
      try {
        const body = schema ? schema.parse(req.body ?? {}) : undefined;
        const result = await fn(body as z.infer<T>, req);
        if (req.method !== 'GET') await publisher.settled();
        if (result === undefined) res.status(204).end();
        else res.status(status).json(result);
      } catch (err) {
        sendError(res, err, (e) => log.error({ err: { message: (e as Error).message } }, 'admin API failure'));
      }
    };
  }
  const params = (req: Request) => req.params as Record<string, string>;
  const serverParam = (req: Request): SecurityServerId => {
    const p = params(req);
    return parseSecurityServerId(join(p.i, p.c, p.m, p.s), 'server');
  };

  router.get(
    '/members',
    handle(undefined, () => registry.members.list()),
  );
  router.post(
    '/members',
    handle(
      S.AddMember,
      async (body, req) => {
        const id = parseMemberId(body.id, 'id');
        registry.core.checkInstance(id, 'id');
        if (registry.members.list().some((m) => m.id === body.id)) throw new RegistryError('conflict', 'id', `member ${body.id} is already registered`);
        // Enrol first: if the PKI cannot issue the token, nothing is written.
        const enrolment = deps.pki ? { signing: await deps.pki.enrol('member-signing', { ...id, memberName: body.name }) } : undefined;
        const member = registry.members.add(actorOf(req), id, body.name);
        return { member, ...(enrolment ? { enrolment } : {}) };
      },
      201,
    ),
  );
  router.get(
    '/members/:i/:c/:m',
    handle(undefined, (_b, req) => registry.members.get(parseMemberId(join(params(req).i, params(req).c, params(req).m)))),
  );
  router.patch(
    '/members/:i/:c/:m',
    handle(S.RenameMember, (body, req) => registry.members.rename(actorOf(req), parseMemberId(join(params(req).i, params(req).c, params(req).m)), body.name)),
  );
  router.delete(
    '/members/:i/:c/:m',
    handle(undefined, (_b, req) => registry.members.remove(actorOf(req), parseMemberId(join(params(req).i, params(req).c, params(req).m)))),
  );
  router.post(
    '/members/:i/:c/:m/enrolments',
    handle(
      undefined,
      async (_b, req) => {
        const id = parseMemberId(join(params(req).i, params(req).c, params(req).m));
        const member = registry.members.get(id);
        if (!deps.pki) throw new RegistryError('invalid', 'pki', 'this central server has no PKI configured');
        return { signing: await deps.pki.enrol('member-signing', { ...id, memberName: member.name }) };
      },
      201,
    ),
  );

  router.post(
    '/subsystems',
    handle(S.AddSubsystem, (body, req) => ({ id: registry.members.addSubsystem(actorOf(req), parseSubsystemId(body.id, 'id')) }), 201),
  );
  router.delete(
    '/subsystems/:i/:c/:m/:s',
    handle(undefined, (_b, req) => registry.members.removeSubsystem(actorOf(req), parseSubsystemId(join(params(req).i, params(req).c, params(req).m, params(req).s)))),
  );

  const enrolServer = async (id: SecurityServerId, address: string) => {
    if (!deps.pki) return undefined;
    const owner = registry.members.get(id);
    return { auth: await deps.pki.enrol('server-auth', { ...id, memberName: owner.name, serverCode: id.serverCode, ...serverAuthSans(address) }) };
  };
  router.get(
    '/servers',
    handle(undefined, () => registry.servers.list()),
  );
  router.post(
    '/servers',
    handle(
      S.AddServer,
      async (body, req) => {
        const id = parseSecurityServerId(body.id, 'id');
        registry.core.memberRow(id, 'server owner');
        if (registry.core.findServerRow(id) !== undefined) throw new RegistryError('conflict', 'id', `security server ${body.id} is already registered`);
        // Checked before enrolment, so a bad field does not leave an issued token behind.
        checkAddress(body.address);
        if (body.monitoringUrl !== undefined) checkMonitoringUrl(body.monitoringUrl);
        const enrolment = await enrolServer(id, body.address);
        const server = registry.servers.add(actorOf(req), id, body.address, body.monitoringUrl);
        return { server, ...(enrolment ? { enrolment } : {}) };
      },
      201,
    ),
  );
  router.get(
    '/servers/:i/:c/:m/:s',
    handle(undefined, (_b, req) => registry.servers.get(serverParam(req))),
  );
  router.patch(
    '/servers/:i/:c/:m/:s',
    handle(S.UpdateServer, (body, req) =>
      registry.servers.update(actorOf(req), serverParam(req), {
        ...(body.address !== undefined ? { address: body.address } : {}),
        ...(body.monitoringUrl !== undefined ? { monitoringUrl: body.monitoringUrl } : {}),
      }),
    ),
  );
  router.delete(
    '/servers/:i/:c/:m/:s',
    handle(undefined, (_b, req) => registry.servers.remove(actorOf(req), serverParam(req))),
  );
  router.post(
    '/servers/:i/:c/:m/:s/enrolments',
    handle(
      undefined,
      async (_b, req) => {
        const id = serverParam(req);
        const server = registry.servers.get(id);
        if (!deps.pki) throw new RegistryError('invalid', 'pki', 'this central server has no PKI configured');
        return enrolServer(id, server.address);
      },
      201,
    ),
  );
  router.post(
    '/servers/:i/:c/:m/:s/clients',
    handle(S.AddClient, (body, req) => registry.servers.addClient(actorOf(req), serverParam(req), parseSubsystemId(body.client, 'client')), 201),
  );
  router.delete(
    '/servers/:i/:c/:m/:s/clients/:ci/:cc/:cm/:cs',
    handle(undefined, (_b, req) => registry.servers.removeClient(actorOf(req), serverParam(req), parseSubsystemId(join(params(req).ci, params(req).cc, params(req).cm, params(req).cs), 'client'))),
  );
  router.delete(
    '/servers/:i/:c/:m/:s/auth-certs/:hash',
    handle(undefined, (_b, req) => registry.servers.removeAuthCert(actorOf(req), serverParam(req), params(req).hash!)),
  );

  const serviceParam = (req: Request) => {
    const p = params(req);
    return parseServiceId(join(p.i, p.c, p.m, p.s, p.svc), 'service');
  };
  router.get(
    '/services',
    handle(undefined, () => registry.services.list()),
  );
  router.post(
    '/services',
    handle(S.AddService, (body, req) => registry.services.add(actorOf(req), parseServiceId(body.id, 'id'), body), 201),
  );
  router.get(
    '/services/:i/:c/:m/:s/:svc',
    handle(undefined, (_b, req) => registry.services.get(serviceParam(req))),
  );
  router.patch(
    '/services/:i/:c/:m/:s/:svc',
    handle(S.UpdateService, (body, req) => registry.services.update(actorOf(req), serviceParam(req), body)),
  );
  router.delete(
    '/services/:i/:c/:m/:s/:svc',
    handle(undefined, (_b, req) => registry.services.remove(actorOf(req), serviceParam(req))),
  );

  router.get(
    '/groups',
    handle(undefined, () => registry.access.listGroups()),
  );
  router.post(
    '/groups',
    handle(S.AddGroup, (body, req) => registry.access.addGroup(actorOf(req), body.code, body.description), 201),
  );
  router.delete(
    '/groups/:code',
    handle(undefined, (_b, req) => registry.access.removeGroup(actorOf(req), params(req).code!)),
  );
  router.post(
    '/groups/:code/members',
    handle(S.AddGroupMember, (body, req) => registry.access.addGroupMember(actorOf(req), params(req).code!, parseSubsystemId(body.member, 'member')), 201),
  );
  router.delete(
    '/groups/:code/members/:i/:c/:m/:s',
    handle(undefined, (_b, req) => registry.access.removeGroupMember(actorOf(req), params(req).code!, parseSubsystemId(join(params(req).i, params(req).c, params(req).m, params(req).s), 'member'))),
  );

  router.get(
    '/access-rights',
    handle(undefined, () => registry.access.listRights()),
  );
  router.post(
    '/access-rights',
    handle(S.AddRight, (body, req) => registry.access.addRight(actorOf(req), parseSubject(body.subject), parseServiceId(body.service, 'service'), body.method, body.path), 201),
  );
  router.delete(
    '/access-rights/:id',
    handle(undefined, (_b, req) => {
      const id = Number(params(req).id);
      if (!Number.isInteger(id) || id <= 0) throw new RegistryError('invalid', 'id', 'an access right id is a positive whole number');
      return registry.access.removeRight(actorOf(req), id);
    }),
  );

  router.get(
    '/approved-cas',
    handle(undefined, () => registry.trust.listCas()),
  );
  router.post(
    '/approved-cas',
    handle(S.AddCa, (body, req) => registry.trust.addCa(actorOf(req), body), 201),
  );
  router.delete(
    '/approved-cas/:name',
    handle(undefined, (_b, req) => registry.trust.removeCa(actorOf(req), params(req).name!)),
  );
  router.get(
    '/approved-tsas',
    handle(undefined, () => registry.trust.listTsas()),
  );
  router.post(
    '/approved-tsas',
    handle(S.AddTsa, (body, req) => registry.trust.addTsa(actorOf(req), body), 201),
  );
  router.delete(
    '/approved-tsas/:name',
    handle(undefined, (_b, req) => registry.trust.removeTsa(actorOf(req), params(req).name!)),
  );
  router.post(
    '/approved/from-pki',
    handle(
      undefined,
      async (_b, req) => {
        if (!deps.pki) throw new RegistryError('invalid', 'pki', 'this central server has no PKI configured');
        const { ca, tsa } = await deps.pki.trust();
        const actor = actorOf(req);
        const have = { cas: registry.trust.listCas().map((c) => c.name), tsas: registry.trust.listTsas().map((t) => t.name) };
        return {
          approvedCa: have.cas.includes(ca.name) ? 'already approved' : registry.trust.addCa(actor, ca).name,
          approvedTsa: have.tsas.includes(tsa.name) ? 'already approved' : registry.trust.addTsa(actor, tsa).name,
        };
      },
      201,
    ),
  );

  const requestId = (req: Request) => {
    const id = Number(params(req).id);
    if (!Number.isInteger(id) || id <= 0) throw new RegistryError('invalid', 'id', 'a request id is a positive whole number');
    return id;
  };
  router.get(
    '/management-requests',
    handle(undefined, () => registry.requests.list()),
  );
  router.get(
    '/management-requests/:id',
    handle(undefined, (_b, req) => registry.requests.get(requestId(req))),
  );
  router.post(
    '/management-requests/:id/approve',
    handle(undefined, (_b, req) => management.approve(actorOf(req), requestId(req))),
  );
  router.post(
    '/management-requests/:id/decline',
    handle(S.Decline, (body, req) => management.decline(actorOf(req), requestId(req), body.reason ?? null)),
  );

  router.get(
    '/audit',
    handle(undefined, (_b, req) => auditQuery(registry, req.query as Record<string, unknown>)),
  );
  router.get(
    '/globalconf/status',
    handle(undefined, () => ({ version: publisher.current.version, expiresAt: new Date(publisher.current.expiresAt).toISOString() })),
  );
  router.use((_req, res) => {
    res.status(404).json({ error: 'not-found', message: 'no such admin endpoint; the README lists them' });
  });
  return router;
}
