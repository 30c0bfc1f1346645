import { timingSafeEqual } from 'node:crypto';
import express from 'express';
import { sendLandingPage } from '../common/landing-page.js';
import { adminRouter, type AdminDeps } from './api/admin.js';
import type { ServerMonitor } from './dashboard/monitor.js';
import { dashboardRouter } from './dashboard/router.js';
import type { CentralFaults } from './faults.js';
import { errorHandler, notFound, requestMetrics } from './http-common.js';
import type { CentralMetrics } from './metrics.js';

const MAX_JSON_BYTES = 1024 * 1024;

function tokenMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export type ConsoleAppDeps = AdminDeps & { adminToken: string; metrics: CentralMetrics; monitor: ServerMonitor; faults: CentralFaults };

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

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok', confVersion: publisher.current.version });
  });
  app.get('/', (_req, res) => {
    sendLandingPage(res, {
      title: `CamDX central server (instance ${deps.settings.instance}): console`,
      about: [
        'The registry of members, subsystems, security servers and services, the access rights, and the signed global configuration every security server downloads.',
        `The admin API (\`/api\`) takes a signed-in console session, or \`Authorization: Bearer <admin token>\` (the state directory's \`central/admin-token\`); \`npx camdx central …\` uses it for you.`,
      ],
      links: [
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

  app.use('/api', (req, res, next) => {
    if (!tokenMatches(req.get('authorization'), deps.adminToken)) {
      return void res.status(401).json({ error: 'unauthorized', message: 'the admin API needs Authorization: Bearer <admin token> (var/central/admin-token)' });
    }
    next();
  });
  app.use('/api', express.json({ limit: MAX_JSON_BYTES }), deps.faults.router(), adminRouter(deps));

  app.use(notFound);
  app.use(errorHandler(log));
  return app;
}
