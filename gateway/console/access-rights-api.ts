import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AuditWriter } from '../../common/console/gate.js';
import { answerer, progressOf, sendToCentral } from './central-answer.js';
import type { GatewayContext } from '../context.js';
import { sendRemoval, withdrawRight } from '../access/withdrawals.js';
import type { RightKey } from '../access/overlay.js';
import { centralUrlOf, submitAccessRightRequest } from '../setup/service-requests.js';

export interface AccessRightsApiDeps {
  readonly ctx: GatewayContext;
  readonly audit: AuditWriter;
}

/** A right on one of this gateway's services: a subsystem, and all of the service or one method and path. */
export const AccessRightBody = z.strictObject({
  service: z.string().min(1).max(1024),
  subject: z.string().min(1).max(1024),
  /** A subsystem, or one of the service's subsystem's local groups (its full id). */
  subjectType: z.enum(['SUBSYSTEM', 'LOCALGROUP']).default('SUBSYSTEM'),
  method: z.string().min(1).max(16).default('*'),
  path: z.string().min(1).max(1024).default('/**'),
});

/**
 * `/access-rights` of a gateway's `/api/v1`, after X-Road's service clients (ug-ss §8): the rights
 * on the services this gateway provides, as the configuration carries them (with their origin) and
 * as withdrawn here; a grant sends a signed accessRightAdd to central; a revocation denies here at
 * once (the overlay) and sends accessRightRemove, again each poll until central records it.
 */
export function accessRightsRouter(deps: AccessRightsApiDeps): Router {
  const { ctx } = deps;
  const router = Router();
  const json = express.json({ limit: 8192 });
  const answer = answerer(deps.audit);
  /** The body as a right on a service of this gateway, or an answered refusal. */
  const rightOf = (req: Request, res: Response): (RightKey & { subjectType: 'SUBSYSTEM' | 'LOCALGROUP' }) | undefined => {
    const body = AccessRightBody.safeParse(req.body ?? {});
    if (!body.success) {
      const issue = body.error.issues[0]!;
      return void answer(req, res, 400, { error: 'invalid-request', field: issue.path.join('.'), message: `${issue.path.join('.') || 'body'}: ${issue.message}` }, 'access-rights', 'refused');
    }
    if (!(body.data.service in ctx.config.services)) {
      return void answer(
        req,
        res,
        404,
        { error: 'unknown-service', field: 'service', message: `${body.data.service} is not a service of this security server (${ctx.config.serverId})` },
        body.data.service,
        'refused',
      );
    }
    return body.data;
  };

  router.get('/access-rights', (_req, res) => {
    const own = new Set(Object.keys(ctx.config.services));
    const rights = (ctx.globalConf.current?.accessRights ?? []).filter((r) => own.has(r.service)).map((r) => ({ ...r, withdrawn: r.subjectType !== 'GLOBALGROUP' && ctx.accessOverlay.withdraws(r) }));
    res.json({ rights, withdrawals: ctx.accessOverlay.list(), pending: ctx.sentRequests.list().filter((r) => r.type === 'accessRightAdd') });
  });

  router.post('/access-rights', json, (req, res) => {
    const right = rightOf(req, res);
    if (!right) return;
    const change = { type: 'accessRightAdd', ...right } as const;
    sendToCentral(
      answer,
      req,
      res,
      right.service,
      () => submitAccessRightRequest(centralUrlOf(ctx.config), { serverId: ctx.config.serverId, owner: ctx.keys.signing, change }),
      right,
      (outcome) => ctx.sentRequests.add({ requestId: outcome.id, type: 'accessRightAdd', sentAt: new Date(ctx.clock()).toISOString(), status: progressOf(outcome), ...right }),
    );
  });

  router.delete('/access-rights', json, (req, res) => {
    const right = rightOf(req, res);
    if (!right) return;
    const carried = (ctx.globalConf.current?.accessRights ?? []).some(
      (r) => r.subjectType === right.subjectType && r.service === right.service && r.subject === right.subject && r.method === right.method && r.path === right.path,
    );
    // A withdrawal of a right not in the configuration would linger and deny the right if it were granted later.
    if (!carried)
      return answer(
        req,
        res,
        404,
        { error: 'unknown-right', message: `the configuration has no right of ${right.subject} to ${right.method} ${right.path} on ${right.service}` },
        right.service,
        'refused',
      );
    void withdrawRight(ctx, right).then((outcome) => answer(req, res, 200, { ...right, withdrawn: true, ...outcome }, right.service, `withdrawn; central ${outcome.central}`));
  });

  // The owner ends a withdrawal itself (one central refused, say): the configuration's rights apply again.
  router.delete('/access-rights/withdrawals', json, (req, res) => {
    const right = rightOf(req, res);
    if (!right) return;
    if (!ctx.accessOverlay.drop(right))
      return answer(
        req,
        res,
        404,
        { error: 'unknown-withdrawal', message: `the right of ${right.subject} to ${right.method} ${right.path} on ${right.service} is not withdrawn here` },
        right.service,
        'refused',
      );
    answer(req, res, 200, { ...right, withdrawn: false }, right.service, 'dropped');
  });

  // Sends the removals again now, instead of at the next poll.
  router.post('/access-rights/withdrawals/resend', (req, res) => {
    const pending = ctx.accessOverlay.list().filter((e) => !e.refused);
    void Promise.all(pending.map(async (e) => ({ ...e, ...(await sendRemoval(ctx, e)) }))).then((sent) => answer(req, res, 200, { sent }, 'access-rights', 'resent'));
  });
  return router;
}
