import express from 'express';
import { consoleGate, type AuditWriter, type Caller } from '../common/console/gate.js';
import { securityHeaders } from '../common/console/headers.js';
import { hostCheck } from '../common/console/host-check.js';
import { LoginLimiter } from '../common/console/login-limit.js';
import type { ScryptCost } from '../common/console/passwords.js';
import { SessionStore } from '../common/console/sessions.js';
import { sendLandingPage } from '../common/landing-page.js';
import { adminRouter, type AdminDeps } from './api/admin.js';
import { openApiRoute } from './api/openapi.js';
import { sessionRouter, usersRouter, type UsersDeps } from './api/users.js';
import { catalogueRouter } from './catalogue/router.js';
import { consoleRouter } from './console/router.js';
import type { ServerMonitor } from './dashboard/monitor.js';
import { dashboardRouter } from './dashboard/router.js';
import type { CentralFaults } from './faults.js';
import { errorHandler, notFound, requestMetrics } from './http-common.js';
import type { CentralMetrics } from './metrics.js';
import { UserStore } from './users/store.js';

const MAX_JSON_BYTES = 1024 * 1024;

export type ConsoleAppDeps = AdminDeps & {
  adminToken: string;
  metrics: CentralMetrics;
  monitor: ServerMonitor;
  faults: CentralFaults;
  /** Sessions' idle and absolute limits and the sign-in limiter read it; tests move it forward. */
  consoleClock?: () => number;
  /** Lower only in tests (common/console/passwords.ts). */
  scryptCost?: ScryptCost;
};

/** What an observer may still change: its own sign-out and its own password. */
const observerMay = (req: express.Request, caller: Caller) =>
  (req.method === 'DELETE' && req.path === '/session') || (req.method === 'PUT' && req.path === `/users/${encodeURIComponent(caller.actor)}/password`);

function consoleUsers(deps: ConsoleAppDeps): UsersDeps {
  const clock = deps.consoleClock ?? Date.now;
  // Users and sessions live in central.db beside the registry, outside the global configuration.
  const db = deps.registry.core.db;
  const audit: AuditWriter = (actor, action, target, detail) => deps.registry.core.record(actor, action, target, detail);
  return {
    users: new UserStore(db, clock),
    sessions: new SessionStore(db, clock),
    limiter: new LoginLimiter(clock),
    audit,
    log: deps.log,
    ...(deps.scryptCost ? { scryptCost: deps.scryptCost } : {}),
  };
}

/**
 * Central's console listener: the administrators' side. Signed-in pages (`/console`) and the
 * admin API (`/api`) they and the CLI call, and what needs no sign-in: the dashboard,
 * `/metrics` (Prometheus), `/health`.
 */
export function createConsoleApp(deps: ConsoleAppDeps): express.Express {
  const { publisher, log, metrics } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', 'simple');
  app.use(requestMetrics(metrics, log));
  const people = consoleUsers(deps);
  // Before anything answers: a page served under a foreign name (DNS rebinding) reaches nothing here.
  app.use(hostCheck(deps.settings.console.hostNames, (host) => people.audit('anonymous', 'api.refused', 'console', { status: 421, host: host.slice(0, 100) })));
  app.use(securityHeaders());

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok', confVersion: publisher.current.version });
  });
  app.get('/', (_req, res) => {
    sendLandingPage(res, {
      title: `CamDX central server (instance ${deps.settings.instance}): console`,
      about: [
        'The registry of members, subsystems, security servers and services, the access rights, and the signed global configuration every security server downloads.',
        `The admin API (\`/api\`) takes a signed-in console session, or \`Authorization: Bearer <admin token>\` (the state directory's ` +
          `\`central/admin-token\`); \`npx camdx central …\` uses it for you.`,
      ],
      links: [
        { href: '/console', text: 'Console', note: 'sign in to manage members, servers, services, access rights, requests and users' },
        { href: '/catalogue', text: 'API catalogue', note: 'every service, its endpoints and OpenAPI document, and who may call what' },
        { href: '/api/openapi.json', text: 'Admin API', note: 'its OpenAPI 3.1 document' },
        { href: '/dashboard', text: 'Dashboard', note: 'members, security servers and their health, access rights, live exchanges and errors' },
        { href: '/metrics', text: 'Metrics', note: 'Prometheus text (`camdx_central_*`)' },
        { href: '/health', text: 'Health', note: 'JSON' },
      ],
    });
  });
  // Prometheus scrapes it without credentials (see ops/prometheus).
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.use(dashboardRouter({ registry: deps.registry, publisher, monitor: deps.monitor }));

  app.use(catalogueRouter({ registry: deps.registry, publisher }));
  app.use(consoleRouter());

  // The API's own description needs no sign-in, like X-Road's security server's openapi.yaml.
  app.get('/api/openapi.json', openApiRoute());
  // Signing in comes before the gate; no other body is read before the caller is known.
  app.use('/api', sessionRouter(people));
  app.use('/api', consoleGate({ adminToken: deps.adminToken, sessions: people.sessions, audit: people.audit, mount: '/api', observerMay }));
  app.use('/api', express.json({ limit: MAX_JSON_BYTES }), deps.faults.router(), usersRouter(people), adminRouter(deps));

  app.use(notFound);
  app.use(errorHandler(log));
  return app;
}
