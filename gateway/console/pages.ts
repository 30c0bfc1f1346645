import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Router, type Response } from 'express';
import { PROJECT_ROOT } from '../../common/paths.js';

const STATIC = join(PROJECT_ROOT, 'gateway', 'console', 'static');
/** Shared with central's console: the DOM helpers (they import `./api.js`, this console's own) and the base styles. */
const SHARED = join(PROJECT_ROOT, 'common', 'console', 'static');
const js = (dir: string, name: string) => ({ type: 'text/javascript', body: readFileSync(join(dir, name)) });
/** Read once at start: the console is a fixed page plus plain ES modules, nothing templated. */
const FILES: Record<string, { type: string; body: Buffer }> = {
  'console.js': js(STATIC, 'console.js'),
  'api.js': js(STATIC, 'api.js'),
  'pages.js': js(STATIC, 'pages.js'),
  'pages-keys.js': js(STATIC, 'pages-keys.js'),
  'pages-services.js': js(STATIC, 'pages-services.js'),
  'dom.js': js(SHARED, 'dom.js'),
  'console.css': { type: 'text/css', body: readFileSync(join(SHARED, 'console.css')) },
  'gateway.css': { type: 'text/css', body: readFileSync(join(STATIC, 'gateway.css')) },
  // Central's icon, so the browser's favicon probe finds one instead of logging a 404.
  'favicon.svg': { type: 'image/svg+xml', body: readFileSync(join(PROJECT_ROOT, 'central', 'dashboard', 'static', 'favicon.svg')) },
};
const PAGE = readFileSync(join(STATIC, 'index.html'));

/**
 * The gateway's console pages (X-Road's security server UI): one page app whose scripts fetch
 * `/api/v1` with the session cookie and build every row with DOM calls. The console listener
 * sets the security headers (CSP without inline script), so this router only serves files.
 */
export function gatewayPagesRouter(): Router {
  const router = Router();
  const send = (res: Response, type: string, body: Buffer) => res.set('Cache-Control', 'no-cache').type(type).send(body);
  router.get(['/console', '/console/'], (_req, res) => send(res, 'html', PAGE));
  router.get('/console/static/:file', (req, res) => {
    const file = FILES[req.params.file ?? ''];
    if (!file) return res.status(404).json({ error: 'not-found', message: 'no such console file' });
    return send(res, file.type, file.body);
  });
  return router;
}
