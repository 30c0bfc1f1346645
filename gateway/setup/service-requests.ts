import type { KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseAnchor } from '../../protocol/anchor.js';
import { parseSecurityServerId, parseServiceId, sameMember } from '../../protocol/identifiers.js';
import { signManagementRequest, type RequestSigner } from '../../protocol/management.js';
import { ocspResponses, postManagementRequest } from './register.js';
import { CamdxError } from '../../protocol/errors.js';

/** Where this gateway sends management requests: central's URL, as its configuration anchor names it. */
export function centralUrlOf(config: { readonly anchor: string }): string {
  return parseAnchor(readFileSync(config.anchor, 'utf8')).anchor.centralUrl;
}

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

export class ServiceRequestRefused extends CamdxError<'CentralRequest'> {
  constructor(
    readonly status: number,
    /** Central's refusal code (protocol/management.ts), stable. */
    readonly reason: string,
    message: string,
  ) {
    super('CentralRequest', message);
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
  const ocsp = await ocspResponses(
    centralUrl,
    signingKeys.map((k) => k.cert),
  );
  const signers: RequestSigner[] = signingKeys.map((k, i) => ({ role: i === 0 ? 'owner' : 'client', key: k.key, certificatePem: k.cert.toString(), ocsp: ocsp[i]! }));
  const body =
    o.change.type === 'serviceRemove'
      ? { type: o.change.type, instance: server.instance, server: o.serverId, service: o.change.service }
      : { type: o.change.type, instance: server.instance, server: o.serverId, service: o.change.service, endpoints: [...o.change.endpoints], openApi: o.change.openApi ?? null };
  const answer = await postManagementRequest(centralUrl, signManagementRequest(body, signers));
  if (answer.status !== 201 && answer.status !== 202) {
    throw new ServiceRequestRefused(
      answer.status,
      answer.body.error ?? 'error',
      `central refused ${o.change.type} for ${o.change.service} (${answer.body.error ?? answer.status}): ${answer.body.message}`,
    );
  }
  return { id: answer.body.id!, status: answer.body.status === 'approved' ? 'approved' : 'pending' };
}

/** A right on one of the owner's services: added (waits for approval outside the simulation) or removed (a reduction). */
export interface AccessRightChange {
  readonly type: 'accessRightAdd' | 'accessRightRemove';
  readonly service: string;
  readonly subject: string;
  /** A subsystem (the default), or a local group of the service's subsystem. */
  readonly subjectType?: 'SUBSYSTEM' | 'LOCALGROUP';
  readonly method: string;
  readonly path: string;
}

type OwnerRequestBody = Parameters<typeof signManagementRequest>[0];

/**
 * Sends a request about the owner's own server, clients or services, signed by the owner alone
 * (with a fresh OCSP response); `what` names it in central's refusal.
 */
export async function submitOwnerRequest(
  centralUrl: string,
  o: { readonly serverId: string; readonly owner: SigningKey },
  type: OwnerRequestBody['type'],
  fields: Record<string, string>,
  what: string,
): Promise<ServiceRequestOutcome> {
  const server = parseSecurityServerId(o.serverId);
  const [ocsp] = await ocspResponses(centralUrl, [o.owner.cert]);
  const signer: RequestSigner = { role: 'owner', key: o.owner.key, certificatePem: o.owner.cert.toString(), ocsp: ocsp! };
  const body = { ...fields, type, instance: server.instance, server: o.serverId } as unknown as OwnerRequestBody;
  const answer = await postManagementRequest(centralUrl, signManagementRequest(body, [signer]));
  if (answer.status !== 201 && answer.status !== 202)
    throw new ServiceRequestRefused(answer.status, answer.body.error ?? 'error', `central refused ${type} for ${what} (${answer.body.error ?? answer.status}): ${answer.body.message}`);
  return { id: answer.body.id!, status: answer.body.status === 'approved' ? 'approved' : 'pending' };
}

/** Sends a right's addition or removal to central, signed by the owner, whose service it must be. */
export function submitAccessRightRequest(centralUrl: string, o: { readonly serverId: string; readonly owner: SigningKey; readonly change: AccessRightChange }): Promise<ServiceRequestOutcome> {
  const { type, ...fields } = o.change;
  return submitOwnerRequest(centralUrl, o, type, fields, `${fields.subject} on ${fields.service}`);
}

/** A local group of one of the owner's clients: made, removed, or a member in or out (a reduction). */
export type LocalGroupChange =
  | { readonly type: 'localGroupAdd'; readonly group: string; readonly description: string }
  | { readonly type: 'localGroupRemove'; readonly group: string }
  | { readonly type: 'localGroupMemberAdd' | 'localGroupMemberRemove'; readonly group: string; readonly member: string };

export function submitLocalGroupRequest(centralUrl: string, o: { readonly serverId: string; readonly owner: SigningKey; readonly change: LocalGroupChange }): Promise<ServiceRequestOutcome> {
  const { type, ...fields } = o.change;
  return submitOwnerRequest(centralUrl, o, type, fields as Record<string, string>, 'member' in fields ? `${fields.member} in ${fields.group}` : fields.group);
}

/** Takes this server out of service (a reduction: central applies it at once) with a message for callers, or back in. */
export function submitMaintenanceRequest(
  centralUrl: string,
  o: { readonly serverId: string; readonly owner: SigningKey; readonly enable: boolean; readonly message?: string },
): Promise<ServiceRequestOutcome> {
  return o.enable ? submitOwnerRequest(centralUrl, o, 'maintenanceModeEnable', { message: o.message ?? '' }, o.serverId) : submitOwnerRequest(centralUrl, o, 'maintenanceModeDisable', {}, o.serverId);
}

/** clientDisable (a reduction: central applies it at once) or clientEnable for one of the owner's clients of this server. */
export function submitClientStateRequest(
  centralUrl: string,
  o: { readonly serverId: string; readonly owner: SigningKey; readonly client: string; readonly disable: boolean },
): Promise<ServiceRequestOutcome> {
  return submitOwnerRequest(centralUrl, o, o.disable ? 'clientDisable' : 'clientEnable', { client: o.client }, o.client);
}

/** The owner's changes to its server in central's registry: its address, a registered authentication certificate, a client. */
export type ServerChange =
  { readonly type: 'addressChange'; readonly address: string } | { readonly type: 'authCertDeletion'; readonly authCertHash: string } | { readonly type: 'clientDeletion'; readonly client: string };

export function submitServerChange(centralUrl: string, o: { readonly serverId: string; readonly owner: SigningKey; readonly change: ServerChange }): Promise<ServiceRequestOutcome> {
  const { type, ...fields } = o.change;
  return submitOwnerRequest(centralUrl, o, type, fields as Record<string, string>, o.serverId);
}
