import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Router, type Response } from 'express';
import { PROJECT_ROOT } from '../paths.js';

/** What both consoles share: the API client, the DOM helpers, the base styles and the icon. */
const SHARED = join(PROJECT_ROOT, 'common', 'console', 'static');
const TYPES: Record<string, string> = { js: 'text/javascript', css: 'text/css', svg: 'image/svg+xml' };
const typeOf = (name: string) => TYPES[name.slice(name.lastIndexOf('.') + 1)] ?? 'application/octet-stream';

/**
 * A console's pages: `/console` (its index.html) and `/console/static/<file>`, from `dir` and
 * the shared files, read once at start (a fixed page plus plain ES modules, nothing templated).
 * `more` adds pages (`{'/console/setup': 'setup.html'}`). The console listener sets the security headers (CSP without inline script), so this only serves files.
 */
export function consolePagesRouter(dir: string, own: readonly string[], more: Readonly<Record<string, string>> = {}): Router {
  const files = new Map<string, { type: string; body: Buffer }>();
  const add = (name: string, path: string) => files.set(name, { type: typeOf(name), body: readFileSync(path) });
  for (const name of ['api-core.js', 'dom.js', 'console.css']) add(name, join(SHARED, name));
  for (const name of own) add(name, join(dir, name));
  // The dashboard's icon, so the browser's favicon probe finds one instead of logging a 404.
  add('favicon.svg', join(PROJECT_ROOT, 'central', 'dashboard', 'static', 'favicon.svg'));
  const page = readFileSync(join(dir, 'index.html'));

  const router = Router();
  const send = (res: Response, type: string, body: Buffer) => res.set('Cache-Control', 'no-cache').type(type).send(body);
  router.get(['/console', '/console/'], (_req, res) => send(res, 'html', page));
  // Other pages of the console: a path under /console and its HTML file in `dir`.
  for (const [path, file] of Object.entries(more)) {
    const body = readFileSync(join(dir, file));
    router.get(path, (_req, res) => send(res, 'html', body));
  }
  router.get('/console/static/:file', (req, res) => {
    const file = files.get(req.params.file ?? '');
    if (!file) return res.status(404).json({ error: 'not-found', message: 'no such console file' });
    return send(res, file.type, file.body);
  });
  return router;
}
