import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { limitConnections, listenerOptions } from '../common/listen.js';
import express, { type Request, type Response } from 'express';
import { escapeHtml as esc } from '../common/html.js';
import { baseUrl, close, listen } from '../common/http.js';
import type { Logger } from '../common/log.js';
import type { CamDigiKeyClient } from '../members/camdigikey/client/client.js';

/**
 * Demo Bank's customer web site, the relying party of the QR-login demo. Everything it asks of
 * other members goes through Demo Bank's own gateway as CAMDX/COM/DEMOBANK/ONBOARDING:
 * CamDigiKey for the login and the user's identity, then MOI's KYC check of that identity.
 */
export interface DemoBankOptions {
  readonly host: string;
  readonly port: number;
  /** Public origin of this site; CamDigiKey sends the browser back to `<origin>/callback`. */
  readonly origin: string;
  /** A CamDigiKey client that talks through Demo Bank's gateway. */
  readonly camdigikey: CamDigiKeyClient;
  /** `http://…/r1/CAMDX/GOV/MOI/KYC/kyc` on Demo Bank's gateway. */
  readonly kycUrl: string;
  readonly xroadClient: string;
  readonly log: Logger;
  /** A login (started or completed) ends after this long without a request; default 30 min. */
  readonly idleTimeoutMs?: number;
  /** Milliseconds since the epoch; tests move it to expire logins. */
  readonly clock?: () => number;
}

/** A login this browser started: the `state` CamDigiKey must send back with its answer. */
interface PendingLogin {
  readonly state: string;
  lastSeen: number;
}

interface Session {
  accessToken: string;
  profile: Record<string, unknown>;
  kyc: string;
  lastSeen: number;
}

export const DEMO_BANK_IDLE_TIMEOUT_MS = 30 * 60_000;
/** Bounds what a flood of "log in" clicks can make the site remember. */
const MAX_PENDING_LOGINS = 10_000;

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#123}
table{border-collapse:collapse}td{padding:.2rem .8rem .2rem 0}button{font-size:1rem;padding:.5rem 1rem}.muted{color:#567}</style>
</head><body><p class="muted">Demo Bank Plc · a CamDX member (CAMDX/COM/DEMOBANK)</p>${body}</body></html>`;
}

const cookie = (req: Request, name: string) => new RegExp(`(?:^|;\\s*)${name}=([A-Za-z0-9_-]{1,64})(?:;|$)`).exec(req.get('cookie') ?? '')?.[1];
const sameText = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
const newId = () => randomBytes(18).toString('base64url');

/**
 * What the site remembers per browser, each entry under a random cookie value and forgotten
 * after `idleMs` without use (looked at lazily, and swept whenever a new entry is added).
 */
class IdleMap<T extends { lastSeen: number }> {
  private readonly entries = new Map<string, T>();

  constructor(
    private readonly idleMs: number,
    private readonly clock: () => number,
    private readonly max = Number.POSITIVE_INFINITY,
  ) {}

  add(value: T): string {
    const now = this.clock();
    for (const [id, v] of this.entries) if (now - v.lastSeen > this.idleMs) this.entries.delete(id);
    while (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    const id = newId();
    this.entries.set(id, value);
    return id;
  }

  /** The live entry, its idle time restarted; an expired one is forgotten. */
  touch(id: string | undefined): T | undefined {
    const v = id ? this.entries.get(id) : undefined;
    if (!v) return undefined;
    const now = this.clock();
    if (now - v.lastSeen > this.idleMs) return void this.entries.delete(id!);
    v.lastSeen = now;
    return v;
  }

  /** The live entry, removed: a pending login is answered once. */
  take(id: string | undefined): T | undefined {
    const v = this.touch(id);
    if (v) this.entries.delete(id!);
    return v;
  }
}

export async function startDemoBank(o: DemoBankOptions): Promise<{ url: string; stop(): Promise<void> }> {
  const clock = o.clock ?? Date.now;
  const idleMs = o.idleTimeoutMs ?? DEMO_BANK_IDLE_TIMEOUT_MS;
  const sessions = new IdleMap<Session>(idleMs, clock);
  const pending = new IdleMap<PendingLogin>(idleMs, clock, MAX_PENDING_LOGINS);
  const cookieFlags = `HttpOnly; SameSite=Lax; Path=/; Max-Age=${Math.ceil(idleMs / 1000)}`;
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  const failed = (res: Response, status: number, reason: string) =>
    void res
      .status(status)
      .type('html')
      .send(page('Demo Bank', `<h1>Login failed</h1><p>${esc(reason)}</p><p><a href="/">Try again</a></p>`));

  app.get('/', (req: Request, res: Response) => {
    if (sessions.touch(cookie(req, 'sid'))) return void res.redirect('/account');
    res.type('html').send(
      page(
        'Demo Bank',
        `<h1>Open an account</h1><p>Prove who you are with CamDigiKey; we check your identity with the Ministry of Interior.</p>
<form method="post" action="/login"><button id="login">Log in with CamDigiKey</button></form>`,
      ),
    );
  });

  // The state goes out in the return URL and comes back with CamDigiKey's answer; the cookie ties
  // it to this browser, so an answer started elsewhere (login CSRF) or replayed is refused.
  app.post('/login', async (_req: Request, res: Response) => {
    const state = newId();
    try {
      const { data } = (await o.camdigikey.getLoginToken({ successReturnUrl: `${o.origin}/callback?state=${state}` })) as { data: { loginUrl: string } };
      const id = pending.add({ state, lastSeen: clock() });
      res.setHeader('set-cookie', `login=${id}; ${cookieFlags}`);
      res.redirect(303, data.loginUrl);
    } catch (err) {
      o.log.warn({ err: { message: (err as Error).message } }, 'demo bank: login token refused');
      res
        .status(502)
        .type('html')
        .send(page('Demo Bank', `<h1>CamDigiKey is not reachable</h1><p>${esc((err as Error).message)}</p>`));
    }
  });

  app.get('/callback', async (req: Request, res: Response) => {
    const started = pending.take(cookie(req, 'login'));
    const state = req.query.state;
    if (!started) return failed(res, 400, 'This browser has no login in progress, or it expired after 30 minutes. Start again.');
    if (typeof state !== 'string' || !sameText(state, started.state)) return failed(res, 400, 'The answer from CamDigiKey does not belong to the login started in this browser.');
    try {
      const { data } = (await o.camdigikey.getUserAccessToken(String(req.query.authToken ?? ''))) as { data: { accessToken: string } };
      const { payload } = await o.camdigikey.validateJwt(data.accessToken);
      const profile = (payload ?? {}) as Record<string, unknown>;
      const sid = sessions.add({ accessToken: data.accessToken, profile, kyc: await kycCheck(profile), lastSeen: clock() });
      res.setHeader('set-cookie', `sid=${sid}; ${cookieFlags}`);
      res.redirect(303, '/account');
    } catch (err) {
      failed(res, 400, (err as Error).message);
    }
  });

  app.get('/fallback', (req: Request, res: Response) => {
    pending.take(cookie(req, 'login'));
    res.type('html').send(page('Demo Bank', `<h1>Login not completed</h1><p>${esc(String(req.query.errorCode ?? ''))}: ${esc(String(req.query.errorMessage ?? ''))}</p><p><a href="/">Back</a></p>`));
  });

  app.get('/account', (req: Request, res: Response) => {
    const s = sessions.touch(cookie(req, 'sid'));
    if (!s) return void res.redirect('/');
    const p = s.profile;
    const row = (label: string, v: unknown) => `<tr><td>${esc(label)}</td><td>${esc(String(v ?? ''))}</td></tr>`;
    res.type('html').send(
      page(
        'Demo Bank — your account',
        `<h1 id="welcome">Welcome, ${esc(String(p.first_name_en ?? ''))} ${esc(String(p.last_name_en ?? ''))}</h1>
<table>${row('Name (Khmer)', `${p.last_name_kh ?? ''} ${p.first_name_kh ?? ''}`)}${row('Personal code', p.personal_code)}${row('Date of birth', p.dob)}${row('CamDigiKey id', p.camdigikey_id)}</table>
<p id="kyc">${esc(s.kyc)}</p><form method="post" action="/logout"><button>Log out</button></form>`,
      ),
    );
  });

  app.post('/logout', async (req: Request, res: Response) => {
    const s = sessions.take(cookie(req, 'sid'));
    if (s) await o.camdigikey.logoutAccessToken(s.accessToken).catch(() => undefined);
    res.setHeader('set-cookie', 'sid=; Max-Age=0; Path=/');
    res.redirect(303, '/');
  });

  /** MOI's verdict on the identity CamDigiKey vouched for, as one line for the page. */
  async function kycCheck(p: Record<string, unknown>): Promise<string> {
    const body = { idNumber: p.personal_code, firstNameEn: p.first_name_en, lastNameEn: p.last_name_en, firstNameKh: p.first_name_kh, lastNameKh: p.last_name_kh, gender: p.gender, dob: p.dob };
    try {
      const res = await fetch(`${o.kycUrl}/api/2.0/kyc/info`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-road-client': o.xroadClient }, body: JSON.stringify(body) });
      const answer = (await res.json()) as { data?: { score?: number }; score?: number; type?: string; message?: string };
      if (!res.ok) return `MOI KYC check failed: ${answer.type ?? res.status} ${answer.message ?? ''}`;
      const score = answer.data?.score ?? answer.score;
      return `MOI KYC check through CamDX: ${score === 1 ? 'identity confirmed' : `score ${score}`} (X-Road-Id ${res.headers.get('x-road-id')})`;
    } catch (err) {
      return `MOI KYC check failed: ${(err as Error).message}`;
    }
  }

  const server: Server = limitConnections(createServer(listenerOptions(), app));
  const port = await listen(server, o.port, o.host);
  return { url: baseUrl(o.host, port), stop: () => close(server) };
}
