import type { KeyObject, X509Certificate } from 'node:crypto';
import { parseSecurityServerId, parseServiceId, sameMember } from '../../protocol/identifiers.js';
import { signManagementRequest, type RequestSigner } from '../../protocol/management.js';
import { ocspResponses, postManagementRequest } from './register.js';

export interface SigningKey {
  readonly key: KeyObject;
  readonly cert: X509Certificate;
}

/** What the service is to become: serviceAdd and serviceUpdate carry the whole definition. */
export type ServiceChange =
  | { readonly type: 'serviceAdd' | 'serviceUpdate'; readonly service: string; readonly endpoints: ReadonlyArray<{ method: string; path: string }>; readonly openApi?: string | null }
  | { readonly type: 'serviceRemove'; readonly service: string };

export interface ServiceRequestOutcome {
  readonly id: number;
  /** `approved` once central applied it (simulation mode); `pending` while an administrator has to decide. */
  readonly status: 'approved' | 'pending';
}

export class ServiceRequestRefused extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ServiceRequestRefused';
  }
}

/**
 * Sends a service's addition, change or removal to central, signed by the server owner's signing
 * key and, when the service belongs to a client of another member, by that member's key too;
 * each signature carries a fresh OCSP response, as registration does.
 */
export async function submitServiceRequest(
  centralUrl: string,
  o: { readonly serverId: string; readonly owner: SigningKey; readonly member?: SigningKey; readonly change: ServiceChange },
): Promise<ServiceRequestOutcome> {
  const server = parseSecurityServerId(o.serverId);
  const service = parseServiceId(o.change.service);
  const signingKeys = sameMember(service, server) ? [o.owner] : [o.owner, o.member];
  if (!signingKeys.every((k): k is SigningKey => k !== undefined)) throw new Error(`${o.change.service} is another member's service: its member's signing key must sign too`);
  const ocsp = await ocspResponses(centralUrl, signingKeys.map((k) => k.cert));
  const signers: RequestSigner[] = signingKeys.map((k, i) => ({ role: i === 0 ? 'owner' : 'client', key: k.key, certificatePem: k.cert.toString(), ocsp: ocsp[i]! }));
  const body =
    o.change.type === 'serviceRemove'
      ? { type: o.change.type, instance: server.instance, server: o.serverId, service: o.change.service }
      : { type: o.change.type, instance: server.instance, server: o.serverId, service: o.change.service, endpoints: [...o.change.endpoints], openApi: o.change.openApi ?? null };
  const answer = await postManagementRequest(centralUrl, signManagementRequest(body, signers));
  if (answer.status !== 201 && answer.status !== 202) {
    throw new ServiceRequestRefused(answer.status, answer.body.error ?? 'error', `central refused ${o.change.type} for ${o.change.service} (${answer.body.error ?? answer.status}): ${answer.body.message}`);
  }
  return { id: answer.body.id!, status: answer.body.status === 'approved' ? 'approved' : 'pending' };
}

/** A right on one of the owner's services: added (waits for approval outside the simulation) or removed (a reduction). */
export interface AccessRightChange {
  readonly type: 'accessRightAdd' | 'accessRightRemove';
  readonly service: string;
  readonly subject: string;
  readonly method: string;
  readonly path: string;
}

/** Sends a right's addition or removal to central, signed by the owner, whose service it must be. */
export async function submitAccessRightRequest(centralUrl: string, o: { readonly serverId: string; readonly owner: SigningKey; readonly change: AccessRightChange }): Promise<ServiceRequestOutcome> {
  const server = parseSecurityServerId(o.serverId);
  const [ocsp] = await ocspResponses(centralUrl, [o.owner.cert]);
  const signer: RequestSigner = { role: 'owner', key: o.owner.key, certificatePem: o.owner.cert.toString(), ocsp: ocsp! };
  const answer = await postManagementRequest(centralUrl, signManagementRequest({ ...o.change, instance: server.instance, server: o.serverId }, [signer]));
  if (answer.status !== 201 && answer.status !== 202) {
    throw new ServiceRequestRefused(answer.status, answer.body.error ?? 'error', `central refused ${o.change.type} for ${o.change.subject} on ${o.change.service} (${answer.body.error ?? answer.status}): ${answer.body.message}`);
  }
  return { id: answer.body.id!, status: answer.body.status === 'approved' ? 'approved' : 'pending' };
}

/** Takes this server out of service (a reduction: central applies it at once) with a message for callers, or back in. */
export async function submitMaintenanceRequest(centralUrl: string, o: { readonly serverId: string; readonly owner: SigningKey; readonly enable: boolean; readonly message?: string }): Promise<ServiceRequestOutcome> {
  const server = parseSecurityServerId(o.serverId);
  const [ocsp] = await ocspResponses(centralUrl, [o.owner.cert]);
  const signer: RequestSigner = { role: 'owner', key: o.owner.key, certificatePem: o.owner.cert.toString(), ocsp: ocsp! };
  const body = o.enable ? { type: 'maintenanceModeEnable' as const, instance: server.instance, server: o.serverId, message: o.message ?? '' } : { type: 'maintenanceModeDisable' as const, instance: server.instance, server: o.serverId };
  const answer = await postManagementRequest(centralUrl, signManagementRequest(body, [signer]));
  if (answer.status !== 201 && answer.status !== 202) throw new ServiceRequestRefused(answer.status, answer.body.error ?? 'error', `central refused ${body.type} for ${o.serverId} (${answer.body.error ?? answer.status}): ${answer.body.message}`);
  return { id: answer.body.id!, status: answer.body.status === 'approved' ? 'approved' : 'pending' };
}
