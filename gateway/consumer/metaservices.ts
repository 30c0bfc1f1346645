import type { ServerResponse } from 'node:http';
import { XRoadError } from '../../protocol/errors.js';
import { checkPart, formatSubsystemId, IdentifierError, type SubsystemId } from '../../protocol/identifiers.js';
import type { ConfView } from '../globalconf/view.js';
import type { Metaservice } from './parse.js';

/**
 * X-Road's REST metaservices, answered from the global configuration (central holds the
 * service list and the access rights, so the consumer gateway knows as much as the provider's
 * would). Bodies use X-Road's snake_case JSON.
 */

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function serviceEntry(id: string) {
  const [xroad_instance, member_class, member_code, subsystem_code, service_code] = id.split('/');
  return { object_type: 'SERVICE', xroad_instance, member_class, member_code, subsystem_code, service_code, service_type: 'REST' };
}

export function listClients(res: ServerResponse, view: ConfView): void {
  const member = view.conf.members.flatMap((m) => {
    const [xroad_instance, member_class, member_code] = m.id.split('/');
    return [
      { id: { object_type: 'MEMBER', xroad_instance, member_class, member_code }, name: m.name },
      ...m.subsystems.map((subsystem_code) => ({ id: { object_type: 'SUBSYSTEM', xroad_instance, member_class, member_code, subsystem_code }, name: m.name })),
    ];
  });
  json(res, 200, { member });
}

export function metaservice(res: ServerResponse, view: ConfView, name: Metaservice, provider: SubsystemId, client: string, query: URLSearchParams): void {
  const subsystem = formatSubsystemId(provider);
  if (!view.hasSubsystem(subsystem)) throw new XRoadError('Client', 'UnknownSubsystem', `subsystem ${subsystem} is not registered in the instance`);
  const services = view.servicesOf(subsystem);
  if (name === 'listMethods') return json(res, 200, { service: services.map((s) => serviceEntry(s.id)) });
  if (name === 'allowedMethods') {
    return json(res, 200, {
      service: services
        .filter((s) => view.mayCall(client, s.id))
        .map((s) => ({
          ...serviceEntry(s.id),
          endpoint_list: s.endpoints
            .filter((e) => view.allowingRight(client, s.id, e.method === '*' ? 'GET' : e.method, e.path.replace(/\{[^}]+\}/g, 'x').replace(/\*\*?/g, 'x')))
            .map((e) => ({ method: e.method, path: e.path })),
        })),
    });
  }
  const code = query.get('serviceCode');
  try {
    checkPart(code, 'serviceCode');
  } catch (err) {
    if (err instanceof IdentifierError) throw new XRoadError('Client', 'InvalidRequest', 'getOpenAPI needs ?serviceCode=<code>');
    throw err;
  }
  const service = view.service(`${subsystem}/${code}`);
  if (!service) throw new XRoadError('Client', 'UnknownService', `service ${subsystem}/${code} is not registered`);
  if (!service.openApi) throw new XRoadError('Client', 'UnknownService', `service ${service.id} has no OpenAPI description`);
  const body = service.openApi;
  res.writeHead(200, { 'content-type': body.trimStart().startsWith('{') ? 'application/json; charset=utf-8' : 'application/yaml; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
