import { timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { sendLandingPage } from '../common/landing-page.js';
import { adminRouter, type AdminDeps } from './api/admin.js';
import { sendError } from './api/errors.js';
import { ManagementRejection } from './management/service.js';
import { dashboardRouter } from './dashboard/router.js';
import type { CentralFaults } from './faults.js';
import type { ServerMonitor } from './dashboard/monitor.js';
import { managementRequestType, routeGroup, type CentralMetrics } from './metrics.js';

const MAX_JSON_BYTES = 1024 * 1024;

function tokenMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The central server's HTTP face. Public: the signed global configuration, the management
 * request endpoint (authenticated by signatures), `/metrics` and the read-only `/dashboard`.
 * Behind the admin bearer token: `/api/*`.
 */
export function createCentralApp(deps: AdminDeps & { adminToken: string; metrics: CentralMetrics; monitor: ServerMonitor; faults: CentralFaults }): express.Express {
  const { publisher, management, log, metrics } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', 'simple');

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = routeGroup(req.originalUrl);
      metrics.httpRequests.inc({ route, method: req.method, status: String(res.statusCode) });
      metrics.httpDuration.observe({ route }, Number(process.hrtime.bigint() - started) / 1e9);
      log.debug({ method: req.method, route: req.route?.path ?? req.path.split('/').slice(0, 3).join('/'), status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request');
    });
    next();
  });

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok', confVersion: publisher.current.version });
  });

  // What a browser opening the printed URL sees: where to go from here.
  app.get('/', (_req, res) => {
    sendLandingPage(res, {
      title: `CamDX central server (instance ${deps.settings.instance})`,
      about: [
        'The central server of the simulated CamDX instance: the registry of members, subsystems, security servers and services, the access rights, and the signed global configuration every security server downloads.',
        `Its admin API (\`/api\`) needs \`Authorization: Bearer <admin token>\` (the state directory's \`central/admin-token\`); \`npx camdx central …\` uses it for you.`,
      ],
      links: [
        { href: '/dashboard', text: 'Dashboard', note: 'members, security servers and their health, access rights, live exchanges and errors' },
        { href: '/globalconf', text: 'Global configuration', note: `the signed configuration (JWS), version ${publisher.current.version}` },
        { href: '/metrics', text: 'Metrics', note: 'Prometheus text (`camdx_central_*`)' },
        { href: '/health', text: 'Health', note: 'JSON' },
      ],
    });
  });

  app.get('/globalconf', deps.faults.guard(), (req, res) => {
    const { jws, version } = publisher.current;
    const etag = `"v${version}"`;
    res.set({ ETag: etag, 'Cache-Control': 'no-cache' });
    if (req.get('if-none-match') === etag) {
      metrics.confDownloads.inc({ result: 'not_modified' });
      return void res.status(304).end();
    }
    metrics.confDownloads.inc({ result: 'full' });
    res.type('application/jose').send(jws);
  });

  // Public like /globalconf: Prometheus scrapes it without credentials (see ops/prometheus).
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.use(dashboardRouter({ registry: deps.registry, publisher, monitor: deps.monitor }));

  app.post('/management/requests', deps.faults.guard(), express.json({ limit: 64 * 1024 }), (req, res) => {
    try {
      const record = management.submit(req.body);
      metrics.managementRequests.inc({ type: record.type, outcome: record.status });
      log.info({ id: record.id, type: record.type, server: record.server, status: record.status }, 'management request accepted');
      void publisher.settled().then(() => res.status(record.status === 'approved' ? 201 : 202).json(record));
    } catch (err) {
      metrics.managementRequests.inc({ type: managementRequestType(req.body), outcome: err instanceof ManagementRejection ? err.code : 'error' });
      log.info({ reason: (err as Error).message }, 'management request refused');
      sendError(res, err, (e) => log.error({ err: { message: (e as Error).message } }, 'management failure'));
    }
  });

  app.use('/api', (req, res, next) => {
    if (!tokenMatches(req.get('authorization'), deps.adminToken)) {
      return void res.status(401).json({ error: 'unauthorized', message: 'the admin API needs Authorization: Bearer <admin token> (var/central/admin-token)' });
    }
    next();
  });
  app.use('/api', express.json({ limit: MAX_JSON_BYTES }), deps.faults.router(), adminRouter(deps));

  app.use((_req: Request, res: Response) => {
    res.status(404).json({ error: 'not-found', message: 'no such endpoint' });
  });
  app.use((err: Error & { status?: number; type?: string }, _req: Request, res: Response, _next: NextFunction) => {
    if (err.type === 'entity.too.large') return void res.status(413).json({ error: 'too-large', message: 'the request body is too large' });
    if (err.status && err.status < 500) return void res.status(err.status).json({ error: 'invalid', field: '(body)', message: 'the request body is not valid JSON' });
    log.error({ err: { message: err.message } }, 'unexpected error');
    res.status(500).json({ error: 'internal-error', message: 'the central server failed to handle the request' });
  });
  return app;
}
