/**
 * Services of this gateway's owner from OpenAPI documents (issue 19, "Services from OpenAPI
 * documents"), as X-Road's service descriptions: the document (uploaded, or fetched once from a
 * URL) gives the endpoints, gateway.yaml gets the base URL, and central gets the service in a
 * signed `serviceAdd`, `serviceUpdate` or `serviceRemove`. A change is "in progress" until the
 * global configuration this gateway polls carries it, and "published" from then on.
 *
 * Nothing is written before the document has been fetched and imported, so a refused document
 * leaves gateway.yaml as it was; a change central refuses puts gateway.yaml back as it was.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readTextIfExists, writeFileAtomic } from '../../common/files.js';
import { parseAnchor } from '../../protocol/anchor.js';
import { formatSubsystemId, IdentifierError, parseServiceId, sameMember } from '../../protocol/identifiers.js';
import type { GlobalConf } from '../../protocol/globalconf.js';
import type { GatewayConfig } from '../config.js';
import { ConfigEditError, editGatewayConfig } from '../config-store.js';
import type { GatewayContext } from '../context.js';
import { ServiceRequestRefused, submitServiceRequest, type ServiceChange } from '../setup/service-requests.js';
import { applyAllowed, endpointDiff, type DiffEndpoint, type EndpointDiff } from './endpoint-diff.js';
import { fetchDocument } from './fetch-document.js';
import { importOpenApi, OpenApiImportError, type ImportedEndpoint } from './openapi-import.js';
import { CamdxError } from '../../protocol/errors.js';

/** Where the document comes from: exactly one of the two. */
export interface DocumentSource {
  readonly document?: string | undefined;
  readonly url?: string | undefined;
}

/**
 * 'in progress': the last change sent to central is not in the configuration yet;
 * 'not published': configured here (gateway.yaml) but never sent, and not in the configuration.
 */
export type ServiceStatus = 'in progress' | 'published' | 'not published';

/** A refusal of this workflow that is neither the document's (OpenApiImportError) nor gateway.yaml's (ConfigEditError). */
export class ServiceDescriptionError extends CamdxError<'ServiceDescription'> {
  constructor(
    readonly status: 400 | 404 | 409 | 502,
    /** Stable: the console API's `error`. */
    readonly reason: string,
    field: string | undefined,
    message: string,
    /** For a refused refresh: the rights that name a removed endpoint. */
    readonly rights?: EndpointDiff['rightsOnRemoved'],
  ) {
    super('ServiceDescription', message, field === undefined ? {} : { field });
  }
}

/** The last change sent to central for a service, kept in `<stateDir>/service-descriptions.json` so a restart still knows it. */
interface Submitted {
  readonly type: ServiceChange['type'];
  readonly requestId: number;
  readonly endpoints: ImportedEndpoint[];
  /** sha256 of the document sent, to recognise it in the configuration; null for none. */
  readonly documentSha256: string | null;
  readonly at: string;
}

export interface ServiceDescriptionView {
  readonly serviceId: string;
  /** The base URL in gateway.yaml; null once removed. */
  readonly url: string | null;
  /** While in progress, the endpoints sent; otherwise those the configuration carries. */
  readonly endpoints: DiffEndpoint[];
  readonly status: ServiceStatus;
  readonly requestId?: number;
  /** The change in progress. */
  readonly change?: ServiceChange['type'];
}

export interface RefreshOutcome extends EndpointDiff {
  readonly applied: boolean;
  readonly status?: ServiceStatus;
  readonly requestId?: number;
}

const submittedFile = (config: GatewayConfig) => join(config.stateDir, 'service-descriptions.json');

function readSubmitted(config: GatewayConfig): Record<string, Submitted> {
  const text = readTextIfExists(submittedFile(config));
  if (!text) return {};
  try {
    return JSON.parse(text) as Record<string, Submitted>;
  } catch {
    return {}; // a torn file cannot happen (atomic writes); a hand-damaged one only loses "in progress"
  }
}

function recordSubmitted(config: GatewayConfig, serviceId: string, s: Submitted): void {
  writeFileAtomic(submittedFile(config), `${JSON.stringify({ ...readSubmitted(config), [serviceId]: s }, null, 2)}\n`, 0o644, { durable: true });
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const sameEndpoints = (a: readonly DiffEndpoint[], b: readonly DiffEndpoint[]) => {
  const keys = (list: readonly DiffEndpoint[]) => [...new Set(list.map((e) => `${e.method} ${e.path}`))].sort().join('\n');
  return keys(a) === keys(b);
};

/** Whether the configuration carries `s`: the service as sent (endpoints and document), or its absence after a removal. */
function carries(conf: GlobalConf | undefined, serviceId: string, s: Submitted): boolean {
  const published = conf?.services.find((x) => x.id === serviceId);
  if (s.type === 'serviceRemove') return published === undefined;
  if (!published) return false;
  return sameEndpoints(published.endpoints, s.endpoints) && (published.openApi === undefined ? null : sha256(published.openApi)) === s.documentSha256;
}

function view(ctx: GatewayContext, serviceId: string, submitted: Submitted | undefined): ServiceDescriptionView {
  const conf = ctx.globalConf.current;
  const published = conf?.services.find((x) => x.id === serviceId);
  const url = ctx.config.services[serviceId]?.url ?? null;
  if (submitted && !carries(conf, serviceId, submitted)) {
    return { serviceId, url, endpoints: submitted.endpoints, status: 'in progress', requestId: submitted.requestId, change: submitted.type };
  }
  return { serviceId, url, endpoints: published?.endpoints ?? [], status: published ? 'published' : 'not published', ...(submitted ? { requestId: submitted.requestId } : {}) };
}

/** This gateway's services: those in gateway.yaml, and those with a change in progress (a removal, say). */
export function listServiceDescriptions(ctx: GatewayContext): ServiceDescriptionView[] {
  const submitted = readSubmitted(ctx.config);
  const ids = new Set([...Object.keys(ctx.config.services), ...Object.keys(submitted)]);
  return [...ids]
    .sort()
    .map((id) => view(ctx, id, submitted[id]))
    .filter((v) => v.url !== null || v.status === 'in progress');
}

/**
 * A service this workflow may manage: one of the owner's subsystems that the configuration lists
 * as a client of this server (central serves only its servers' clients' services, and a service
 * of another member's subsystem needs that member's signature, which this gateway does not hold).
 */
function ownService(ctx: GatewayContext, serviceId: string): string {
  let id;
  try {
    id = parseServiceId(serviceId, 'serviceId');
  } catch (err) {
    if (err instanceof IdentifierError) throw new ServiceDescriptionError(400, 'invalid', 'serviceId', err.message);
    throw err;
  }
  const subsystem = formatSubsystemId(id);
  if (!sameMember(id, ctx.config.owner)) {
    throw new ServiceDescriptionError(400, 'invalid', 'serviceId', `${serviceId} is not a service of ${ctx.config.ownerId}, this server's owner`);
  }
  const clients = ctx.globalConf.current?.securityServers.find((s) => s.id === ctx.config.serverId)?.clients ?? [];
  if (!clients.includes(subsystem)) {
    throw new ServiceDescriptionError(
      409,
      'conflict',
      'serviceId',
      `${subsystem} is not a registered client of ${ctx.config.serverId} in the global configuration; register it first (camdx gateway register --client ${subsystem})`,
    );
  }
  return serviceId;
}

/** The document's text and a label for messages. Throws OpenApiImportError. */
async function documentOf(source: DocumentSource): Promise<{ text: string; origin: string }> {
  if ((source.document === undefined) === (source.url === undefined)) throw new OpenApiImportError('document', 'give the OpenAPI document or its url, one of the two');
  if (source.document !== undefined) return { text: source.document, origin: 'the uploaded document' };
  return { text: await fetchDocument(source.url!), origin: 'the fetched document' };
}

function centralUrl(config: GatewayConfig): string {
  return parseAnchor(readFileSync(config.anchor, 'utf8')).anchor.centralUrl;
}

/** Sends one change, signed with the owner's signing key. Central's refusal and an unreachable central become ServiceDescriptionError. */
async function submit(ctx: GatewayContext, change: ServiceChange) {
  try {
    return await submitServiceRequest(centralUrl(ctx.config), { serverId: ctx.config.serverId, owner: ctx.keys.signing, change });
  } catch (err) {
    if (err instanceof ServiceRequestRefused) throw new ServiceDescriptionError(err.status === 409 ? 409 : 502, `central-${err.reason}`, undefined, err.message);
    throw new ServiceDescriptionError(502, 'central-unavailable', undefined, `the request did not reach central: ${(err as Error).message}`);
  }
}

function remember(ctx: GatewayContext, serviceId: string, change: ServiceChange, requestId: number): void {
  const endpoints = change.type === 'serviceRemove' ? [] : change.endpoints.map((e) => ({ method: e.method, path: e.path }) as ImportedEndpoint);
  const documentSha256 = change.type !== 'serviceRemove' && change.openApi ? sha256(change.openApi) : null;
  recordSubmitted(ctx.config, serviceId, { type: change.type, requestId, endpoints, documentSha256, at: new Date(ctx.clock()).toISOString() });
}

/**
 * Imports the document, sets the base URL in gateway.yaml and sends `serviceAdd`. If central
 * refuses, gateway.yaml is put back: byte for byte when nothing else edited it meanwhile.
 */
export async function addServiceDescription(ctx: GatewayContext, o: { serviceId: string; baseUrl: string } & DocumentSource): Promise<ServiceDescriptionView> {
  const serviceId = ownService(ctx, o.serviceId);
  if (ctx.globalConf.current?.services.some((s) => s.id === serviceId)) {
    throw new ServiceDescriptionError(409, 'conflict', 'serviceId', `${serviceId} is already published; refresh it from its document instead`);
  }
  const { text, origin } = await documentOf(o);
  const imported = await importOpenApi(text, origin);
  const before = snapshot(ctx);
  try {
    editGatewayConfig(ctx, [{ path: ['services', serviceId, 'url'], value: o.baseUrl }]);
  } catch (err) {
    // The only value this edit brings is the base URL: name it as the request does.
    if (err instanceof ConfigEditError && err.status === 400) throw new ConfigEditError(400, 'baseUrl', err.message);
    throw err;
  }
  const written = readFileSync(before.file, 'utf8');
  const change: ServiceChange = { type: 'serviceAdd', service: serviceId, endpoints: imported.endpoints, openApi: imported.document };
  let outcome;
  try {
    outcome = await submit(ctx, change);
  } catch (err) {
    restore(ctx, serviceId, before, written);
    throw err;
  }
  remember(ctx, serviceId, change, outcome.id);
  return view(ctx, serviceId, readSubmitted(ctx.config)[serviceId]);
}

interface Snapshot {
  readonly file: string;
  readonly text: string;
  readonly config: GatewayConfig;
}

function snapshot(ctx: GatewayContext): Snapshot {
  const file = ctx.config.configFile;
  // editGatewayConfig refuses a gateway without a file itself; read nothing then.
  return { file: file ?? '', text: file ? readFileSync(file, 'utf8') : '', config: ctx.config };
}

/** Undoes this workflow's edit of `serviceId`: the old bytes if the file is still as the edit left it, else an edit of that service alone. */
function restore(ctx: GatewayContext, serviceId: string, before: Snapshot, written: string): void {
  if (readFileSync(before.file, 'utf8') === written) {
    writeFileAtomic(before.file, before.text, statSync(before.file).mode & 0o777, { durable: true });
    ctx.replaceConfig(Object.freeze({ ...ctx.config, services: before.config.services }));
    return;
  }
  const previous = before.config.services[serviceId]?.url;
  editGatewayConfig(ctx, [previous === undefined ? { path: ['services', serviceId], value: undefined } : { path: ['services', serviceId, 'url'], value: previous }]);
}

/** The diff the document would make to the published service; with `apply`, sends it as `serviceUpdate` unless a right names a removed endpoint. */
export async function refreshServiceDescription(ctx: GatewayContext, serviceIdText: string, o: DocumentSource & { apply: boolean }): Promise<RefreshOutcome> {
  const serviceId = ownService(ctx, serviceIdText);
  const conf = ctx.globalConf.current;
  const published = conf?.services.find((s) => s.id === serviceId);
  if (!published) throw new ServiceDescriptionError(409, 'conflict', 'serviceId', `${serviceId} is not in the global configuration yet; refresh it once it is published`);
  const { text, origin } = await documentOf(o);
  const imported = await importOpenApi(text, origin);
  const rights = (conf?.accessRights ?? []).filter((r) => r.service === serviceId).map((r) => ({ subject: r.subject, method: r.method, path: r.path }));
  const diff = endpointDiff(published.endpoints, imported.endpoints, rights);
  if (!o.apply) return { ...diff, applied: false };
  const decision = applyAllowed(diff);
  if (!decision.allowed) throw new ServiceDescriptionError(409, 'rights-on-removed', 'apply', `${serviceId}: ${decision.message}`, diff.rightsOnRemoved);
  const change: ServiceChange = { type: 'serviceUpdate', service: serviceId, endpoints: imported.endpoints, openApi: imported.document };
  const outcome = await submit(ctx, change);
  remember(ctx, serviceId, change, outcome.id);
  const now = view(ctx, serviceId, readSubmitted(ctx.config)[serviceId]);
  return { ...diff, applied: true, status: now.status, requestId: outcome.id };
}

/** Sends `serviceRemove`; once central has accepted it, the service leaves gateway.yaml. */
export async function removeServiceDescription(ctx: GatewayContext, serviceIdText: string): Promise<ServiceDescriptionView> {
  const serviceId = ownService(ctx, serviceIdText);
  if (!ctx.globalConf.current?.services.some((s) => s.id === serviceId) && !ctx.config.services[serviceId]) {
    throw new ServiceDescriptionError(404, 'not-found', 'serviceId', `${serviceId} is neither published nor configured on this gateway`);
  }
  const change: ServiceChange = { type: 'serviceRemove', service: serviceId };
  try {
    const outcome = await submit(ctx, change);
    remember(ctx, serviceId, change, outcome.id);
  } catch (err) {
    // Configured here but never added at central: there is nothing to remove there, only here.
    const unknownThere = err instanceof ServiceDescriptionError && err.reason === 'central-unknown-service';
    if (!unknownThere || !ctx.config.services[serviceId]) throw err;
  }
  if (ctx.config.services[serviceId]) editGatewayConfig(ctx, [{ path: ['services', serviceId], value: undefined }]);
  return view(ctx, serviceId, readSubmitted(ctx.config)[serviceId]);
}
