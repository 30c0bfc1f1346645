import { join } from 'node:path';
import express from 'express';
import { securityHeaders } from '../../common/console/headers.js';
import { sendLandingPage } from '../../common/landing-page.js';
import { hostCheck, hostName, isLoopbackHost } from '../../common/console/host-check.js';
import { LoginLimiter } from '../../common/console/login-limit.js';
import { SessionStore } from '../../common/console/sessions.js';
import { openDatabase, type Db } from '../../common/sqlite.js';
import type { AuditWriter } from '../../common/console/gate.js';
import type { Logger } from '../../common/log.js';
import type { GatewayContext } from '../context.js';
import type { ReloadedCertificate } from '../keyring.js';
import { gatewayApiRouter } from './api.js';
import { gatewayAuditWriter } from './audit-log.js';
import { gatewayOpenApiRoute } from './openapi.js';
import { gatewayPagesRouter } from './pages.js';

export interface GatewayConsole {
  readonly app: express.Express;
  close(): void;
}

/**
 * The gateway's console listener (`listen.console`, loopback by default): the JSON admin API
 * `/api/v1` under central's console rules (common/console: the `Host` check, the CSP, sessions
 * with CSRF), so only the admin token's holder manages the gateway. Its sessions live in
 * `<stateDir>/console.db`, its audit trail in `<stateDir>/console-audit.log`.
 */
export function createGatewayConsole(ctx: GatewayContext, adminToken: string, reloadKeys: () => Promise<ReloadedCertificate[]>, clock: () => number = Date.now): GatewayConsole {
  const db: Db = openDatabase(join(ctx.config.stateDir, 'console.db'), []);
  const audit = gatewayAuditWriter(ctx.config.stateDir, clock);
  const api = gatewayApiRouter({ ctx, adminToken, sessions: new SessionStore(db, clock), limiter: new LoginLimiter(clock), audit, reloadKeys });
  const app = consoleApp({ consoleHost: ctx.config.listen.console?.host ?? '127.0.0.1', audit, log: ctx.log, title: `CamDX security server ${ctx.config.serverId}: console`, api });
  return { app, close: () => db.close() };
}

export interface ConsoleAppParts {
  /** The host the listener binds: its name counts as the console's own (a console bound to a LAN address); others get 421. */
  readonly consoleHost: string;
  readonly audit: AuditWriter;
  readonly log: Logger;
  readonly title: string;
  readonly api: express.Router;
}

/** The console listener's app around an `/api/v1` router: the Host check, the security headers, the landing page, the OpenAPI document, the pages, JSON errors. */
export function consoleApp(parts: ConsoleAppParts): express.Express {
  const { audit } = parts;
  const listenHost = hostName(parts.consoleHost);
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', 'simple');
  app.use(hostCheck(isLoopbackHost(listenHost) ? [] : [listenHost], (host) => audit('anonymous', 'api.refused', 'console', { status: 421, host: host.slice(0, 100) })));
  app.use(securityHeaders());
  app.get('/', (_req, res) =>
    sendLandingPage(res, {
      title: parts.title,
      about: [
        "The security server's admin API, after X-Road's: its clients and their connection types, the services it provides, its keys and token certificates " +
          'and their OCSP status, the operational records, and the OCSP refresh and key reload actions.',
        '`/api/v1` takes `Authorization: Bearer <token>` (the gateway state directory\'s `admin-token`), or a session: `POST /api/v1/session {"token": …}`, then `X-CSRF-Token` on every change.',
      ],
      links: [
        { href: '/console', text: 'Console', note: 'sign in with the admin token: clients, services, keys and certificates, service descriptions, diagnostics, records' },
        { href: '/api/openapi.json', text: 'Console API', note: 'its OpenAPI 3.1 document' },
        { href: '/api/v1/initialization/status', text: 'Initialisation status', note: 'JSON; needs the token or a session' },
        { href: '/api/v1/token-certificates', text: 'Token certificates', note: 'JSON; needs the token or a session' },
      ],
    }),
  );
  app.get('/api/openapi.json', gatewayOpenApiRoute());
  app.use(gatewayPagesRouter());
  app.use('/api/v1', parts.api);
  app.use((_req, res) => void res.status(404).json({ error: 'not-found', message: 'the console listener serves /console and /api/v1' }));
  // express.json's refusals (malformed JSON, too large) as JSON, never a page with a stack.
  app.use((err: { status?: number; message?: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    const status = err.status && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) parts.log.error({ err: { message: err.message } }, 'gateway console failure');
    res
      .status(status)
      .json({ error: status === 500 ? 'internal-error' : 'invalid', message: status === 500 ? 'the console failed to handle the request' : `the request body is not accepted: ${err.message}` });
  });
  return app;
}
