import { Router, urlencoded, json, type Request, type Response } from 'express';
import QRCode from 'qrcode';
import { escapeHtml } from '../../common/html.js';
import type { PopulationStore } from '../population/store.js';
import { CdkError } from './errors.js';
import type { CamdigikeyService } from './service.js';

/**
 * The browser side of a login: the page a relying party sends its user to (a QR code of the
 * login link, the app deep-link, and a poll that follows the user's answer), and a simulated
 * CamDigiKey app where a test user approves or rejects. Scripts can approve with
 * `POST /app/approve` (JSON) instead of clicking.
 */

const escape = escapeHtml;

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;color:#123}h1{font-size:1.4rem}img.qr{image-rendering:pixelated;max-width:100%}
.muted{color:#567}button{font-size:1rem;padding:.5rem 1rem;margin-right:.5rem}code{word-break:break-all}</style></head><body>${body}</body></html>`;
}

export function webRouter(service: CamdigikeyService, people: PopulationStore): Router {
  const router = Router();
  const token = (req: Request) => String((req.query.loginToken ?? (req.body as Record<string, unknown> | undefined)?.loginToken) ?? '');

  router.get('/login', async (req: Request, res: Response) => {
    const login = service.login(token(req));
    if (!login) return void res.status(400).type('html').send(page('CamDigiKey', '<h1>This login link is not valid</h1><p>Start the login again from the website.</p>'));
    if (login.record.loginState !== 'PENDING' || login.record.expiresAt <= service.now()) {
      return void res.status(410).type('html').send(page('CamDigiKey', '<h1>This login link has expired or was already used</h1><p>Start the login again from the website.</p>'));
    }
    const loginUrl = `${req.protocol}://${req.get('host')}${req.originalUrl}`;
    // Shown at its natural size: a scaled QR of a ~550-character link blurs modules together.
    const qr = await QRCode.toDataURL(loginUrl, { errorCorrectionLevel: 'M', margin: 4, scale: 4 });
    const deepLink = `camdigikey://login?token=${encodeURIComponent(token(req))}`;
    res.type('html').send(
      page(
        'Log in with CamDigiKey',
        `<h1>Log in to ${escape(login.account.domain)} with CamDigiKey</h1>
<p>Scan this code with the CamDigiKey app.</p>
<img class="qr" id="qr" alt="QR code of the login link" src="${qr}">
<p class="muted">On your phone? <a id="deeplink" href="${escape(deepLink)}">Open the CamDigiKey app</a> · <code>${escape(deepLink)}</code></p>
<p class="muted">No phone in this simulation: <a id="app" href="/app?loginToken=${encodeURIComponent(token(req))}" target="_blank">open the simulated app</a>.</p>
<p id="state" class="muted">Waiting for approval…</p>
<script>
const statusUrl = '/login/status?loginToken=' + encodeURIComponent(${JSON.stringify(token(req))});
async function poll() {
  const r = await fetch(statusUrl); const s = await r.json();
  if (s.redirect) { document.getElementById('state').textContent = s.state; window.location.assign(s.redirect); return; }
  setTimeout(poll, 1000);
}
poll();
</script>`,
      ),
    );
  });

  router.get('/login/status', (req: Request, res: Response) => {
    const login = service.login(token(req));
    if (!login) return void res.status(400).json({ state: 'INVALID' });
    const { record, account } = login;
    if (record.loginState === 'PENDING') {
      if (record.expiresAt > service.now()) return void res.json({ state: 'PENDING' });
      return void res.json({ state: 'EXPIRED', redirect: service.redirect(record, account) });
    }
    res.json({ state: record.loginState, redirect: service.redirect(record, account) });
  });

  router.get('/app', (req: Request, res: Response) => {
    const login = service.login(token(req));
    if (!login) return void res.status(400).type('html').send(page('CamDigiKey app', '<h1>Unknown login request</h1>'));
    const samples = [0, 1, 2, 3, 4].map((i) => people.byIndex(i)).filter((p) => p && p.accountStatus === 'ENABLED');
    res.type('html').send(
      page(
        'CamDigiKey app (simulated)',
        `<h1>CamDigiKey app</h1><p><strong>${escape(login.account.domain)}</strong> asks you to log in.</p>
<form method="post" action="/app/approve">
<input type="hidden" name="loginToken" value="${escape(token(req))}">
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
      const result = service.answerLogin(String(body.loginToken ?? ''), approve, body.personalCode === undefined ? undefined : String(body.personalCode));
      if (wantsJson) return void res.json(result);
      res.type('html').send(page('CamDigiKey app', `<h1>${approve ? 'Approved' : 'Rejected'}</h1><p>You can return to the website.</p>${result.appCallback ? `<p class="muted">App callback: <code>${escape(result.appCallback)}</code></p>` : ''}`));
    } catch (err) {
      if (!(err instanceof CdkError)) throw err;
      if (wantsJson) return void res.status(400).json({ error: err.code, message: err.message });
      res.status(400).type('html').send(page('CamDigiKey app', `<h1>${escape(err.message)}</h1>`));
    }
  };
  router.post('/app/approve', urlencoded({ extended: false, limit: '8kb' }), json({ limit: '8kb' }), answer(true));
  router.post('/app/reject', urlencoded({ extended: false, limit: '8kb' }), json({ limit: '8kb' }), answer(false));
  return router;
}
