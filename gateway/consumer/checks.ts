import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { CamdxError, XRoadError } from '../../protocol/errors.js';
import type { GlobalConf } from '../../protocol/globalconf.js';
import { memberOfId, subsystemOfId } from '../../protocol/identifiers.js';
import { NEW_CLIENT_SETTINGS, type GatewayConfig } from '../config.js';
import type { ConfView } from '../globalconf/view.js';
import { CONSUMER_SIDE, type ConsumerExchange } from './exchange.js';
import { checkCarriable, checkDeclaredLength } from './limits.js';
import { parseClientHeaders, serviceText, type ClientHeaders, type ConsumerCall } from './parse.js';

/**
 * The consumer's checks of a client's call, before anything is signed: who calls (and over
 * which connection), and what it calls. The caller's mistakes are `Client` errors; anything
 * else is thrown without a side, for the handler to add its own.
 */

/**
 * The pinned IS certificates' fingerprints of each client, per configuration: a console edit
 * swaps in new `clients`, and the next exchange reads their files once.
 */
const pinnedByClients = new WeakMap<GatewayConfig['clients'], Map<string, Set<string>>>();
function pinnedOf(clients: GatewayConfig['clients']): Map<string, Set<string>> {
  let pinned = pinnedByClients.get(clients);
  if (!pinned) {
    pinned = new Map(Object.entries(clients).map(([id, c]) => [id, new Set(c.certificates.map((f) => new X509Certificate(readFileSync(f)).fingerprint256))]));
    pinnedByClients.set(clients, pinned);
  }
  return pinned;
}

/** The client's X-Road headers, the limits a message must fit, and the client itself: registered here, enabled, over its connection type. */
export function checkClient(x: ConsumerExchange, call: Exclude<ConsumerCall, { kind: 'listClients' }>): { headers: ClientHeaders; view: ConfView } {
  const headers = parseClientHeaders(x.req);
  x.recorder.identify({ messageId: headers.messageId, client: headers.clientId });
  const view = x.ctx.view(CONSUMER_SIDE);
  x.recorder.label({ client: view.hasSubsystem(headers.clientId) ? headers.clientId : 'unregistered' });
  checkDeclaredLength(x.req, x.config.limits.maxBodyBytes);
  if (call.kind === 'service') checkCarriable(x.req.method ?? '', call.path, call.query, headers.endToEnd);
  checkRegistration(x.config, view, headers.clientId);
  checkConnection(x.config, headers.clientId, x.req);
  return { headers, view };
}

function checkRegistration(config: GatewayConfig, view: ConfView, clientId: string): void {
  if (!view.hasSubsystem(clientId)) throw new XRoadError('Client', 'UnknownSubsystem', `client subsystem ${clientId} is not registered in the instance`);
  if (!view.isClientOf(config.serverId, clientId)) {
    throw new XRoadError('Client', 'ClientNotRegistered', `${clientId} is not registered as a client of security server ${config.serverId}`);
  }
  if (view.isDisabledOn(config.serverId, clientId)) {
    throw new XRoadError('Client', 'ClientNotRegistered', `${clientId} is disabled on security server ${config.serverId} by its member (clientDisable); enable it to call again`);
  }
}

/** The connection type `config` (this exchange's) sets for the client; without settings, X-Road's default for new clients: HTTPS with a pinned certificate. */
function checkConnection(config: GatewayConfig, clientId: string, req: IncomingMessage): void {
  const settings = config.clients[clientId] ?? NEW_CLIENT_SETTINGS;
  const tls = (req.socket as TLSSocket).encrypted === true;
  if (settings.connection === 'HTTP') return;
  if (!tls) {
    const which = config.clients[clientId] ? '' : ' (the default: it has no entry under clients in gateway.yaml)';
    throw new CamdxError('SslAuthenticationFailed', `${clientId} is configured for ${settings.connection}${which}; use the HTTPS port, or set its connection to HTTP`);
  }
  if (settings.connection === 'HTTPS') {
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    const fingerprint = peer?.raw ? new X509Certificate(peer.raw).fingerprint256 : undefined;
    if (!fingerprint || !pinnedOf(config.clients).get(clientId)?.has(fingerprint)) {
      throw new CamdxError('SslAuthenticationFailed', `${clientId} must present one of its registered TLS client certificates`);
    }
  }
}

/** The called service, registered in this instance, and the endpoint pattern the call matches. */
export function findService(x: ConsumerExchange, view: ConfView, call: Extract<ConsumerCall, { kind: 'service' }>): GlobalConf['services'][number] {
  const serviceId = serviceText(call.service);
  const providerMember = memberOfId(serviceId);
  const providerSubsystem = subsystemOfId(serviceId);
  x.recorder.label({ service: 'unregistered' });
  if (call.service.instance !== view.conf.instance) throw new XRoadError('Client', 'UnknownMember', `instance ${call.service.instance} is not this instance (${view.conf.instance})`);
  if (!view.hasMember(providerMember)) throw new XRoadError('Client', 'UnknownMember', `member ${providerMember} is not registered in the instance`);
  if (!view.hasSubsystem(providerSubsystem)) throw new XRoadError('Client', 'UnknownSubsystem', `subsystem ${providerSubsystem} is not registered`);
  const service = view.service(serviceId);
  if (!service) throw new XRoadError('Client', 'UnknownService', `service ${serviceId} is not registered`);
  x.recorder.label({ service: serviceId });
  x.recorder.matched(view.endpointOf(serviceId, x.req.method ?? 'GET', call.path));
  return service;
}
