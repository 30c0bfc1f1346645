import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import { XRoadError } from '../../protocol/errors.js';
import type { GatewayContext } from '../context.js';
import { asXRoadError, logFault, sendXRoadError } from '../errors.js';
import { ExchangeRecorder } from '../exchange-recorder.js';
import { H } from '../message/format.js';
import { DepartureWatch } from '../transport/departure.js';
import { answerRefusals, gatewayListenerOptions, peerRequestGraceMs } from '../transport/listeners.js';
import { chainPem, MIN_TLS } from '../transport/tls.js';
import { callService, record, sendResponse } from './answer.js';
import { checkAccess, checkClientOfPeer, checkPeer, checkReplay, findService, receiveRequest } from './checks.js';
import { PROVIDER_SIDE, type ProviderExchange } from './exchange.js';

/** How much longer than a consumer's pool the provider keeps an idle peer connection open. */
const PEER_KEEP_ALIVE_GRACE_MS = 5000;

/** Until a request's signature verifies, its record and metrics name no client or service. */
const UNVERIFIED = 'unverified';

/**
 * The provider side: receives signed messages from other gateways over mTLS, and only after
 * the peer, the signature, the certificates, the service and the access right have all been
 * checked does it call the provider's information system; the answer streams back signed.
 */
export function providerHandler(ctx: GatewayContext) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const x = openExchange(ctx, req, res);
    try {
      await provide(x);
    } catch (err) {
      refuse(x, err);
    } finally {
      x.departure.stop();
      await x.spool.dispose();
      // Only messages from an authenticated peer are counted and recorded.
      x.recorder.close(x.recorder.hasPeer);
    }
  };
}

/** The steps of one message, in order; docs/architecture.md's "Flow of one message" names them. */
async function provide(x: ProviderExchange): Promise<void> {
  const peer = checkPeer(x);
  const request = await receiveRequest(x);
  checkReplay(x, peer, request);
  checkClientOfPeer(peer, request.verified.manifest);
  const provided = findService(x, peer, request.verified.manifest);
  checkAccess(x, peer, request);
  const answer = await callService(x, request, provided);
  const signed = await sendResponse(x, peer, request, answer);
  await record(x, provided, signed);
}

function openExchange(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse): ProviderExchange {
  const hint = { client: String(req.headers[H.client] ?? ''), service: String(req.headers[H.service] ?? ''), id: String(req.headers[H.id] ?? '') };
  const recorder = new ExchangeRecorder(ctx, 'Producer', {
    parties: { messageId: UNVERIFIED, client: UNVERIFIED, service: UNVERIFIED },
    labels: { client: UNVERIFIED, service: UNVERIFIED },
  });
  const spool = ctx.spools.spool(ctx.config.limits.spoolMemoryBytes);
  return { ctx, config: ctx.config, req, res, recorder, hint, spool, departure: new DepartureWatch(res) };
}

/** A failed message: the X-Road error of this side (or the caller's), answered, logged by whose problem it is. */
function refuse(x: ProviderExchange, err: unknown): void {
  const { ctx, req, res } = x;
  while (res.writableCorked) res.uncork();
  // An answer not carried to its end: its connection to the service is not reused half-read.
  x.serviceAnswer?.destroy();
  const fault = x.departure.gone ? new XRoadError(PROVIDER_SIDE, 'NetworkError', 'the calling security server closed the connection before the answer') : asXRoadError(err, PROVIDER_SIDE);
  x.recorder.failed(fault);
  logFault(ctx.log, 'provider', res, fault, err, x.hint.id);
  sendXRoadError(res, fault, x.hint.id || 'none');
  if (!req.readableEnded) req.resume();
}

/** The TLS server other gateways connect to; trust anchors follow the global configuration. */
export function createProviderServer(ctx: GatewayContext, trustedCaPems: string[]): https.Server {
  const handler = providerHandler(ctx);
  const server = https.createServer(
    {
      key: ctx.keys.auth.key.export({ type: 'pkcs8', format: 'pem' }) as string,
      cert: chainPem(ctx.keys.auth),
      ca: trustedCaPems,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: MIN_TLS,
      ...gatewayListenerOptions(ctx.config.limits, peerRequestGraceMs(ctx.config.limits)),
    },
    (req, res) => void handler(req, res),
  );
  server.setTimeout(ctx.config.limits.idleTimeoutMs);
  // Node closes an idle kept-alive connection after 5 s by default, so consumers' pools lost their
  // connections between bursts and paid a full handshake (with its OCSP check) for each again, and a
  // request sent as the server hung up failed. A consumer gateway's pool drops an idle connection
  // after idleTimeoutMs; the provider waits a little longer, so the consumer is always the one to close.
  server.keepAliveTimeout = ctx.config.limits.idleTimeoutMs + PEER_KEEP_ALIVE_GRACE_MS;
  answerRefusals(server, 'peer', ctx.config.limits);
  // Staple our authentication certificate's latest OCSP response into every handshake.
  server.on('OCSPRequest', (_cert: Buffer, _issuer: Buffer, callback: (err: Error | null, resp: Buffer | null) => void) => {
    callback(null, ctx.ownOcsp.latestDer('auth') ?? null);
  });
  return server;
}
