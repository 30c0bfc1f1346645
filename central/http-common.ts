import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from '../common/log.js';
import { routeGroup, type CentralMetrics } from './metrics.js';

/** Counts and times every request of both listeners, by route group (bounded labels). */
export function requestMetrics(metrics: CentralMetrics, log: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = routeGroup(req.originalUrl);
      metrics.httpRequests.inc({ route, method: req.method, status: String(res.statusCode) });
      metrics.httpDuration.observe({ route }, Number(process.hrtime.bigint() - started) / 1e9);
      log.debug({ method: req.method, route: req.route?.path ?? req.path.split('/').slice(0, 3).join('/'), status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request');
    });
    next();
  };
}

export function notFound(_req: Request, res: Response): void {
  res.status(404).json({ error: 'not-found', message: 'no such endpoint' });
}

/** The last handler: body-parser refusals as 400/413, anything else 500 without its detail. */
export function errorHandler(log: Logger) {
  return (err: Error & { status?: number; type?: string }, _req: Request, res: Response, _next: NextFunction): void => {
    if (err.type === 'entity.too.large') return void res.status(413).json({ error: 'too-large', message: 'the request body is too large' });
    if (err.status && err.status < 500) return void res.status(err.status).json({ error: 'invalid', field: '(body)', message: 'the request body is not valid JSON' });
    log.error({ err: { message: err.message } }, 'unexpected error');
    res.status(500).json({ error: 'internal-error', message: 'the central server failed to handle the request' });
  };
}
