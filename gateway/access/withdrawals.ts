import type { GatewayContext } from '../context.js';
import { centralUrlOf, ServiceRequestRefused, submitAccessRightRequest, type ServiceRequestOutcome } from '../setup/service-requests.js';
import type { RightKey } from './overlay.js';

export type RemovalOutcome = { readonly central: 'recorded'; readonly requestId: number } | { readonly central: 'unreachable' | 'refused'; readonly reason: string };

/** The signed accessRightRemove, sent now; what central said (its refusal marks the entry). */
export async function sendRemoval(ctx: GatewayContext, right: RightKey): Promise<RemovalOutcome> {
  let outcome: ServiceRequestOutcome;
  // Only the right's own fields: an overlay entry carries more (since, refused).
  const { service, subject, method, path } = right;
  try {
    outcome = await submitAccessRightRequest(centralUrlOf(ctx.config), { serverId: ctx.config.serverId, owner: ctx.keys.signing, change: { type: 'accessRightRemove', service, subject, method, path } });
  } catch (err) {
    if (!(err instanceof ServiceRequestRefused)) return { central: 'unreachable', reason: (err as Error).message };
    // Central no longer has the right: the next configuration ends the entry.
    if (err.code === 'unknown-right') return { central: 'refused', reason: err.message };
    ctx.accessOverlay.markRefused(right, err.message);
    return { central: 'refused', reason: err.message };
  }
  return { central: 'recorded', requestId: outcome.id };
}

/** Withdraws a right at once (the local deny), then tells central; resent each poll until recorded. */
export async function withdrawRight(ctx: GatewayContext, right: RightKey): Promise<RemovalOutcome> {
  ctx.accessOverlay.withdraw(right, ctx.clock());
  ctx.log.info({ service: right.service, subject: right.subject, method: right.method, path: right.path }, 'access right withdrawn here; removal sent to central');
  return sendRemoval(ctx, right);
}

/**
 * Every poll interval, sends again each withdrawal that central has not refused and the
 * configuration still carries: central down when the owner revoked means it hears of it when
 * it is back, with a freshly signed request.
 */
export function startWithdrawalResender(ctx: GatewayContext, everyMs: number): { stop(): void } {
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      const carried = ctx.globalConf.current?.accessRights ?? [];
      for (const entry of ctx.accessOverlay.list()) {
        if (entry.refused || !carried.some((r) => r.service === entry.service && r.subject === entry.subject && r.method === entry.method && r.path === entry.path)) continue;
        const outcome = await sendRemoval(ctx, entry);
        if (outcome.central !== 'recorded') ctx.log.warn({ service: entry.service, subject: entry.subject, central: outcome.central, reason: outcome.reason }, 'the withdrawn access right is still denied here; central has not recorded its removal');
      }
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
