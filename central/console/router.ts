import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Router, type Response } from 'express';
import { PROJECT_ROOT } from '../../common/paths.js';

const STATIC = join(PROJECT_ROOT, 'central', 'console', 'static');
/** Shared with the gateway's console: the DOM helpers (they import `./api.js`, each console's own) and the base styles. */
const SHARED = join(PROJECT_ROOT, 'common', 'console', 'static');
/** Read once at start: the console is a fixed page plus plain ES modules, nothing templated. */
const FILES: Record<string, { type: string; body: Buffer }> = {
  'console.js': { type: 'text/javascript', body: readFileSync(join(STATIC, 'console.js')) },
  'api.js': { type: 'text/javascript', body: readFileSync(join(STATIC, 'api.js')) },
  'dom.js': { type: 'text/javascript', body: readFileSync(join(SHARED, 'dom.js')) },
  'pages.js': { type: 'text/javascript', body: readFileSync(join(STATIC, 'pages.js')) },
  'pages-admin.js': { type: 'text/javascript', body: readFileSync(join(STATIC, 'pages-admin.js')) },
  // The dashboard's icon, so the browser's favicon probe finds one instead of logging a 404.
  'favicon.svg': { type: 'image/svg+xml', body: readFileSync(join(PROJECT_ROOT, 'central', 'dashboard', 'static', 'favicon.svg')) },
  'console.css': { type: 'text/css', body: readFileSync(join(SHARED, 'console.css')) },
};
const PAGE = readFileSync(join(STATIC, 'index.html'));

/**
 * Central's console: one page app. The page holds no data; its scripts fetch `/api` with the
 * session cookie and build every row with DOM calls. Security headers come from the console
 * listener (CSP without inline script), so this router only serves files.
 */
export function consoleRouter(): Router {
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
