import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { XRoadError } from '../../protocol/errors.js';
import type { GatewayContext } from '../context.js';
import { NEW_CLIENT_SETTINGS, type GatewayConfig } from '../config.js';
import { asXRoadError, fail, logFault, sendXRoadError } from '../errors.js';
import type { ConfView } from '../globalconf/view.js';
import { exchange, type ExchangeOutcome } from './exchange.js';
import { listClients, metaservice } from './metaservices.js';
import { checkCarriable, checkDeclaredLength, worthDraining } from './limits.js';
import { parseCall, parseClientHeaders, serviceText, type ClientHeaders } from './parse.js';
import type { ProviderPools } from './pools.js';
import type { ExchangeRecord } from '../messagelog/log.js';
import { answerRefusals, closeWithRefusal, gatewayListenerOptions, refusalAnswered } from '../transport/listeners.js';
import { sendLandingPage, type LandingPage } from '../../common/landing-page.js';

const SIDE = 'Server.ClientProxy' as const;

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

/** The client must be a registered client of this security server, over the connection type `config` (this exchange's) sets for it. */
function checkClient(config: GatewayConfig, view: ConfView, headers: ClientHeaders, req: IncomingMessage): void {
  if (!view.hasSubsystem(headers.clientId)) throw new XRoadError('Client', 'UnknownSubsystem', `client subsystem ${headers.clientId} is not registered in the instance`);
  if (!view.isClientOf(config.serverId, headers.clientId)) {
    throw new XRoadError('Client', 'ClientNotRegistered', `${headers.clientId} is not registered as a client of security server ${config.serverId}`);
  }
  if (view.isDisabledOn(config.serverId, headers.clientId)) {
    throw new XRoadError('Client', 'ClientNotRegistered', `${headers.clientId} is disabled on security server ${config.serverId} by its member (clientDisable); enable it to call again`);
  }
  // A client without settings gets X-Road's default for new clients: HTTPS with a pinned certificate.
  const settings = config.clients[headers.clientId] ?? NEW_CLIENT_SETTINGS;
  const tls = (req.socket as TLSSocket).encrypted === true;
  if (settings.connection === 'HTTP') return;
  if (!tls) throw fail(SIDE, 'SslAuthenticationFailed', `${headers.clientId} is configured for ${settings.connection}${config.clients[headers.clientId] ? '' : " (the default: it has no entry under clients in gateway.yaml)"}; use the HTTPS port, or set its connection to HTTP`);
  if (settings.connection === 'HTTPS') {
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    const fingerprint = peer?.raw ? new X509Certificate(peer.raw).fingerprint256 : undefined;
    if (!fingerprint || !pinnedOf(config.clients).get(headers.clientId)?.has(fingerprint)) {
      throw fail(SIDE, 'SslAuthenticationFailed', `${headers.clientId} must present one of its registered TLS client certificates`);
    }
  }
}

function consumerLandingPage(ctx: GatewayContext): LandingPage {
  const clients = Object.keys(ctx.config.clients);
  return {
    title: `CamDX security server ${ctx.config.serverId}: consumer port`,
    about: [
      "The entry point of this member's information systems into CamDX. A system calls another member's service here as `METHOD /r1/{instance}/{memberClass}/{memberCode}/{subsystemCode}/{serviceCode}/{path}` with the header `X-Road-Client: {instance}/{memberClass}/{memberCode}/{subsystemCode}` naming its own subsystem; this server signs the request, sends it over mutual TLS to the provider's security server, and checks and logs the answer.",
      clients.length ? `Clients configured here: ${clients.map((c) => `\`${c}\` (${ctx.config.clients[c]!.connection})`).join(', ')}.` : 'No clients are configured here yet (`clients:` in gateway.yaml).',
      `Metrics and health are on the admin port (${ctx.config.listen.admin.port}): \`/metrics\`, \`/health\`.`,
    ],
    links: [{ href: '/listClients', text: 'listClients', note: "the instance's members and subsystems (an X-Road metaservice, JSON)" }],
  };
}

/** A label value or record field not resolved when a request was refused: callers cannot add label values at will. */
const UNRESOLVED = 'unresolved';

/**
 * The consumer side: the information systems' own entry point. Parses and checks the X-Road
 * request, answers metaservices, and hands service calls to `exchange`; records one log entry
 * and the metrics for every service call and every refusal, with what was known by then.
 */
export function consumerHandler(ctx: GatewayContext, pools: ProviderPools) {
  // Limits are set at start-up; a console edit replaces only clients and services.
  const { limits } = ctx.config;

  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // A person opening the consumer URL in a browser: no X-Road request, no log entry or metric.
    if (req.method === 'GET' && req.url === '/') return sendLandingPage(res, consumerLandingPage(ctx));
    const requestInTs = ctx.clock();
    let headers: ClientHeaders | undefined;
    // For the record: the service as parsed, once it is.
    let serviceId = UNRESOLVED;
    // Metric labels: registered ids only; 'unregistered' once looked up and not found.
    const labels = { client: UNRESOLVED, service: UNRESOLVED };
    const outcome: ExchangeOutcome = { status: 0, requestId: 'none', requestOutTs: null, responseInTs: null, requestBytes: 0, responseBytes: 0, peerServer: null, request: null, response: null };
    let endpoint = '*';
    let fault: XRoadError | undefined;
    let recorded = false;
    const entry = (): ExchangeRecord => ({
      messageId: headers?.messageId ?? 'none',
      requestId: outcome.requestId,
      side: 'Client',
      client: headers?.clientId ?? UNRESOLVED,
      service: serviceId,
      endpoint,
      peerServer: outcome.peerServer,
      requestInTs,
      requestOutTs: outcome.requestOutTs,
      responseInTs: outcome.responseInTs,
      responseOutTs: ctx.clock(),
      requestSize: outcome.requestBytes,
      responseSize: outcome.responseBytes,
      status: outcome.status,
      succeeded: !fault,
      faultCode: fault?.type ?? null,
      faultString: fault?.message ?? null,
      request: outcome.request,
      response: outcome.response,
    });
    ctx.metrics.inFlight.inc({ side: 'Client' });
    try {
      const call = parseCall(req.url ?? '/');
      if (call.kind === 'listClients') {
        listClients(res, ctx.view(SIDE));
        return;
      }
      if (call.kind === 'service') serviceId = serviceText(call.service);
      headers = parseClientHeaders(req);
      const view = ctx.view(SIDE);
      labels.client = view.hasSubsystem(headers.clientId) ? headers.clientId : 'unregistered';
      checkDeclaredLength(req, limits.maxBodyBytes);
      if (call.kind === 'service') checkCarriable(req.method ?? '', call.path, call.query, headers.endToEnd);
      checkClient(ctx.config, view, headers, req);
      if (call.kind === 'metaservice') {
        metaservice(res, view, call.name, call.provider, headers.clientId, call.query);
        return;
      }
      const providerMember = serviceId.split('/').slice(0, 3).join('/');
      const providerSubsystem = serviceId.split('/').slice(0, 4).join('/');
      labels.service = 'unregistered';
      if (call.service.instance !== view.conf.instance) throw new XRoadError('Client', 'UnknownMember', `instance ${call.service.instance} is not this instance (${view.conf.instance})`);
      if (!view.hasMember(providerMember)) throw new XRoadError('Client', 'UnknownMember', `member ${providerMember} is not registered in the instance`);
      if (!view.hasSubsystem(providerSubsystem)) throw new XRoadError('Client', 'UnknownSubsystem', `subsystem ${providerSubsystem} is not registered`);
      const service = view.service(serviceId);
      if (!service) throw new XRoadError('Client', 'UnknownService', `service ${serviceId} is not registered`);
      labels.service = serviceId;
      endpoint = view.endpointOf(serviceId, req.method ?? 'GET', call.path);
      await exchange(ctx, pools, req, res, call, headers, outcome, async () => {
        await ctx.messageLog.record(entry());
        recorded = true;
        if (service.timestampSynchronously) await ctx.timestamper.stampNow([outcome.request!.signatureHash, outcome.response!.signatureHash], SIDE);
      });
    } catch (err) {
      // What Node's listener already answered (a stalled or cut-off body) is what the client was told.
      fault = refusalAnswered(res) ?? asXRoadError(err, SIDE);
      logFault(ctx.log, 'consumer', res, fault, err, headers?.messageId);
      outcome.status = fault.httpStatus;
      refuse(req, res, fault, headers?.messageId ?? 'none');
    } finally {
      ctx.metrics.inFlight.dec({ side: 'Client' });
      // Successful metaservice calls are not exchanges; every refusal is counted, resolved or not.
      if (fault || labels.service !== UNRESOLVED) {
        ctx.metrics.requests.inc({ side: 'Client', ...labels, status: String(outcome.status), fault: fault?.type ?? '' });
        ctx.metrics.duration.observe({ side: 'Client', ...labels }, (ctx.clock() - requestInTs) / 1000);
        if (!recorded) ctx.messageLog.record(entry()).catch(() => undefined);
      }
    }
  };
}

/**
 * Answers a refusal. The rest of a short declared body is read so the connection can carry the
 * next request; a large or undeclared one is not read at all: the answer says
 * `Connection: close` and the connection closes (not through Node's response, which would read
 * the rest of the body while it closes).
 */
function refuse(req: IncomingMessage, res: ServerResponse, fault: XRoadError, detail: string): void {
  if (res.headersSent || worthDraining(req)) {
    sendXRoadError(res, fault, detail);
    if (!req.readableEnded) req.resume();
    return;
  }
  closeWithRefusal(req.socket, fault, detail);
}

/** A refusal Node's parser made before any handler ran (a malformed or oversized head): counted and recorded, nothing of it resolved. */
function recordUnhandledRefusal(ctx: GatewayContext, fault: XRoadError): void {
  const at = ctx.clock();
  const labels = { side: 'Client', client: UNRESOLVED, service: UNRESOLVED };
  ctx.metrics.requests.inc({ ...labels, status: String(fault.httpStatus), fault: fault.type });
  ctx.metrics.duration.observe(labels, 0);
  ctx.messageLog
    .record({
      messageId: 'none',
      requestId: 'none',
      side: 'Client',
      client: UNRESOLVED,
      service: UNRESOLVED,
      endpoint: '*',
      peerServer: null,
      requestInTs: at,
      requestOutTs: null,
      responseInTs: null,
      responseOutTs: at,
      requestSize: 0,
      responseSize: 0,
      status: fault.httpStatus,
      succeeded: false,
      faultCode: fault.type,
      faultString: fault.message,
      request: null,
      response: null,
    })
    .catch(() => undefined);
}

export interface ConsumerServers {
  readonly http: Server;
  readonly https?: https.Server;
}

export function createConsumerServers(ctx: GatewayContext, pools: ProviderPools, internalTls?: { key: string; cert: string }): ConsumerServers {
  const handler = consumerHandler(ctx, pools);
  const { limits } = ctx.config;
  // Node's refusals (oversized or slow heads, stalled bodies) are answered with X-Road errors.
  const options = gatewayListenerOptions(limits);
  const http = createServer(options, (req, res) => void handler(req, res));
  http.setTimeout(limits.idleTimeoutMs);
  const unhandled = (fault: XRoadError) => recordUnhandledRefusal(ctx, fault);
  answerRefusals(http, 'consumer', limits, unhandled);
  if (!ctx.config.listen.consumerTls || !internalTls) return { http };
  const secure = https.createServer({ ...options, ...internalTls, requestCert: true, rejectUnauthorized: false }, (req, res) => void handler(req, res));
  secure.setTimeout(limits.idleTimeoutMs);
  answerRefusals(secure, 'consumer', limits, unhandled);
  return { http, https: secure };
}
