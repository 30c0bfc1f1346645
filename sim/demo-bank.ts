import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
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
}

interface Session {
  accessToken: string;
  profile: Record<string, unknown>;
  kyc: string;
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#123}
table{border-collapse:collapse}td{padding:.2rem .8rem .2rem 0}button{font-size:1rem;padding:.5rem 1rem}.muted{color:#567}</style>
</head><body><p class="muted">Demo Bank Plc · a CamDX member (CAMDX/COM/DEMOBANK)</p>${body}</body></html>`;
}

export async function startDemoBank(o: DemoBankOptions): Promise<{ url: string; stop(): Promise<void> }> {
  const sessions = new Map<string, Session>();
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  const sessionOf = (req: Request) => sessions.get(/(?:^|;\s*)sid=([A-Za-z0-9_-]+)/.exec(req.get('cookie') ?? '')?.[1] ?? '');

  app.get('/', (req: Request, res: Response) => {
    const s = sessionOf(req);
    if (s) return void res.redirect('/account');
    res.type('html').send(page('Demo Bank', `<h1>Open an account</h1><p>Prove who you are with CamDigiKey; we check your identity with the Ministry of Interior.</p>
<form method="post" action="/login"><button id="login">Log in with CamDigiKey</button></form>`));
  });

  app.post('/login', async (_req: Request, res: Response) => {
    try {
      const { data } = (await o.camdigikey.getLoginToken({ successReturnUrl: `${o.origin}/callback` })) as { data: { loginUrl: string } };
      res.redirect(303, data.loginUrl);
    } catch (err) {
      o.log.warn({ err: { message: (err as Error).message } }, 'demo bank: login token refused');
      res.status(502).type('html').send(page('Demo Bank', `<h1>CamDigiKey is not reachable</h1><p>${esc((err as Error).message)}</p>`));
    }
  });

  app.get('/callback', async (req: Request, res: Response) => {
    try {
      const { data } = (await o.camdigikey.getUserAccessToken(String(req.query.authToken ?? ''))) as { data: { accessToken: string } };
      const { payload } = await o.camdigikey.validateJwt(data.accessToken);
      const profile = (payload ?? {}) as Record<string, unknown>;
      const sid = randomBytes(18).toString('base64url');
      sessions.set(sid, { accessToken: data.accessToken, profile, kyc: await kycCheck(profile) });
      res.setHeader('set-cookie', `sid=${sid}; HttpOnly; SameSite=Lax; Path=/`);
      res.redirect(303, '/account');
    } catch (err) {
      res.status(400).type('html').send(page('Demo Bank', `<h1>Login failed</h1><p>${esc((err as Error).message)}</p><p><a href="/">Try again</a></p>`));
    }
  });

  app.get('/fallback', (req: Request, res: Response) => {
    res.type('html').send(page('Demo Bank', `<h1>Login not completed</h1><p>${esc(String(req.query.errorCode ?? ''))}: ${esc(String(req.query.errorMessage ?? ''))}</p><p><a href="/">Back</a></p>`));
  });

  app.get('/account', (req: Request, res: Response) => {
    const s = sessionOf(req);
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
    const sid = /(?:^|;\s*)sid=([A-Za-z0-9_-]+)/.exec(req.get('cookie') ?? '')?.[1];
    const s = sid ? sessions.get(sid) : undefined;
    if (s) {
      sessions.delete(sid!);
      await o.camdigikey.logoutAccessToken(s.accessToken).catch(() => undefined);
    }
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

  const server: Server = createServer(app);
  const port = await listen(server, o.port, o.host);
  return { url: baseUrl(o.host, port), stop: () => close(server) };
}
