import express, { Router, type Request, type Response } from 'express';
import { clearedSessionCookie } from '../../common/console/cookies.js';
import type { LoginLimiter } from '../../common/console/login-limit.js';
import { hashPassword, verifyPassword, type ScryptCost } from '../../common/console/passwords.js';
import { currentSession, startSession } from '../../common/console/session-routes.js';
import type { SessionStore } from '../../common/console/sessions.js';
import type { Logger } from '../../common/log.js';
import { RegistryError } from '../registry/errors.js';
import type { UserStore } from '../users/store.js';
import { callerOf, type AuditWriter, type Caller } from '../../common/console/gate.js';
import { sendError } from './errors.js';
import { AddUser, SetPassword, SignIn } from './user-schemas.js';

export interface UsersDeps {
  readonly users: UserStore;
  readonly sessions: SessionStore;
  readonly limiter: LoginLimiter;
  readonly audit: AuditWriter;
  readonly log: Logger;
  /** Lower only in tests; the default is common/console/passwords' production cost. */
  readonly scryptCost?: ScryptCost;
}

/** Compared against when the name is unknown, so a wrong name costs as long as a wrong password. */
let decoyHash: Promise<string> | undefined;

function guarded(log: Logger, fn: (req: Request, res: Response) => Promise<unknown> | unknown) {
  return async (req: Request, res: Response) => {
    try {
      await fn(req, res);
    } catch (err) {
      sendError(res, err, (e) => log.error({ err: { message: (e as Error).message } }, 'console user API failure'));
    }
  };
}

/**
 * Signing in and out, before the API's gate (`apiAuth`): `POST /session` checks a name and
 * password, `GET /session` tells the page whether its cookie still holds a session.
 */
export function sessionRouter(deps: UsersDeps): Router {
  const router = Router();
  router.post(
    '/session',
    express.json({ limit: 16 * 1024 }),
    guarded(deps.log, async (req, res) => {
      const { name, password } = SignIn.parse(req.body ?? {});
      const address = req.socket.remoteAddress ?? 'unknown';
      const wait = deps.limiter.retryAfter(name, address);
      if (wait > 0) {
        deps.audit(name, 'session.refused', 'console', { status: 429, address });
        res.set('Retry-After', String(wait));
        return void res.status(429).json({ error: 'too-many-attempts', message: `more than 5 failed sign-ins within a minute for this name or address; try again in ${wait} s` });
      }
      const user = deps.users.find(name);
      decoyHash ??= hashPassword('decoy', deps.scryptCost);
      const ok = await verifyPassword(password, user?.passwordHash ?? (await decoyHash));
      if (!user || !ok) {
        deps.limiter.recordFailure(name, address);
        deps.audit(name, 'session.failed', 'console', { address });
        return void res.status(401).json({ error: 'unauthorized', message: 'wrong user name or password' });
      }
      deps.audit(user.name, 'session.start', 'console', { role: user.role, address });
      startSession(res, deps.sessions, user.name, user.role);
    }),
  );
  router.get('/session', currentSession(deps.sessions));
  return router;
}

/** Behind `apiAuth`: signing out, and the users themselves (administrators, or the admin token for the first user). */
export function usersRouter(deps: UsersDeps): Router {
  const router = Router();
  const route = (fn: (req: Request, res: Response, caller: Caller) => Promise<unknown> | unknown) => guarded(deps.log, (req, res) => fn(req, res, callerOf(res)));
  /** The admin token bootstraps the first user and nothing after: people then manage people. */
  const requireAdministrator = (req: Request, caller: Caller, bootstrap = false) => {
    const refusal =
      caller.via === 'admin-token' && !(bootstrap && deps.users.count() === 0)
        ? 'the admin token only adds the first user; sign in as an administrator (or use camdx central user … --as NAME)'
        : caller.role !== 'administrator'
          ? 'only administrators manage users'
          : undefined;
    if (refusal === undefined) return;
    deps.audit(caller.actor, 'api.refused', `${req.method} /api${req.path}`, { status: 403, error: 'forbidden' });
    throw new RegistryError('forbidden', 'role', refusal);
  };

  router.delete(
    '/session',
    route((_req, res, caller) => {
      if (caller.session) deps.sessions.end(caller.session.id);
      deps.audit(caller.actor, 'session.end', 'console');
      res.append('Set-Cookie', clearedSessionCookie());
      res.status(204).end();
    }),
  );
  router.get(
    '/users',
    route((req, res, caller) => {
      requireAdministrator(req, caller, true);
      res.json(deps.users.list());
    }),
  );
  router.post(
    '/users',
    route(async (req, res, caller) => {
      requireAdministrator(req, caller, true);
      const body = AddUser.parse(req.body ?? {});
      const user = deps.users.add(body.name, body.role, await hashPassword(body.password, deps.scryptCost));
      deps.audit(caller.actor, 'user.add', body.name, { role: body.role });
      res.status(201).json(user);
    }),
  );
  router.delete(
    '/users/:name',
    route((req, res, caller) => {
      requireAdministrator(req, caller);
      const name = String(req.params.name);
      deps.users.remove(name);
      deps.sessions.endAllFor(name);
      deps.audit(caller.actor, 'user.remove', name);
      res.status(204).end();
    }),
  );
  router.put(
    '/users/:name/password',
    route(async (req, res, caller) => {
      const name = String(req.params.name);
      if (caller.actor !== name) requireAdministrator(req, caller);
      const { password } = SetPassword.parse(req.body ?? {});
      deps.users.setPassword(name, await hashPassword(password, deps.scryptCost));
      // Every session of that user ends, the caller's own too: a changed password signs everyone out.
      deps.sessions.endAllFor(name);
      deps.audit(caller.actor, 'user.password', name);
      if (caller.actor === name) res.append('Set-Cookie', clearedSessionCookie());
      res.status(204).end();
    }),
  );
  return router;
}
