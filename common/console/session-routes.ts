import type { RequestHandler, Response } from 'express';
import { parseCookies, sessionCookie, SESSION_COOKIE } from './cookies.js';
import { ABSOLUTE_MS, type Session, type SessionStore } from './sessions.js';

/** What a console page learns of its session: who, the CSRF token its changes carry, and when it ends. */
export const sessionView = (s: Pick<Session, 'user' | 'role' | 'csrfToken' | 'expiresAt'>) => ({ name: s.user, role: s.role, csrfToken: s.csrfToken, expiresAt: new Date(s.expiresAt).toISOString() });

/** A sign-in that passed: a new session, its cookie, and 201 with its view. */
export function startSession(res: Response, sessions: SessionStore, user: string, role: string): void {
  const { id, session } = sessions.create(user, role);
  res.append('Set-Cookie', sessionCookie(id, { maxAgeSeconds: ABSOLUTE_MS / 1000 }));
  res.status(201).json(sessionView(session));
}

/** `GET /session`: whether the cookie still holds a session (a page's probe, not audited). */
export const currentSession =
  (sessions: SessionStore): RequestHandler =>
  (req, res) => {
    const id = parseCookies(req.get('cookie')).get(SESSION_COOKIE);
    const found = id ? sessions.touch(id) : undefined;
    if (!found?.ok) return void res.status(401).json({ error: 'unauthorized', message: found ? 'your session has ended; sign in again' : 'not signed in' });
    res.json(sessionView(found.session));
  };
