import { randomUUID } from 'node:crypto';
import type { ClientRequest, IncomingMessage } from 'node:http';
import https from 'node:https';
import { CamdxError, XRoadError } from '../../protocol/errors.js';
import { formatMemberId, type ServiceId } from '../../protocol/identifiers.js';
import type { ConfView } from '../globalconf/view.js';
import { startMessage, type Signer, type StartedMessage } from '../message/codec.js';
import { MESSAGE_PATH, newSalt } from '../message/format.js';
import type { PeerCertFault, RefusedPeerError } from '../transport/tls.js';
import { CONSUMER_SIDE, type ConsumerExchange } from './exchange.js';
import { checkPeerHeadSize } from './limits.js';
import { serviceText, type ClientHeaders } from './parse.js';

interface Target {
  readonly id: string;
  readonly host: string;
  readonly port: number;
}

/** An open message request to a provider's gateway whose TLS handshake verified, with what it will be signed with. */
export interface ProviderConnection {
  readonly upstream: ClientRequest;
  /** Settles with the provider's answer (or the connection's failure). */
  readonly responded: Promise<IncomingMessage>;
  readonly message: StartedMessage;
  readonly requestId: string;
  readonly signer: Signer;
  readonly signingOcsp: Buffer;
}

/** The servers that may carry the call: those hosting the provider, the pinned one alone if the client named it, none in maintenance. */
function targetsFor(view: ConfView, service: ServiceId, pinned: string | undefined): Target[] {
  const provider = `${formatMemberId(service)}/${service.subsystemCode}`;
  let servers = view.serversHosting(provider);
  if (pinned) {
    servers = servers.filter((s) => s.id === pinned);
    if (servers.length === 0) throw new XRoadError('Client', 'InvalidSecurityServer', `security server ${pinned} does not serve ${provider}`);
  }
  if (servers.length === 0) throw new CamdxError('NetworkError', `no security server serves ${provider}`);
  // A server in maintenance mode is skipped; if all are, the caller hears its owner's message.
  const inService = servers.filter((s) => s.maintenance === undefined);
  if (inService.length === 0) {
    const [first] = servers;
    const others = servers.length > 1 ? ` (and every other server of ${provider})` : '';
    throw new CamdxError('MaintenanceMode', `security server ${first!.id}${others} is in maintenance mode${first!.maintenance ? `: ${first!.maintenance}` : ''}`);
  }
  return inService.map((s) => {
    const cut = s.address.lastIndexOf(':');
    return { id: s.id, host: s.address.slice(0, cut).replace(/^\[|\]$/g, ''), port: Number(s.address.slice(cut + 1)) };
  });
}

/**
 * The message's head and the OCSP responses it carries, then a connection to the first server
 * of the provider that completes a verified TLS handshake. Nothing is signed yet.
 */
export async function connectProvider(x: ConsumerExchange, view: ConfView, call: { service: ServiceId; path: string; query: string }, headers: ClientHeaders): Promise<ProviderConnection> {
  const { service } = call;
  const { ctx } = x;
  ctx.timestamper.check(CONSUMER_SIDE);
  const freshness = view.conf.ocspFreshnessSeconds;
  // Taken in the same turn as the OCSP responses: after a key renewal mid-exchange, this exchange still signs with the key they are about.
  const signer = ctx.signer;
  const signingOcsp = ctx.ownOcsp.freshDer('signing', freshness);
  const authOcsp = ctx.ownOcsp.freshDer('auth', freshness);
  if (!signingOcsp || !authOcsp) throw new CamdxError('CertValidation', 'this security server has no fresh good OCSP response for its own certificates; check the OCSP responder');
  const requestId = randomUUID();
  x.recorder.exchangeId(requestId);
  const message = startMessage({
    head: { method: x.req.method!, path: call.path, query: call.query, headers: [...headers.endToEnd] },
    salt: newSalt(),
    ocspSign: signingOcsp,
    ocspAuth: authOcsp,
    routing: { client: headers.clientId, service: serviceText(service), id: headers.messageId },
  });
  checkPeerHeadSize(message.headers, x.config.limits.maxHeaderBytes);
  const { upstream, target } = await connect(x, view, targetsFor(view, service, headers.securityServer), message.headers);
  x.recorder.peer(target.id);
  x.recorder.requestSent();
  const responded = new Promise<IncomingMessage>((resolve, reject) => {
    upstream.once('response', resolve);
    upstream.once('error', reject);
  });
  responded.catch(() => undefined);
  return { upstream, responded, message, requestId, signer, signingOcsp };
}

/** Opens the message request to the first target that completes a verified TLS handshake. */
async function connect(x: ConsumerExchange, view: ConfView, targets: Target[], headers: Record<string, string>): Promise<{ upstream: ClientRequest; target: Target }> {
  let last: Error | undefined;
  for (const target of targets) {
    const upstream = https.request({
      agent: x.pools.agentFor(target.id, view),
      host: target.host,
      port: target.port,
      method: 'POST',
      path: MESSAGE_PATH,
      headers,
      timeout: x.config.limits.connectTimeoutMs,
    });
    upstream.on('timeout', () => upstream.destroy(new Error('connection timed out')));
    x.departure.hold(upstream);
    try {
      await handshake(upstream);
      upstream.removeAllListeners('error');
      upstream.setTimeout(0);
      return { upstream, target };
    } catch (err) {
      upstream.destroy();
      if (x.departure.gone) throw err;
      last = err as Error;
      x.ctx.log.warn({ server: target.id, reason: (err as Error).message }, 'provider security server unreachable; trying the next');
    }
  }
  throw unreachable(last);
}

function handshake(upstream: ClientRequest): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    upstream.once('error', reject);
    upstream.once('socket', (socket) => {
      // A pooled socket is already connected and verified; a new one must finish its handshake.
      if (!(socket as { connecting?: boolean }).connecting && (socket as { authorized?: boolean }).authorized) return resolve();
      socket.once('secureConnect', () => resolve());
    });
  });
}

/**
 * No provider server could be reached. A refused certificate without a fresh OCSP response (as
 * after an OCSP outage) is `CertValidation`, like the provider side; any other refusal, a
 * revoked status included, says the peer is not the server it should be.
 */
function unreachable(last: Error | undefined): CamdxError {
  const refused = (last as Partial<RefusedPeerError> | undefined)?.code === 'CAMDX_PEER_REJECTED' ? (last as RefusedPeerError) : undefined;
  if (!refused) return new CamdxError('NetworkError', `cannot reach a security server serving the provider: ${last?.message ?? 'none tried'}`);
  const withoutFreshOcsp: readonly PeerCertFault[] = ['ocsp-missing', 'ocsp-stale'];
  return new CamdxError(withoutFreshOcsp.includes(refused.fault) ? 'CertValidation' : 'SslAuthenticationFailed', refused.message);
}
