import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { XRoadError } from '../../protocol/errors.js';
import {
  checkPart,
  formatMemberId,
  formatServiceId,
  formatSubsystemId,
  IdentifierError,
  parseSecurityServerId,
  parseSubsystemId,
  printable,
  type ServiceId,
  type SubsystemId,
} from '../../protocol/identifiers.js';
import { checkQuery, normaliseRequestPath, PathError } from '../../protocol/paths.js';
import { HeaderError, endToEndHeaders } from '../message/format.js';

/** Metaservices answered by the consumer gateway itself (X-Road reserves these names). */
export const METASERVICES = ['listMethods', 'allowedMethods', 'getOpenAPI'] as const;
export type Metaservice = (typeof METASERVICES)[number];

export type ConsumerCall =
  | { readonly kind: 'listClients' }
  | { readonly kind: 'metaservice'; readonly name: Metaservice; readonly provider: SubsystemId; readonly query: URLSearchParams }
  | { readonly kind: 'service'; readonly service: ServiceId; /** As received, and checked to be in normal form (sent on byte for byte). */ readonly path: string; readonly query: string };

/** The X-Road headers of a client request, checked strictly. */
export interface ClientHeaders {
  readonly client: SubsystemId;
  readonly clientId: string;
  readonly messageId: string;
  readonly securityServer?: string;
  /** The headers that travel on to the provider's system (endToEndHeaders). */
  readonly endToEnd: ReadonlyArray<[string, string]>;
}

const clientError = (code: 'InvalidServiceIdentifier' | 'InvalidClientIdentifier' | 'InvalidHttpHeader' | 'InvalidRequest' | 'InvalidSecurityServer', message: string) =>
  new XRoadError('Client', code, message);

function headerValues(raw: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) out.push(raw[i + 1]!);
  return out;
}

/** `METHOD /r1/{instance}/{class}/{member}/{subsystem}/{serviceCode}/{path…}?{query}` and the metaservice forms. */
export function parseCall(url: string): ConsumerCall {
  const q = url.indexOf('?');
  const pathPart = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? '' : url.slice(q + 1);
  if (pathPart === '/listClients' || /^\/r1\/[^/]+\/listClients\/?$/.test(pathPart)) return { kind: 'listClients' };
  const segments = pathPart.split('/');
  if (segments[1] !== 'r1' || segments.length < 7) {
    throw clientError('InvalidServiceIdentifier', 'the path must be /r1/{instance}/{memberClass}/{memberCode}/{subsystemCode}/{serviceCode}[/path]');
  }
  let ids: string[];
  try {
    ids = segments.slice(2, 7).map((s) => decodeURIComponent(s));
  } catch {
    throw clientError('InvalidServiceIdentifier', 'the service identifier has a malformed percent-escape');
  }
  const field = 'service identifier';
  try {
    const [instance, memberClass, memberCode, subsystemCode, serviceCode] = ids.map((p, i) => checkPart(p, `${field} part ${i + 1}`));
    const provider = { instance: instance!, memberClass: memberClass!, memberCode: memberCode!, subsystemCode: subsystemCode! };
    if (segments.length === 7 && (METASERVICES as readonly string[]).includes(serviceCode!)) {
      return { kind: 'metaservice', name: serviceCode as Metaservice, provider, query: new URLSearchParams(query) };
    }
    const rawPath = segments.length > 7 ? `/${segments.slice(7).join('/')}` : '';
    let path: string;
    try {
      path = normaliseRequestPath(rawPath);
      checkQuery(query);
    } catch (err) {
      if (err instanceof PathError) throw clientError('InvalidRequest', `the request target is refused: ${err.message}`);
      throw err;
    }
    return { kind: 'service', service: { ...provider, serviceCode: serviceCode! }, path, query };
  } catch (err) {
    if (err instanceof IdentifierError) throw clientError('InvalidServiceIdentifier', err.message);
    throw err;
  }
}

/** Exactly one X-Road-Client naming a subsystem; a sane X-Road-Id (generated if absent). */
export function parseClientHeaders(req: IncomingMessage): ClientHeaders {
  const clients = headerValues(req.rawHeaders, 'x-road-client');
  if (clients.length === 0) throw clientError('InvalidClientIdentifier', 'the X-Road-Client header is missing; it names the calling subsystem INSTANCE/CLASS/CODE/SUBSYSTEM');
  if (clients.length > 1) throw clientError('InvalidHttpHeader', `X-Road-Client was sent ${clients.length} times; send it exactly once`);
  let client: SubsystemId;
  try {
    client = parseSubsystemId(clients[0], 'X-Road-Client');
  } catch (err) {
    if (err instanceof IdentifierError) throw clientError('InvalidClientIdentifier', err.message);
    throw err;
  }
  const ids = headerValues(req.rawHeaders, 'x-road-id');
  if (ids.length > 1) throw clientError('InvalidHttpHeader', 'X-Road-Id was sent more than once');
  const messageId = ids[0] ?? randomUUID();
  // eslint-disable-next-line no-control-regex
  if (messageId.length === 0 || messageId.length > 256 || /[\u0000-\u001f\u007f]/.test(messageId)) {
    throw clientError('InvalidHttpHeader', `X-Road-Id '${printable(messageId, 40)}' must be 1-256 printable characters`);
  }
  const servers = headerValues(req.rawHeaders, 'x-road-security-server');
  if (servers.length > 1) throw clientError('InvalidHttpHeader', 'X-Road-Security-Server was sent more than once');
  let securityServer: string | undefined;
  if (servers[0] !== undefined) {
    try {
      securityServer = parseSecurityServerId(servers[0], 'X-Road-Security-Server') && servers[0];
    } catch (err) {
      if (err instanceof IdentifierError) throw clientError('InvalidSecurityServer', err.message);
      throw err;
    }
  }
  let endToEnd: Array<[string, string]>;
  try {
    endToEnd = endToEndHeaders(req.rawHeaders);
  } catch (err) {
    if (err instanceof HeaderError) throw clientError('InvalidHttpHeader', err.message);
    throw err;
  }
  return { client, clientId: formatSubsystemId(client), messageId, endToEnd, ...(securityServer ? { securityServer } : {}) };
}

export const providerSubsystem = (service: ServiceId): string => formatSubsystemId(service);
export const providerMember = (service: ServiceId): string => formatMemberId(service);
export const serviceText = (service: ServiceId): string => formatServiceId(service);
