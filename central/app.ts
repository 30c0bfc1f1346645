import { timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { adminRouter, type AdminDeps } from './api/admin.js';
import { sendError } from './api/errors.js';

const MAX_JSON_BYTES = 1024 * 1024;

function tokenMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The central server's HTTP face. Public: the signed global configuration and the management
 * request endpoint (authenticated by signatures). Behind the admin bearer token: `/api/*`.
 */
export function createCentralApp(deps: AdminDeps & { adminToken: string }): express.Express {
  const { publisher, management, log } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', 'simple');

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      log.debug({ method: req.method, route: req.route?.path ?? req.path.split('/').slice(0, 3).join('/'), status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request');
    });
    next();
  });

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok', confVersion: publisher.current.version });
  });

  app.get('/globalconf', (req, res) => {
    const { jws, version } = publisher.current;
    const etag = `"v${version}"`;
    res.set({ ETag: etag, 'Cache-Control': 'no-cache' });
    if (req.get('if-none-match') === etag) return void res.status(304).end();
    res.type('application/jose').send(jws);
  });

  app.post('/management/requests', express.json({ limit: 64 * 1024 }), (req, res) => {
    try {
      const record = management.submit(req.body);
      log.info({ id: record.id, type: record.type, server: record.server, status: record.status }, 'management request accepted');
      void publisher.settled().then(() => res.status(record.status === 'approved' ? 201 : 202).json(record));
    } catch (err) {
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
  app.use('/api', express.json({ limit: MAX_JSON_BYTES }), adminRouter(deps));

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
