import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { consoleGate, type AuditWriter, callerOf } from '../../common/console/gate.js';
import { clearedSessionCookie } from '../../common/console/cookies.js';
import type { LoginLimiter } from '../../common/console/login-limit.js';
import { currentSession, startSession } from '../../common/console/session-routes.js';
import type { SessionStore } from '../../common/console/sessions.js';
import { NEW_CLIENT_SETTINGS } from '../config.js';
import type { GatewayContext } from '../context.js';
import type { ReloadedCertificate } from '../keyring.js';
import { KeyReloadError } from '../keyring.js';
import { queryRecords } from '../admin/records-query.js';
import { bearerMatches } from '../admin/token.js';
import { runDiagnostics } from '../diagnostics/run.js';
import { serviceView, settingsRouter } from './settings-api.js';
import { serviceDescriptionsRouter } from './service-descriptions-api.js';
import { keysRouter } from './keys-api.js';
import { clientsRouter } from './clients-api.js';
import { accessRightsRouter } from './access-rights-api.js';
import { serverStateRouter } from './server-state-api.js';
import { localGroupsRouter } from './local-groups-api.js';
import type { SetupCode, SetupCodeAnswer } from '../bare/setup-code.js';
import { initializedStatus } from '../bare/initialization.js';

export interface GatewayApiDeps {
  readonly ctx: GatewayContext;
  readonly adminToken: string;
  readonly sessions: SessionStore;
  readonly limiter: LoginLimiter;
  readonly audit: AuditWriter;
  readonly reloadKeys: () => Promise<ReloadedCertificate[]>;
}

/** The console trades the admin token for a session (or, on a bare gateway, its one-time setup code); the token never sits in the page. */
export const SignIn = z.union([z.strictObject({ token: z.string().min(1).max(200) }), z.strictObject({ setupCode: z.string().min(1).max(200) })]);
/** A gateway has one operator: whoever holds its admin token. */
const OPERATOR = 'admin-token';

export interface SessionDeps {
  readonly adminToken: string;
  readonly sessions: SessionStore;
  readonly limiter: LoginLimiter;
  readonly audit: AuditWriter;
  /** A bare gateway's setup code (gateway/bare/setup-code.ts); a set-up gateway has none. */
  readonly setupCode?: SetupCode;
}

const SETUP_REFUSED: Record<Exclude<SetupCodeAnswer, 'accepted'>, { status: number; message: string }> = {
  used: { status: 410, message: 'this setup link has been used already, and opens nothing again; sign in with the admin token (the admin-token file in the gateway directory)' },
  expired: {
    status: 410,
    message: 'this setup link expired 15 minutes after the gateway started; sign in with the admin token (the admin-token file in the gateway directory), or restart the gateway for a new link',
  },
  wrong: { status: 401, message: 'wrong setup code: use the link the gateway printed at start, or sign in with the admin token' },
};

/** Which credential opens a session: the admin token, or once the setup code. Undefined: refused, and answered. */
function signInWith(deps: SessionDeps, body: z.infer<typeof SignIn>, address: string, res: Response): 'token' | 'setup code' | undefined {
  if ('token' in body) {
    if (bearerMatches(`Bearer ${body.token}`, deps.adminToken)) return 'token';
    deps.limiter.recordFailure(OPERATOR, address);
    deps.audit('anonymous', 'session.failed', 'console', { address });
    res.status(401).json({ error: 'unauthorized', message: "wrong token: it is the gateway state directory's admin-token file" });
    return undefined;
  }
  const answer = deps.setupCode?.redeem(body.setupCode) ?? 'wrong';
  if (answer === 'accepted') return 'setup code';
  const refusal = deps.setupCode ? SETUP_REFUSED[answer] : { status: 401, message: 'this gateway is set up and takes no setup code; sign in with the admin token' };
  if (answer === 'wrong') deps.limiter.recordFailure(OPERATOR, address);
  deps.audit('anonymous', 'session.refused', 'setup-code', { status: refusal.status, outcome: answer, address });
  res.status(refusal.status).json({ error: answer === 'wrong' ? 'unauthorized' : `setup-code-${answer}`, message: refusal.message });
  return undefined;
}

/** Before the gate: signing in, and whether the cookie still holds a session. */
export function sessionRoutes(deps: SessionDeps): Router {
  const router = Router();
  router.post('/session', express.json({ limit: 4096 }), (req, res) => {
    const parsed = SignIn.safeParse(req.body ?? {});
    if (!parsed.success)
      return void res
        .status(400)
        .json({ error: 'invalid', field: 'token', message: 'sign in with {"token": "<the admin token>"} (or, on a bare gateway, {"setupCode": "<the code in its setup URL>"})' });
    const address = req.socket.remoteAddress ?? 'unknown';
    const wait = deps.limiter.retryAfter(OPERATOR, address);
    if (wait > 0) {
      deps.audit('anonymous', 'session.refused', 'console', { status: 429, address });
      res.set('Retry-After', String(wait));
      return void res.status(429).json({ error: 'too-many-attempts', message: `more than 5 failed sign-ins within a minute from this address; try again in ${wait} s` });
    }
    const credential = signInWith(deps, parsed.data, address, res);
    if (!credential) return;
    deps.audit(OPERATOR, 'session.start', 'console', { address, credential });
    startSession(res, deps.sessions, OPERATOR, 'administrator');
  });
  router.get('/session', currentSession(deps.sessions));
  return router;
}

/** After the gate: `DELETE /session` ends the caller's session and clears its cookie. */
export function signOut(deps: Pick<SessionDeps, 'sessions' | 'audit'>): (req: Request, res: Response) => void {
  return (_req, res) => {
    const caller = callerOf(res);
    if (caller.session) deps.sessions.end(caller.session.id);
    deps.audit(caller.actor, 'session.end', 'console');
    res.append('Set-Cookie', clearedSessionCookie());
    res.status(204).end();
  };
}

/** What the gateway knows of its clients: its configuration's connection types, and the global configuration's registrations. */
function clientsOf(ctx: GatewayContext) {
  const conf = ctx.globalConf.current;
  const here = conf?.securityServers.find((s) => s.id === ctx.config.serverId);
  const registered = new Set(here?.clients ?? []);
  const disabled = new Set(here?.disabledClients ?? []);
  const owner = conf?.members.find((m) => m.id === ctx.config.ownerId);
  const ids = new Set([...Object.keys(ctx.config.clients), ...registered, ...(owner?.subsystems ?? []).map((s) => `${ctx.config.ownerId}/${s}`)]);
  return [...ids].sort().map((id) => {
    const settings = ctx.config.clients[id] ?? NEW_CLIENT_SETTINGS;
    // Disabled in the configuration, or here by the owner before central recorded it.
    const local = ctx.accessOverlay.listClients().find((e) => e.client === id);
    return {
      id,
      connection: settings.connection,
      certificates: settings.certificates.length,
      registered: registered.has(id),
      disabled: disabled.has(id) || local !== undefined,
      ...(local?.refused ? { disableRefused: local.refused } : {}),
    };
  });
}

/**
 * `/api/v1` of a gateway's console listener, after X-Road's security server admin API: the
 * clients, the services it provides, its token certificates, the operational records, and the
 * actions `camdx` calls (OCSP refresh, key reload). Every change is audited.
 */
export function gatewayApiRouter(deps: GatewayApiDeps): Router {
  const { ctx } = deps;
  const router = Router();
  router.use(sessionRoutes(deps));
  router.use(consoleGate({ adminToken: deps.adminToken, sessions: deps.sessions, audit: deps.audit, mount: '/api/v1' }));
  const done = (req: Request, res: Response, status: number, body: unknown, outcome: string) => {
    deps.audit(callerOf(res).actor, `${req.method} /api/v1${req.path}`, ctx.config.serverId, { status, outcome });
    res.status(status).json(body);
  };

  router.delete('/session', signOut(deps));
  router.get('/initialization/status', (_req, res) => void res.json(initializedStatus(ctx.config)));
  router.post('/initialization', (req, res) => done(req, res, 409, { error: 'already-initialized', message: `the gateway is initialised already, as ${ctx.config.serverId}` }, 'refused'));
  router.get('/records', (req, res) => {
    const answer = queryRecords(ctx, new URL(req.originalUrl, 'http://console').searchParams);
    res.status(answer.status).json(answer.body);
  });
  router.get('/clients', (_req, res) => void res.json(clientsOf(ctx)));
  router.get('/services', (_req, res) => {
    const published = new Map((ctx.globalConf.current?.services ?? []).map((s) => [s.id, s]));
    const config = ctx.config;
    res.json(Object.keys(config.services).map((id) => ({ ...serviceView(config, id), endpoints: published.get(id)?.endpoints ?? [], published: published.has(id) })));
  });
  // X-Road's connection tests (ug-ss §14.3), as `camdx gateway doctor` runs them, on the keys and configuration in use.
  router.get('/diagnostics', (_req, res) => {
    const conf = ctx.globalConf.current;
    void runDiagnostics(ctx.config, { clock: ctx.clock, keys: ctx.keys, ...(conf ? { conf } : {}) }).then(
      (checks) => res.json({ ok: checks.every((c) => c.ok), checks }),
      (err: Error) => res.status(500).json({ error: 'diagnostics-failed', message: err.message }),
    );
  });
  router.post('/ocsp/refresh', (req, res) => {
    void ctx.ownOcsp.refresh().then(
      () => done(req, res, 200, { ocspAgeSeconds: ctx.ownOcsp.ages() }, 'refreshed'),
      // The previous responses (if any) stay in use; the ages say how long they last.
      (err: Error) => done(req, res, 502, { error: 'ocsp-unavailable', message: `OCSP refresh failed: ${err.message}`, ocspAgeSeconds: ctx.ownOcsp.ages() }, 'failed'),
    );
  });
  router.post('/keys/reload', (req, res) => {
    void deps.reloadKeys().then(
      (certificates) => done(req, res, 200, { server: ctx.config.serverId, certificates }, 'reloaded'),
      (err: Error) =>
        err instanceof KeyReloadError
          ? done(req, res, err.reason === 'ocsp' ? 502 : 409, { error: `${err.reason}-refused`, message: err.message }, 'refused')
          : done(req, res, 500, { error: 'reload-failed', message: err.message }, 'failed'),
    );
  });
  router.use(settingsRouter({ ctx, audit: deps.audit }));
  router.use(clientsRouter({ ctx, audit: deps.audit }));
  router.use(accessRightsRouter({ ctx, audit: deps.audit }));
  router.use(serverStateRouter({ ctx, audit: deps.audit }));
  router.use(localGroupsRouter({ ctx, audit: deps.audit }));
  router.use(keysRouter({ ctx, audit: deps.audit, reloadKeys: deps.reloadKeys }));
  router.use(serviceDescriptionsRouter({ ctx, audit: deps.audit }));
  router.use(
    (_req, res) =>
      void res
        .status(404)
        .json({ error: 'not-found', message: 'no such console API endpoint (/api/v1: clients, services, token-certificates, records, diagnostics, ocsp/refresh, keys/reload, session)' }),
  );
  return router;
}
