import type { GatewayContext } from '../context.js';
import { centralUrlOf, ServiceRequestRefused, submitAccessRightRequest, submitClientStateRequest, submitLocalGroupRequest, type ServiceRequestOutcome } from '../setup/service-requests.js';
import type { MemberKey, RightKey } from './overlay.js';

export type RemovalOutcome = { readonly central: 'recorded'; readonly requestId: number } | { readonly central: 'unreachable' | 'refused'; readonly reason: string };

/**
 * Sends a signed removal now and says what central answered. A refusal other than "already gone"
 * marks the entry (`markRefused`), which keeps denying and shows central's reason.
 */
async function sendSigned(send: () => Promise<ServiceRequestOutcome>, goneCode: string, markRefused: (reason: string) => void): Promise<RemovalOutcome> {
  let outcome: ServiceRequestOutcome;
  try {
    outcome = await send();
  } catch (err) {
    if (!(err instanceof ServiceRequestRefused)) return { central: 'unreachable', reason: (err as Error).message };
    // Central no longer has it: the next configuration ends the entry.
    if (err.reason !== goneCode) markRefused(err.message);
    return { central: 'refused', reason: err.message };
  }
  return { central: 'recorded', requestId: outcome.id };
}

/** The signed accessRightRemove, sent now; what central said (its refusal marks the entry). */
export function sendRemoval(ctx: GatewayContext, right: RightKey): Promise<RemovalOutcome> {
  // Only the right's own fields: an overlay entry carries more (since, refused).
  const { service, subject, method, path } = right;
  const subjectType = right.subjectType === 'LOCALGROUP' ? 'LOCALGROUP' : 'SUBSYSTEM';
  const change = { type: 'accessRightRemove', service, subject, subjectType, method, path } as const;
  return sendSigned(
    () => submitAccessRightRequest(centralUrlOf(ctx.config), { serverId: ctx.config.serverId, owner: ctx.keys.signing, change }),
    'unknown-right',
    (reason) => ctx.accessOverlay.markRefused(right, reason),
  );
}

/** The signed localGroupMemberRemove, sent now. */
export function sendMemberRemoval(ctx: GatewayContext, key: MemberKey): Promise<RemovalOutcome> {
  const change = { type: 'localGroupMemberRemove', group: key.group, member: key.member } as const;
  return sendSigned(
    () => submitLocalGroupRequest(centralUrlOf(ctx.config), { serverId: ctx.config.serverId, owner: ctx.keys.signing, change }),
    'unknown-group-member',
    (reason) => ctx.accessOverlay.markMemberRefused(key, reason),
  );
}

/** The signed clientDisable, sent now. */
export async function sendClientDisable(ctx: GatewayContext, client: string): Promise<RemovalOutcome> {
  const outcome = await sendSigned(
    () => submitClientStateRequest(centralUrlOf(ctx.config), { serverId: ctx.config.serverId, owner: ctx.keys.signing, client, disable: true }),
    'no-such-code',
    (reason) => ctx.accessOverlay.markClientRefused(client, reason),
  );
  // An enable before the next poll must still reach central: it will list the client disabled.
  if (outcome.central === 'recorded') ctx.accessOverlay.markClientRecorded(client);
  return outcome;
}

/** Disables a client here at once (neither calling nor called through this server), then tells central. */
export async function disableClient(ctx: GatewayContext, client: string): Promise<RemovalOutcome> {
  ctx.accessOverlay.disableClient(client, ctx.clock());
  ctx.log.info({ client }, 'client disabled here; clientDisable sent to central');
  return sendClientDisable(ctx, client);
}

/** Withdraws a right at once (the local deny), then tells central; resent each poll until recorded. */
export async function withdrawRight(ctx: GatewayContext, right: RightKey): Promise<RemovalOutcome> {
  ctx.accessOverlay.withdraw(right, ctx.clock());
  ctx.log.info({ service: right.service, subject: right.subject, method: right.method, path: right.path }, 'access right withdrawn here; removal sent to central');
  return sendRemoval(ctx, right);
}

/** Takes a member out of a local group at once (its rights through the group are denied here), then tells central. */
export async function withdrawMember(ctx: GatewayContext, key: MemberKey): Promise<RemovalOutcome> {
  ctx.accessOverlay.withdrawMember(key, ctx.clock());
  ctx.log.info({ group: key.group, member: key.member }, 'local group member withdrawn here; removal sent to central');
  return sendMemberRemoval(ctx, key);
}

/**
 * Every poll interval, sends again each withdrawal that central has not refused and the
 * configuration still carries: central down when the owner revoked means it hears of it when
 * it is back, with a freshly signed request.
 */
export function startWithdrawalResender(ctx: GatewayContext, everyMs: number): { stop(): void } {
  let running = false;
  const warn = (what: Record<string, string>, outcome: RemovalOutcome) => {
    if (outcome.central !== 'recorded') ctx.log.warn({ ...what, central: outcome.central, reason: outcome.reason }, 'the withdrawal is still denied here; central has not recorded it');
  };
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      const conf = ctx.globalConf.current;
      const rights = conf?.accessRights ?? [];
      for (const entry of ctx.accessOverlay.list()) {
        if (entry.refused || !rights.some((r) => r.service === entry.service && r.subject === entry.subject && r.method === entry.method && r.path === entry.path)) continue;
        warn({ service: entry.service, subject: entry.subject }, await sendRemoval(ctx, entry));
      }
      const here = conf?.securityServers.find((s) => s.id === ctx.config.serverId);
      for (const entry of ctx.accessOverlay.listClients()) {
        if (entry.refused || entry.recorded || !here?.clients.includes(entry.client) || here.disabledClients?.includes(entry.client)) continue;
        warn({ client: entry.client }, await sendClientDisable(ctx, entry.client));
      }
      for (const entry of ctx.accessOverlay.listMembers()) {
        if (entry.refused || !(conf?.localGroups ?? []).some((g) => g.id === entry.group && g.members.includes(entry.member))) continue;
        warn({ group: entry.group, member: entry.member }, await sendMemberRemoval(ctx, entry));
      }
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
