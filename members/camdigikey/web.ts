import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Router, urlencoded, json, type NextFunction, type Request, type Response } from 'express';
import QRCode from 'qrcode';
import { escapeHtml as escape } from '../../common/html.js';
import { PROJECT_ROOT } from '../../common/paths.js';
import type { PopulationStore } from '../population/store.js';
import { CDK_ERRORS, CdkError } from './errors.js';
import { API_PREFIX, type CamdigikeyService } from './service.js';

/**
 * The browser side of a login: the page a relying party sends its user to (a QR code of the
 * login link, the app deep-link, and a poll that follows the user's answer), and a simulated
 * CamDigiKey app where a test user approves or rejects. Scripts can approve with
 * `POST /app/approve` (JSON) instead of clicking.
 *
 * Request data reaches a page only as escaped HTML text or attribute values; the one script is a
 * file (`static/login.js`) reading its data from attributes, and the CSP allows no other.
 */

const STATIC = join(PROJECT_ROOT, 'members', 'camdigikey', 'static');
const FILES = { script: readFileSync(join(STATIC, 'login.js')), style: readFileSync(join(STATIC, 'page.css')) };

/** No inline script or style, nothing from elsewhere, no framing; the login token stays out of Referer headers. */
export const PAGE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
};

/** Exactly the form the service mints: three base64url parts. Anything else is not a login link. */
const TOKEN_FORM = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const MAX_TOKEN_LENGTH = 4096;

/** The login token of a request (query, or form/JSON body), if it is exactly the token form. */
function loginTokenOf(req: Request): string | undefined {
  const value = req.query.loginToken ?? (req.body as Record<string, unknown> | undefined)?.loginToken;
  return typeof value === 'string' && value.length <= MAX_TOKEN_LENGTH && TOKEN_FORM.test(value) ? value : undefined;
}

function page(title: string, body: string, script = false): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)}</title>
<link rel="stylesheet" href="/static/page.css">${script ? '<script src="/static/login.js" defer></script>' : ''}</head><body>${body}</body></html>`;
}

const AGAIN = 'Start the login again from the website.';

/** A page saying what went wrong in words, naming the error (code and text), and what the user can do. */
function errorPage(res: Response, status: number, title: string, headline: string, error: CdkError, advice = AGAIN): void {
  res
    .status(status)
    .type('html')
    .send(page(title, `<h1 class="error">${escape(headline)}</h1><p>${escape(advice)}</p><p class="muted" id="error">CamDigiKey error ${error.code}: ${escape(error.message)}</p>`));
}

export function webRouter(service: CamdigikeyService, people: PopulationStore): Router {
  const router = Router();
  router.use((_req: Request, res: Response, next: NextFunction) => {
    res.set(PAGE_SECURITY_HEADERS);
    next();
  });
  router.get('/static/login.js', (_req, res) => void res.type('text/javascript').send(FILES.script));
  router.get('/static/page.css', (_req, res) => void res.type('text/css').send(FILES.style));

  // What a browser opening the printed URL sees (plain HTTP and HTTPS share this router).
  router.get('/', (_req: Request, res: Response) => {
    res.type('html').send(
      page(
        'CamDigiKey (simulated)',
        `<h1>CamDigiKey (simulated)</h1>
<p>Techo Startup Center's digital identity, simulated: a relying party asks the API for a login token and sends its user to the login page here (<code>/login?loginToken=…</code>), ` +
          `which shows a QR code for the CamDigiKey app; the simulated app (<code>/app</code>) lets a test user approve.</p>
<p>The v3 API (<code>${escape(API_PREFIX)}…</code>): relying parties call it over HTTPS with their CamDigiKey client certificate; ` +
          `over plain HTTP it answers only CamDigiKey's own CamDX security server, for members calling the service <code>CAMDX/GOV/TSC/CAMDIGIKEY/camdigikey</code> through CamDX.</p>
<p>Try a whole login from a relying party's side: the Demo Bank site that <code>npm start</code> prints ("Log in with CamDigiKey").</p>
<ul><li><a href="/health">Health</a> — JSON</li></ul>`,
      ),
    );
  });

  router.get('/login', async (req: Request, res: Response) => {
    const token = loginTokenOf(req);
    const login = token && service.login(token);
    if (!token || !login) return errorPage(res, 400, 'CamDigiKey', 'This login link is not valid', new CdkError('LOGIN_TOKEN_INVALID'));
    if (login.record.expiresAt <= service.now()) return errorPage(res, 410, 'CamDigiKey', 'This login link has expired', new CdkError('LOGIN_TOKEN_EXPIRED'));
    if (login.record.loginState !== 'PENDING') return errorPage(res, 410, 'CamDigiKey', 'This login link was already used', new CdkError('LOGIN_TOKEN_USED'));
    const loginUrl = service.loginUrl(token);
    // Shown at its natural size: a scaled QR of a ~550-character link blurs modules together.
    const qr = await QRCode.toDataURL(loginUrl, { errorCorrectionLevel: 'M', margin: 4, scale: 4 });
    const deepLink = `camdigikey://login?token=${encodeURIComponent(token)}`;
    res.type('html').send(
      page(
        'Log in with CamDigiKey',
        `<main id="login" data-status-url="${escape(`/login/status?loginToken=${encodeURIComponent(token)}`)}">
<h1>Log in to ${escape(login.account.domain)} with CamDigiKey</h1>
<p>Scan this code with the CamDigiKey app.</p>
<img class="qr" id="qr" alt="QR code of the login link" src="${escape(qr)}">
<p class="muted">On your phone? <a id="deeplink" href="${escape(deepLink)}">Open the CamDigiKey app</a> · <code>${escape(deepLink)}</code></p>
<p class="muted">No phone in this simulation: <a id="app" href="/app?loginToken=${escape(encodeURIComponent(token))}" target="_blank" rel="noopener">open the simulated app</a>.</p>
<p id="state" class="muted">Waiting for approval…</p>
</main>`,
        true,
      ),
    );
  });

  router.get('/login/status', (req: Request, res: Response) => {
    const token = loginTokenOf(req);
    const login = token && service.login(token);
    if (!login) return void res.status(400).json({ state: 'INVALID', error: CDK_ERRORS.LOGIN_TOKEN_INVALID[0], message: CDK_ERRORS.LOGIN_TOKEN_INVALID[1] });
    const { record, account } = login;
    if (record.loginState === 'PENDING') {
      if (record.expiresAt > service.now()) return void res.json({ state: 'PENDING' });
      return void res.json({ state: 'EXPIRED', redirect: service.redirect(record, account) });
    }
    res.json({ state: record.loginState, redirect: service.redirect(record, account) });
  });

  router.get('/app', (req: Request, res: Response) => {
    const token = loginTokenOf(req);
    const login = token && service.login(token);
    if (!token || !login) return errorPage(res, 400, 'CamDigiKey app (simulated)', 'Unknown login request', new CdkError('LOGIN_TOKEN_INVALID'));
    const samples = [0, 1, 2, 3, 4].map((i) => people.byIndex(i)).filter((p) => p && p.accountStatus === 'ENABLED');
    res.type('html').send(
      page(
        'CamDigiKey app (simulated)',
        `<h1>CamDigiKey app</h1>
<p class="notice" id="simulation-only"><strong>Simulation only.</strong> This page stands in for the CamDigiKey phone app: anyone who opens it can approve this login as any test user. ` +
          `A real approval happens on the user's own phone.</p>
<p><strong>${escape(login.account.domain)}</strong> asks you to log in.</p>
<form method="post" action="/app/approve">
<input type="hidden" name="loginToken" value="${escape(token)}">
<label>Log in as (personal code): <input name="personalCode" id="personalCode" value="${escape(samples[0]?.idNumber ?? '')}"></label>
<p class="muted">Test users: ${samples.map((p) => `${escape(p!.idNumber)} (${escape(p!.firstNameEn)} ${escape(p!.lastNameEn)})`).join(', ')}</p>
<button type="submit" id="approve">Approve</button><button type="submit" id="reject" formaction="/app/reject">Reject</button>
</form>`,
      ),
    );
  });

  const answer = (approve: boolean) => (req: Request, res: Response) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const wantsJson = req.is('application/json');
    try {
      const token = loginTokenOf(req);
      if (!token) throw new CdkError('LOGIN_TOKEN_INVALID');
      const result = service.answerLogin(token, approve, body.personalCode === undefined ? undefined : String(body.personalCode));
      if (wantsJson) return void res.json(result);
      res
        .type('html')
        .send(
          page(
            'CamDigiKey app (simulated)',
            `<h1>${approve ? 'Approved' : 'Rejected'}</h1><p>You can return to the website.</p>` +
              `${result.appCallback ? `<p class="muted">App callback: <code>${escape(result.appCallback)}</code></p>` : ''}`,
          ),
        );
    } catch (err) {
      if (!(err instanceof CdkError)) throw err;
      if (wantsJson) return void res.status(400).json({ error: err.code, message: err.message });
      errorPage(res, 400, 'CamDigiKey app (simulated)', approve ? 'The login was not approved' : 'The login was not rejected', err);
    }
  };
  router.post('/app/approve', urlencoded({ extended: false, limit: '8kb' }), json({ limit: '8kb' }), answer(true));
  router.post('/app/reject', urlencoded({ extended: false, limit: '8kb' }), json({ limit: '8kb' }), answer(false));
  return router;
}
