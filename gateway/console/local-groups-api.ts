import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AuditWriter } from '../../common/console/gate.js';
import { formatSubsystemId, IdentifierError, parseLocalGroupId, parseSubsystemId } from '../../protocol/identifiers.js';
import type { GatewayContext } from '../context.js';
import { withdrawMember } from '../access/withdrawals.js';
import { centralUrlOf, submitLocalGroupRequest, type LocalGroupChange } from '../setup/service-requests.js';
import { answerer, progressOf, sendToCentral } from './central-answer.js';

const Id = z.string().min(1).max(1024);
export const LocalGroupBody = z.strictObject({ owner: Id, code: z.string().min(1).max(255), description: z.string().max(300).default('') });
export const LocalGroupIdBody = z.strictObject({ id: Id });
export const LocalGroupMemberBody = z.strictObject({ group: Id, member: Id });

/**
 * `/local-groups` of a gateway's `/api/v1`, after X-Road's local groups (ug-ss §4.4): named sets
 * of subsystems that a client of this server gives rights on its own services. Each change is a
 * signed request to central; taking a member out is a reduction, denied here at once (the
 * overlay) and resent each poll until central records it.
 */
export function localGroupsRouter(deps: { readonly ctx: GatewayContext; readonly audit: AuditWriter }): Router {
  const { ctx } = deps;
  const router = Router();
  const json = express.json({ limit: 8192 });
  const answer = answerer(deps.audit);
  const clientsHere = () => ctx.globalConf.current?.securityServers.find((s) => s.id === ctx.config.serverId)?.clients ?? [];
  /** The body, its ids well formed and its group one of a client of this server's, or an answered refusal. */
  const bodyOf = <T extends { owner?: string; id?: string; group?: string; member?: string }>(schema: z.ZodType<T>, req: Request, res: Response): T | undefined => {
    const body = schema.safeParse(req.body ?? {});
    if (!body.success) {
      const issue = body.error.issues[0]!;
      return void answer(req, res, 400, { error: 'invalid-request', field: issue.path.join('.'), message: `${issue.path.join('.') || 'body'}: ${issue.message}` }, 'local-groups', 'refused');
    }
    try {
      const owner = body.data.owner ?? formatSubsystemId(parseLocalGroupId(body.data.id ?? body.data.group, 'group'));
      if (body.data.member !== undefined) parseSubsystemId(body.data.member, 'member');
      if (!clientsHere().includes(formatSubsystemId(parseSubsystemId(owner, 'owner')))) {
        return void answer(
          req,
          res,
          404,
          { error: 'unknown-client', field: 'owner', message: `${owner} is not a client of this security server (${ctx.config.serverId}); a local group belongs to one of its clients` },
          owner,
          'refused',
        );
      }
    } catch (err) {
      if (!(err instanceof IdentifierError)) throw err;
      return void answer(req, res, 400, { error: 'invalid-request', message: err.message }, 'local-groups', 'refused');
    }
    return body.data;
  };
  const send = (req: Request, res: Response, change: LocalGroupChange, fields: Record<string, unknown>) =>
    sendToCentral(
      answer,
      req,
      res,
      change.group,
      () => submitLocalGroupRequest(centralUrlOf(ctx.config), { serverId: ctx.config.serverId, owner: ctx.keys.signing, change }),
      fields,
      (outcome) => {
        if (change.type === 'localGroupMemberRemove') return;
        const member = 'member' in change ? { member: change.member } : 'description' in change ? { description: change.description } : {};
        ctx.sentRequests.add({ requestId: outcome.id, type: change.type, sentAt: new Date(ctx.clock()).toISOString(), status: progressOf(outcome), group: change.group, ...member });
      },
    );

  router.get('/local-groups', (_req, res) => {
    const owners = new Set(clientsHere());
    const groups = (ctx.globalConf.current?.localGroups ?? [])
      .filter((g) => owners.has(g.id.slice(0, g.id.lastIndexOf('/'))))
      .map((g) => ({
        ...g,
        owner: g.id.slice(0, g.id.lastIndexOf('/')),
        code: g.id.slice(g.id.lastIndexOf('/') + 1),
        withdrawnMembers: g.members.filter((m) => ctx.accessOverlay.withdrawsMember(g.id, m)),
      }));
    res.json({ groups, withdrawals: ctx.accessOverlay.listMembers(), pending: ctx.sentRequests.list().filter((r) => r.type.startsWith('localGroup')) });
  });
  router.post('/local-groups', json, (req, res) => {
    const body = bodyOf(LocalGroupBody, req, res);
    if (!body) return;
    const group = `${body.owner}/${body.code}`;
    try {
      parseLocalGroupId(group, 'group');
    } catch (err) {
      return answer(req, res, 400, { error: 'invalid-request', field: 'code', message: (err as Error).message }, group, 'refused');
    }
    send(req, res, { type: 'localGroupAdd', group, description: body.description }, { id: group });
  });
  router.delete('/local-groups', json, (req, res) => {
    const body = bodyOf(LocalGroupIdBody, req, res);
    if (body) send(req, res, { type: 'localGroupRemove', group: body.id }, { id: body.id });
  });
  router.post('/local-groups/members', json, (req, res) => {
    const body = bodyOf(LocalGroupMemberBody, req, res);
    if (body) send(req, res, { type: 'localGroupMemberAdd', group: body.group, member: body.member }, body);
  });
  router.delete('/local-groups/members', json, (req, res) => {
    const body = bodyOf(LocalGroupMemberBody, req, res);
    if (!body) return;
    const group = (ctx.globalConf.current?.localGroups ?? []).find((g) => g.id === body.group);
    // As for rights: a withdrawal of a membership the configuration does not carry would linger.
    if (!group?.members.includes(body.member))
      return answer(req, res, 404, { error: 'unknown-group-member', message: `the configuration has no member ${body.member} in local group ${body.group}` }, body.group, 'refused');
    void withdrawMember(ctx, body).then((outcome) => answer(req, res, 200, { ...body, withdrawn: true, ...outcome }, body.group, `withdrawn; central ${outcome.central}`));
  });
  return router;
}
