import express, { Router, type Request, type Response } from 'express';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { callerOf, type AuditWriter } from '../../common/console/gate.js';
import { parseAnchor } from '../../protocol/anchor.js';
import type { GatewayContext } from '../context.js';
import { ServiceRequestRefused, submitMaintenanceRequest } from '../setup/service-requests.js';

export const MaintenanceBody = z.strictObject({ message: z.string().max(500).default('') });

/**
 * `/maintenance` of a gateway's `/api/v1` (X-Road's maintenance mode, pr-mserv 2.10–2.11): the
 * owner takes this server out of service with a message for callers, whose gateways then skip it
 * (or, when the provider has no other server, answer `Server.ClientProxy.MaintenanceMode` with
 * the message), and brings it back. Central applies the enabling at once: it is a reduction.
 */
export function maintenanceRouter(deps: { readonly ctx: GatewayContext; readonly audit: AuditWriter }): Router {
  const { ctx } = deps;
  const router = Router();
  const answer = (req: Request, res: Response, status: number, body: unknown, outcome: string) => {
    deps.audit(callerOf(res).actor, `${req.method} /api/v1/maintenance`, ctx.config.serverId, { status, outcome });
    res.status(status).json(body);
  };
  const send = (req: Request, res: Response, enable: boolean, message?: string) => {
    const centralUrl = parseAnchor(readFileSync(ctx.config.anchor, 'utf8')).anchor.centralUrl;
    void submitMaintenanceRequest(centralUrl, { serverId: ctx.config.serverId, owner: ctx.keys.signing, enable, ...(message === undefined ? {} : { message }) }).then(
      (outcome) => answer(req, res, outcome.status === 'approved' ? 201 : 202, { server: ctx.config.serverId, maintenance: enable, requestId: outcome.id, status: outcome.status === 'approved' ? 'in progress' : 'waiting for approval' }, 'sent'),
      (err: Error) =>
        err instanceof ServiceRequestRefused
          ? answer(req, res, err.status === 404 || err.status === 409 ? err.status : 502, { error: `central-${err.code}`, message: err.message }, 'refused')
          : answer(req, res, 502, { error: 'central-unavailable', message: `the request did not reach central: ${err.message}` }, 'failed'),
    );
  };
  router.get('/maintenance', (_req, res) => {
    const listed = ctx.globalConf.current?.securityServers.find((s) => s.id === ctx.config.serverId);
    res.json({ server: ctx.config.serverId, maintenance: listed?.maintenance !== undefined, message: listed?.maintenance ?? null });
  });
  router.post('/maintenance', express.json({ limit: 4096 }), (req, res) => {
    const body = MaintenanceBody.safeParse(req.body ?? {});
    if (!body.success) return answer(req, res, 400, { error: 'invalid-request', field: 'message', message: `message: ${body.error.issues[0]!.message}` }, 'refused');
    send(req, res, true, body.data.message);
  });
  router.delete('/maintenance', (req, res) => send(req, res, false));
  return router;
}
