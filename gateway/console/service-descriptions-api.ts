import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { callerOf, type AuditWriter } from '../../common/console/gate.js';
import { ConfigEditError } from '../config-store.js';
import type { GatewayContext } from '../context.js';
import { OpenApiImportError } from '../services/import-error.js';
import { OPENAPI_MAX_BYTES } from '../services/openapi-import.js';
import { addServiceDescription, listServiceDescriptions, refreshServiceDescription, removeServiceDescription, ServiceDescriptionError } from '../services/service-descriptions.js';

export interface ServiceDescriptionsApiDeps {
  readonly ctx: GatewayContext;
  readonly audit: AuditWriter;
}

/**
 * The document rides in the JSON body as a string; escaping can double it (every quote, every
 * backslash), so the body may be twice central's 512 KiB and a little more. A larger document is
 * refused by the import with its size, a larger body by express with 413 (audited below).
 */
const BODY_LIMIT = 2 * OPENAPI_MAX_BYTES + 16 * 1024;
/** The document is checked against OPENAPI_MAX_BYTES by the import, in bytes; this only bounds what zod holds. */
const Document = z.string().min(1).max(BODY_LIMIT);
const Url = z.string().min(1).max(2048);

export const ServiceDescriptionAdd = z
  .strictObject({ serviceId: z.string().min(1).max(1024), baseUrl: z.string().min(1).max(2048), url: Url.optional(), document: Document.optional() })
  .refine((b) => (b.url === undefined) !== (b.document === undefined), { message: 'give the OpenAPI document or its url, one of the two', path: ['document'] });

export const ServiceDescriptionRefresh = z
  .strictObject({ url: Url.optional(), document: Document.optional(), apply: z.boolean().default(false) })
  .refine((b) => (b.url === undefined) !== (b.document === undefined), { message: 'give the OpenAPI document or its url, one of the two', path: ['document'] });

/** A path's id, as X-Road's admin API writes it (`CAMDX:GOV:MOI:KYC:orders`) or URL-encoded. */
const idOf = (param: string) => param.replaceAll(':', '/');
const action = (req: Request) => `${req.method} /api/v1${String(req.route?.path ?? req.path).replace(':id', '{id}')}`;

/**
 * `/service-descriptions` of a gateway's `/api/v1`, after X-Road's service descriptions: add a
 * service of the owner's from its OpenAPI document (uploaded in the JSON body, or fetched once
 * from `url`), list them with their status ('in progress' until the global configuration
 * carries the last change), refresh one (the endpoint diff; `apply` sends it), remove one. Each
 * change and refusal is audited with its outcome, never with the document or its URL.
 */
export function serviceDescriptionsRouter(deps: ServiceDescriptionsApiDeps): Router {
  const router = Router();
  const json = express.json({ limit: BODY_LIMIT });

  /** Runs one change and answers it, or answers its refusal; both audited. */
  const run = (req: Request, res: Response, target: string, status: number, work: () => Promise<unknown>, detail: Record<string, unknown> = {}) => {
    const audit = (code: number, outcome: string, more: Record<string, unknown> = {}) =>
      deps.audit(callerOf(res).actor, action(req), target.slice(0, 300), { status: code, outcome, ...detail, ...more });
    void work().then(
      (body) => {
        audit(status, 'applied');
        res.status(status).json(body);
      },
      (err: unknown) => {
        const refusal = refusalOf(err);
        if (!refusal) {
          deps.ctx.log.error({ err: { message: (err as Error).message } }, 'service description change failed');
          audit(500, 'failed');
          return void res.status(500).json({ error: 'internal-error', message: 'the change failed; gateway.yaml and central are as they were or as the audit log says' });
        }
        audit(refusal.status, 'refused', refusal.body.field ? { field: refusal.body.field } : {});
        res.status(refusal.status).json(refusal.body);
      },
    );
  };
  const invalid = (req: Request, res: Response, target: string, error: z.ZodError) => {
    const field = error.issues[0]!.path.join('.') || '(body)';
    deps.audit(callerOf(res).actor, action(req), target.slice(0, 300), { status: 400, outcome: 'refused', field });
    res.status(400).json({ error: 'invalid', field, message: error.issues[0]!.message });
  };
  const sourceOf = (b: { url?: string | undefined; document?: string | undefined }) => (b.url !== undefined ? 'url' : 'document');

  router.get('/service-descriptions', (_req, res) => void res.json(listServiceDescriptions(deps.ctx)));

  router.post('/service-descriptions', json, (req, res) => {
    const body = ServiceDescriptionAdd.safeParse(req.body ?? {});
    const target = typeof req.body?.serviceId === 'string' ? req.body.serviceId : '(none)';
    if (!body.success) return invalid(req, res, target, body.error);
    const b = body.data;
    run(req, res, b.serviceId, 201, () => addServiceDescription(deps.ctx, b), { source: sourceOf(b) });
  });

  router.post('/service-descriptions/:id/refresh', json, (req, res) => {
    const id = idOf(String(req.params.id));
    const body = ServiceDescriptionRefresh.safeParse(req.body ?? {});
    if (!body.success) return invalid(req, res, id, body.error);
    const b = body.data;
    run(req, res, id, 200, () => refreshServiceDescription(deps.ctx, id, b), { source: sourceOf(b), apply: b.apply });
  });

  router.delete('/service-descriptions/:id', (req, res) => {
    const id = idOf(String(req.params.id));
    run(req, res, id, 200, () => removeServiceDescription(deps.ctx, id));
  });

  // express.json's refusal of these routes' bodies (too large, not JSON), audited like the others.
  router.use('/service-descriptions', (err: { status?: number; message?: string }, req: Request, res: Response, next: NextFunction) => {
    if (!err.status || err.status < 400 || err.status >= 500) return next(err);
    deps.audit(callerOf(res).actor, `${req.method} /api/v1/service-descriptions`, '(body)', { status: err.status, outcome: 'refused', field: '(body)' });
    res.status(err.status).json({ error: 'invalid', field: '(body)', message: `the request body is not accepted (${err.message}); a document is at most ${OPENAPI_MAX_BYTES} bytes` });
  });
  return router;
}

type Refusal = { status: number; body: { error: string; message: string; field?: string; rightsOnRemoved?: unknown } };

function refusalOf(err: unknown): Refusal | undefined {
  if (err instanceof OpenApiImportError) return { status: 400, body: { error: 'invalid', field: err.field, message: err.message } };
  if (err instanceof ConfigEditError) return { status: err.status, body: { error: err.status === 400 ? 'invalid' : 'conflict', field: err.field, message: err.message } };
  if (err instanceof ServiceDescriptionError) {
    return { status: err.status, body: { error: err.reason, message: err.message, ...(err.field ? { field: err.field } : {}), ...(err.rights ? { rightsOnRemoved: err.rights } : {}) } };
  }
  return undefined;
}
