import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import https from 'node:https';
import { sendLandingPage, type LandingPage } from '../../common/landing-page.js';
import type { XRoadError } from '../../protocol/errors.js';
import type { GatewayContext } from '../context.js';
import { asXRoadError, logFault, sendXRoadError } from '../errors.js';
import { ExchangeRecorder } from '../exchange-recorder.js';
import { DepartureWatch } from '../transport/departure.js';
import { answerRefusals, closeWithRefusal, gatewayListenerOptions, refusalAnswered } from '../transport/listeners.js';
import { checkClient, findService } from './checks.js';
import { connectProvider } from './connect.js';
import { clientLeft, CONSUMER_SIDE, type ConsumerExchange } from './exchange.js';
import { worthDraining } from './limits.js';
import { listClients, metaservice } from './metaservices.js';
import { parseCall, serviceText } from './parse.js';
import type { ProviderPools } from './pools.js';
import { answer, receiveResponse, record, sendRequest } from './signed-exchange.js';

function consumerLandingPage(ctx: GatewayContext): LandingPage {
  const clients = Object.keys(ctx.config.clients);
  return {
    title: `CamDX security server ${ctx.config.serverId}: consumer port`,
    about: [
      "The entry point of this member's information systems into CamDX. A system calls another member's service here as " +
        '`METHOD /r1/{instance}/{memberClass}/{memberCode}/{subsystemCode}/{serviceCode}/{path}` with the header ' +
        '`X-Road-Client: {instance}/{memberClass}/{memberCode}/{subsystemCode}` naming its own subsystem; ' +
        "this server signs the request, sends it over mutual TLS to the provider's security server, and checks and logs the answer.",
      clients.length
        ? `Clients configured here: ${clients.map((c) => `\`${c}\` (${ctx.config.clients[c]!.connection})`).join(', ')}.`
        : 'No clients are configured here yet (`clients:` in gateway.yaml).',
      `Metrics and health are on the admin port (${ctx.config.listen.admin.port}): \`/metrics\`, \`/health\`.`,
    ],
    links: [{ href: '/listClients', text: 'listClients', note: "the instance's members and subsystems (an X-Road metaservice, JSON)" }],
  };
}

/** A label value or record field not resolved when a request was refused: callers cannot add label values at will. */
const UNRESOLVED = 'unresolved';

/**
 * The consumer side: the information systems' own entry point. Parses and checks the X-Road
 * request, answers metaservices, and carries service calls to the provider's gateway; records
 * one log entry and the metrics for every service call and every refusal, with what was known by then.
 */
export function consumerHandler(ctx: GatewayContext, pools: ProviderPools) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // A person opening the consumer URL in a browser: no X-Road request, no log entry or metric.
    if (req.method === 'GET' && req.url === '/') return sendLandingPage(res, consumerLandingPage(ctx));
    const x = openExchange(ctx, pools, req, res);
    try {
      await consume(x);
    } catch (err) {
      refuseCall(x, err);
    } finally {
      x.departure.stop();
      await x.responseSpool?.dispose();
      // Successful metaservice calls are not exchanges; every refusal is counted, resolved or not.
      x.recorder.close(x.recorder.hasFailed || x.recorder.labels.service !== UNRESOLVED);
    }
  };
}

/** The steps of one call, in order; docs/architecture.md's "Flow of one message" names them. */
async function consume(x: ConsumerExchange): Promise<void> {
  const call = parseCall(x.req.url ?? '/');
  if (call.kind === 'listClients') return listClients(x.res, x.ctx.view(CONSUMER_SIDE));
  if (call.kind === 'service') x.recorder.identify({ service: serviceText(call.service) });
  const { headers, view } = checkClient(x, call);
  if (call.kind === 'metaservice') return metaservice(x.res, view, call.name, call.provider, headers.clientId, call.query);
  const service = findService(x, view, call);
  try {
    const connection = await connectProvider(x, view, call, headers);
    const requestLeaf = await sendRequest(x, connection, call.service, headers);
    const verified = await receiveResponse(x, connection, call.service, headers, requestLeaf);
    await record(x, service);
    await answer(x, verified, call.service, headers, connection.requestId, requestLeaf);
  } catch (err) {
    throw x.departure.gone ? clientLeft() : err;
  }
}

function openExchange(ctx: GatewayContext, pools: ProviderPools, req: IncomingMessage, res: ServerResponse): ConsumerExchange {
  const recorder = new ExchangeRecorder(ctx, 'Client', {
    parties: { messageId: 'none', client: UNRESOLVED, service: UNRESOLVED },
    labels: { client: UNRESOLVED, service: UNRESOLVED },
  });
  return { ctx, config: ctx.config, pools, req, res, recorder, departure: new DepartureWatch(res) };
}

/** A refused call: what Node's listener already answered (a stalled or cut-off body) is what the client was told. */
function refuseCall(x: ConsumerExchange, err: unknown): void {
  const fault = refusalAnswered(x.res) ?? asXRoadError(err, CONSUMER_SIDE);
  x.recorder.failed(fault);
  const messageId = x.recorder.messageId;
  logFault(x.ctx.log, 'consumer', x.res, fault, err, messageId === 'none' ? undefined : messageId);
  refuse(x.req, x.res, fault, messageId);
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
  const recorder = new ExchangeRecorder(ctx, 'Client', {
    parties: { messageId: 'none', client: UNRESOLVED, service: UNRESOLVED },
    labels: { client: UNRESOLVED, service: UNRESOLVED },
  });
  recorder.failed(fault);
  recorder.close(true);
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
