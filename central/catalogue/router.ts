import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Router, type Request, type Response } from 'express';
import { CONSOLE_CSP } from '../../common/console/headers.js';
import { PROJECT_ROOT } from '../../common/paths.js';
import { formatServiceId, IdentifierError, parseServiceId } from '../../protocol/identifiers.js';
import type { ConfPublisher } from '../globalconf/publisher.js';
import type { Registry } from '../registry/registry.js';
import { catalogueData, documentAsJson, documentAsYaml } from './data.js';

const STATIC = join(PROJECT_ROOT, 'central', 'catalogue', 'static');
const FILES = {
  page: readFileSync(join(STATIC, 'index.html')),
  script: readFileSync(join(STATIC, 'catalogue.js')),
  style: readFileSync(join(STATIC, 'catalogue.css')),
  // The dashboard's icon: one central, one icon.
  icon: readFileSync(join(PROJECT_ROOT, 'central', 'dashboard', 'static', 'favicon.svg')),
};

/**
 * The console listener sets these on every response too; the router sets them itself so it
 * stays safe on whatever app mounts it. Nothing inline: the script builds the page with DOM
 * calls and textContent, so a hostile description in a document is shown, never run.
 */
const SECURITY_HEADERS = {
  'Content-Security-Policy': CONSOLE_CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

const DOWNLOADS = {
  'openapi.yaml': { type: 'application/yaml; charset=utf-8', render: documentAsYaml },
  'openapi.json': { type: 'application/json; charset=utf-8', render: documentAsJson },
} as const;

/** `/catalogue/services/<service id>/openapi.yaml|json`: the registered document, as an attachment. */
function sendDocument(registry: Registry, req: Request, res: Response): void {
  res.set(SECURITY_HEADERS);
  const file = DOWNLOADS[String(req.params.file) as keyof typeof DOWNLOADS];
  let id: string;
  try {
    id = formatServiceId(parseServiceId([req.params.i, req.params.c, req.params.m, req.params.s, req.params.svc].join('/'), 'service'));
  } catch (err) {
    if (!(err instanceof IdentifierError)) throw err;
    return void res.status(400).json({ error: 'invalid', field: 'service', message: err.message });
  }
  const service = registry.services.list().find((s) => s.id === id);
  if (!file || !service?.openApi) return void res.status(404).json({ error: 'not-found', message: `no OpenAPI document ${String(req.params.file)} for service ${id}` });
  let body: string;
  try {
    body = file.render(service.openApi);
  } catch {
    return void res.status(422).json({ error: 'unreadable', message: `the OpenAPI document of ${id} is not valid YAML or JSON` });
  }
  // Service codes may hold characters a header's filename cannot: only a safe subset is kept.
  const name = `${service.serviceCode.replace(/[^A-Za-z0-9._-]/g, '_')}-${String(req.params.file)}`;
  res
    .set({ 'Cache-Control': 'no-cache', 'Content-Disposition': `attachment; filename="${name}"` })
    .type(file.type)
    .send(body);
}

/**
 * The API catalogue: every registered service with its provider, endpoints, OpenAPI document
 * (rendered, and downloadable) and who may call what. Public and read-only like `/dashboard`:
 * it shows only what the global configuration publishes to every member.
 */
export function catalogueRouter(deps: { registry: Registry; publisher: ConfPublisher }): Router {
  const router = Router();
  const send = (res: Response, type: string, body: Buffer) => {
    res
      .set({ ...SECURITY_HEADERS, 'Cache-Control': 'no-cache' })
      .type(type)
      .send(body);
  };
  router.get('/catalogue', (_req, res) => send(res, 'html', FILES.page));
  router.get('/catalogue/catalogue.js', (_req, res) => send(res, 'text/javascript', FILES.script));
  router.get('/catalogue/catalogue.css', (_req, res) => send(res, 'text/css', FILES.style));
  router.get('/catalogue/favicon.svg', (_req, res) => send(res, 'image/svg+xml', FILES.icon));
  router.get('/catalogue/data', (_req, res) => {
    res.set({ ...SECURITY_HEADERS, 'Cache-Control': 'no-store' }).json(catalogueData(deps.registry, deps.publisher));
  });
  router.get('/catalogue/services/:i/:c/:m/:s/:svc/:file', (req, res) => sendDocument(deps.registry, req, res));
  return router;
}
