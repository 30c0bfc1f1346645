import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AuditWriter } from '../../common/console/gate.js';
import { answerer, sendToCentral } from './central-answer.js';
import type { GatewayContext } from '../context.js';
import { disableClient } from '../access/withdrawals.js';
import { centralUrlOf, submitClientStateRequest, submitMaintenanceRequest, submitServerChange, type ServerChange, type ServiceRequestOutcome } from '../setup/service-requests.js';

export const MaintenanceBody = z.strictObject({ message: z.string().max(500).default('') });
export const AddressChangeBody = z.strictObject({ address: z.string().min(1).max(300) });

/**
 * What takes this server, or one of its clients, out of service and back; each a signed request
 * to central, which applies the reductions (enabling maintenance, disabling a client) at once.
 *
 * `/maintenance` of a gateway's `/api/v1` (X-Road's maintenance mode, pr-mserv 2.10–2.11): the
 * owner takes this server out of service with a message for callers, whose gateways then skip it
 * (or, when the provider has no other server, answer `Server.ClientProxy.MaintenanceMode` with
 * the message), and brings it back.
 *
 * `/clients/{id}/disable` and `/enable` (ug-ss §4.7, pr-mserv 2.7–2.8): a disabled client stays
 * registered but can neither call (`Client.ClientNotRegistered`) nor be called
 * (`Server.ServerProxy.ServiceDisabled`).
 *
 * `/server/address`, `/token-certificates/{hash}` (DELETE) and `/clients/{id}` (DELETE): the owner's
 * addressChange, authCertDeletion and clientDeletion, which wait for approval outside the simulation.
 */
export function serverStateRouter(deps: { readonly ctx: GatewayContext; readonly audit: AuditWriter }): Router {
  const { ctx } = deps;
  const router = Router();
  const answer = answerer(deps.audit);
  /** Sends the request and answers what central said: 201 applied, 202 waiting, or its refusal. */
  const send = (req: Request, res: Response, target: string, sent: (centralUrl: string) => Promise<ServiceRequestOutcome>, fields: Record<string, unknown>) =>
    sendToCentral(answer, req, res, target, () => sent(centralUrlOf(ctx.config)), fields);
  const maintenance = (req: Request, res: Response, enable: boolean, message?: string) =>
    send(req, res, ctx.config.serverId, (url) => submitMaintenanceRequest(url, { serverId: ctx.config.serverId, owner: ctx.keys.signing, enable, ...(message === undefined ? {} : { message }) }), {
      server: ctx.config.serverId,
      maintenance: enable,
    });
  const listedHere = () => ctx.globalConf.current?.securityServers.find((s) => s.id === ctx.config.serverId);
  /** A reduction: denied here at once, central up or not (the overlay), and sent again each poll until recorded. */
  const disable = (req: Request, res: Response) => {
    const client = String(req.params.id).replaceAll(':', '/');
    if (!listedHere()?.clients.includes(client))
      return answer(req, res, 404, { error: 'unknown-client', message: `${client} is not a client of security server ${ctx.config.serverId} in the configuration` }, client, 'refused');
    void disableClient(ctx, client).then((outcome) => {
      if (outcome.central === 'recorded') return answer(req, res, 201, { client, disabled: true, requestId: outcome.requestId, status: 'in progress' }, client, 'disabled; central recorded');
      // Disabled here either way, as a revocation is: 202 while central is unreachable, 200 with its refusal.
      answer(
        req,
        res,
        outcome.central === 'unreachable' ? 202 : 200,
        { client, disabled: true, central: outcome.central, status: `disabled here; central ${outcome.central}: ${outcome.reason}`, message: outcome.reason },
        client,
        `disabled; central ${outcome.central}`,
      );
    });
  };
  const enable = (req: Request, res: Response) => {
    const client = String(req.params.id).replaceAll(':', '/');
    const dropped = ctx.accessOverlay.dropClient(client);
    // Disabled here only (central never recorded it): ending the local deny is all there is to do.
    if (dropped && !dropped.recorded && !listedHere()?.disabledClients?.includes(client))
      return answer(req, res, 200, { client, disabled: false, status: 'enabled here; central never recorded the disable' }, client, 'enabled here');
    send(req, res, client, (url) => submitClientStateRequest(url, { serverId: ctx.config.serverId, owner: ctx.keys.signing, client, disable: false }), { client, disabled: false });
  };
  router.get('/maintenance', (_req, res) => {
    const listed = ctx.globalConf.current?.securityServers.find((s) => s.id === ctx.config.serverId);
    res.json({ server: ctx.config.serverId, maintenance: listed?.maintenance !== undefined, message: listed?.maintenance ?? null });
  });
  router.post('/maintenance', express.json({ limit: 4096 }), (req, res) => {
    const body = MaintenanceBody.safeParse(req.body ?? {});
    if (!body.success) return answer(req, res, 400, { error: 'invalid-request', field: 'message', message: `message: ${body.error.issues[0]!.message}` }, ctx.config.serverId, 'refused');
    maintenance(req, res, true, body.data.message);
  });
  router.delete('/maintenance', (req, res) => maintenance(req, res, false));
  const serverChange = (req: Request, res: Response, change: ServerChange) =>
    send(req, res, ctx.config.serverId, (url) => submitServerChange(url, { serverId: ctx.config.serverId, owner: ctx.keys.signing, change }), { server: ctx.config.serverId, ...change });
  router.put('/server/address', express.json({ limit: 4096 }), (req, res) => {
    const body = AddressChangeBody.safeParse(req.body ?? {});
    if (!body.success) return answer(req, res, 400, { error: 'invalid-request', field: 'address', message: `address: ${body.error.issues[0]!.message}` }, ctx.config.serverId, 'refused');
    serverChange(req, res, { type: 'addressChange', address: body.data.address });
  });
  router.delete('/token-certificates/:hash', (req, res) => serverChange(req, res, { type: 'authCertDeletion', authCertHash: String(req.params.hash).toLowerCase() }));
  router.delete('/clients/:id', (req, res) => serverChange(req, res, { type: 'clientDeletion', client: String(req.params.id).replaceAll(':', '/') }));
  router.post('/clients/:id/disable', disable);
  router.post('/clients/:id/enable', enable);
  return router;
}
