import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { clearedSessionCookie, parseCookies, SESSION_COOKIE } from './cookies.js';
import type { Session, SessionStore } from './sessions.js';

export type Role = 'administrator' | 'observer';

/** Writes one audit record: a sign-in, a refusal or a change (central's audit table, a gateway's audit log). */
export type AuditWriter = (actor: string, action: string, target: string, detail?: Record<string, unknown>) => void;

export interface GateDeps {
  readonly adminToken: string;
  readonly sessions: SessionStore;
  readonly audit: AuditWriter;
  /** Where the gate is mounted (`/api`), for the audit records' targets. */
  readonly mount: string;
  /** Changes an observer may still make (its own sign-out, its own password). */
  readonly observerMay?: (req: Request, caller: Caller) => boolean;
}

/**
 * Who is calling, set on `res.locals.caller` by `apiAuth` for every `/api` route behind it
 * (and its actor and role on `res.locals.actor` and `.role`, which the admin router audits).
 */
export interface Caller {
  readonly actor: string;
  readonly role: Role;
  readonly via: 'admin-token' | 'session';
  readonly session?: Session & { readonly id: string };
}

export const callerOf = (res: Response): Caller => res.locals.caller as Caller;

const ACTOR = /^[A-Za-z0-9._@-]{1,64}$/;
const CHANGES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const ENDED: Record<'unknown' | 'idle' | 'absolute', string> = {
  idle: 'your session ended after 30 minutes idle; sign in again',
  absolute: 'your session ended after 8 hours; sign in again',
  unknown: 'your session has ended (signed out, or the password changed); sign in again',
};

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * A console API's gate (central's `/api`, a gateway's `/api/v1`). Scripts and the CLI send the
 * admin token (audited as `admin-token`, or `admin-token:NAME` with X-CamDX-Actor); the console
 * sends its session cookie, and with every change the session's CSRF token. Roles are enforced
 * here, not by the pages: an observer's change is refused whatever the page shows. Every
 * refusal is audited.
 */
export function consoleGate(deps: GateDeps): RequestHandler {
  const refuse = (req: Request, res: Response, status: 401 | 403, error: string, message: string, actor = 'anonymous') => {
    deps.audit(actor, 'api.refused', `${req.method} ${deps.mount}${req.path}`, { status, error });
    if (status === 401) res.set('WWW-Authenticate', 'Bearer realm="camdx"');
    res.status(status).json({ error, message });
  };

  return (req, res, next) => {
    const authorization = req.get('authorization');
    if (authorization !== undefined) {
      const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
      if (!token || !sameSecret(token, deps.adminToken)) return refuse(req, res, 401, 'unauthorized', "the admin token is wrong (the state directory's admin-token file holds it)");
      const name = req.get('x-camdx-actor');
      if (name !== undefined && !ACTOR.test(name))
        return void res.status(400).json({ error: 'invalid', field: 'X-CamDX-Actor', message: 'X-CamDX-Actor must be 1-64 characters of A-Z a-z 0-9 . _ @ -' });
      return admit(res, next, { actor: name === undefined ? 'admin-token' : `admin-token:${name}`, role: 'administrator', via: 'admin-token' });
    }

    const id = parseCookies(req.get('cookie')).get(SESSION_COOKIE);
    if (!id) return refuse(req, res, 401, 'unauthorized', "sign in at /console, or send Authorization: Bearer <admin token> (the state directory's admin-token file)");
    const found = deps.sessions.touch(id);
    if (!found.ok) {
      res.append('Set-Cookie', clearedSessionCookie());
      return refuse(req, res, 401, 'unauthorized', ENDED[found.reason]);
    }
    const caller: Caller = { actor: found.session.user, role: found.session.role as Role, via: 'session', session: { ...found.session, id } };
    if (CHANGES.has(req.method)) {
      const csrf = req.get('x-csrf-token');
      if (!csrf || !sameSecret(csrf, found.session.csrfToken)) return refuse(req, res, 403, 'csrf', "a change needs the session's X-CSRF-Token header (reload the console)", caller.actor);
      if (caller.role === 'observer' && !deps.observerMay?.(req, caller)) return refuse(req, res, 403, 'forbidden', 'observers may read, not change: ask an administrator', caller.actor);
    }
    admit(res, next, caller);
  };
}

function admit(res: Response, next: NextFunction, caller: Caller): void {
  res.locals.caller = caller;
  res.locals.actor = caller.actor;
  res.locals.role = caller.role;
  next();
}
