import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Router, type Response } from 'express';
import { PROJECT_ROOT } from '../../common/paths.js';
import type { ConfPublisher } from '../globalconf/publisher.js';
import type { Registry } from '../registry/registry.js';
import { dashboardData } from './data.js';
import type { ServerMonitor } from './monitor.js';

const STATIC = join(PROJECT_ROOT, 'central', 'dashboard', 'static');
const FILES = {
  page: readFileSync(join(STATIC, 'index.html')),
  script: readFileSync(join(STATIC, 'dashboard.js')),
  style: readFileSync(join(STATIC, 'dashboard.css')),
  icon: readFileSync(join(STATIC, 'favicon.svg')),
};

/**
 * Nothing inline and nothing from elsewhere: the script builds the page with DOM calls
 * (textContent only), so even a hostile name in the registry cannot run as code.
 */
const SECURITY_HEADERS = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

/**
 * Central's built-in dashboard: a static page and script, and `/dashboard/data` (JSON) they
 * poll. Public and read-only, like `/globalconf` and `/metrics`: it shows what the global
 * configuration publishes plus health and aggregate rates, never the admin API's secrets.
 */
export function dashboardRouter(deps: { registry: Registry; publisher: ConfPublisher; monitor: ServerMonitor; clock?: () => number }): Router {
  const router = Router();
  const send = (res: Response, type: string, body: Buffer) => {
    res
      .set({ ...SECURITY_HEADERS, 'Cache-Control': 'no-cache' })
      .type(type)
      .send(body);
  };
  router.get('/dashboard', (_req, res) => send(res, 'html', FILES.page));
  router.get('/dashboard/dashboard.js', (_req, res) => send(res, 'text/javascript', FILES.script));
  router.get('/dashboard/dashboard.css', (_req, res) => send(res, 'text/css', FILES.style));
  router.get('/dashboard/favicon.svg', (_req, res) => send(res, 'image/svg+xml', FILES.icon));
  router.get('/dashboard/data', (_req, res) => {
    res.set({ ...SECURITY_HEADERS, 'Cache-Control': 'no-store' }).json(dashboardData(deps.registry, deps.publisher, deps.monitor, (deps.clock ?? Date.now)()));
  });
  return router;
}
