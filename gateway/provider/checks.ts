import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { CamdxError, XRoadError } from '../../protocol/errors.js';
import { subsystemOfId } from '../../protocol/identifiers.js';
import type { GlobalConf } from '../../protocol/globalconf.js';
import type { ServiceConfig } from '../config.js';
import { NO_ENDPOINT } from '../globalconf/view.js';
import { readRequestHead, receiveBody, verifiedPartOf, verifyReceived } from '../message/codec.js';
import { H, MESSAGE_PATH, type Manifest } from '../message/format.js';
import { BodyTooLarge } from '../transport/carry.js';
import { certificateHash } from '../../protocol/message-hashes.js';
import { derOfBase64 } from '../../protocol/recurring.js';
import { checkPeerAuthCert } from '../transport/tls.js';
import { PROVIDER_SIDE, type CallingPeer, type ProviderExchange, type VerifiedRequest } from './exchange.js';

/**
 * The provider's checks of a message, in the order they run (provider/server.ts): nothing a
 * message says is believed before its signature has verified, and the provider's system is
 * called only when every check has passed. Each throws an error without a side (the handler
 * adds its own) or, for the caller's mistakes, a `Client` error.
 */

/** A connection's client certificate, parsed once per connection (keep-alive carries many messages). */
const peers = new WeakMap<TLSSocket, X509Certificate>();
function peerCertificate(socket: TLSSocket): X509Certificate | undefined {
  let cert = peers.get(socket);
  if (!cert) {
    const raw = socket.getPeerCertificate?.()?.raw;
    if (!raw) return undefined;
    cert = new X509Certificate(raw);
    peers.set(socket, cert);
  }
  return cert;
}

/** The TLS peer: an authentication certificate registered for a security server, fresh and good. */
export function checkPeer(x: ProviderExchange): CallingPeer {
  const { ctx, req } = x;
  if (req.method !== 'POST' || req.url !== MESSAGE_PATH) throw new CamdxError('InvalidRequest', `security servers exchange messages at POST ${MESSAGE_PATH}`);
  const view = ctx.view(PROVIDER_SIDE);
  ctx.timestamper.check(PROVIDER_SIDE);
  const cert = peerCertificate(req.socket as TLSSocket);
  if (!cert) throw new CamdxError('SslAuthenticationFailed', 'no client certificate');
  const authOcsp = req.headers[H.ocspAuth] ? derOfBase64(String(req.headers[H.ocspAuth])) : undefined;
  const problem = checkPeerAuthCert(cert, view, authOcsp, ctx.clock());
  if (problem) {
    // Any OCSP problem is the certificate's validation; anything else says the peer is not a security server.
    const code = problem.fault === 'certificate' ? 'SslAuthenticationFailed' : 'CertValidation';
    throw new CamdxError(code, `the calling security server's certificate: ${problem.message}`);
  }
  const server = view.serverOfAuthCert(certificateHash(cert.raw))!;
  x.recorder.peer(server);
  return { view, server };
}

/** The head, the body (spooled and digested), and the signature over them, before anything else is believed. */
export async function receiveRequest(x: ProviderExchange): Promise<VerifiedRequest> {
  const { ctx, req, hint, recorder } = x;
  const received = readRequestHead(req.headers);
  const body = await receiveBody(req, x.spool, received.salt, ctx.config.limits.maxBodyBytes).catch((err: unknown) => {
    throw err instanceof BodyTooLarge ? new XRoadError('Client', 'MaxRequestSizeExceeded', `the request body is larger than ${err.limit} bytes`) : err;
  });
  recorder.requestBody(body.bytes);
  const verified = verifyReceived(ctx.verifier, req, received, body, { type: 'request', client: hint.client, service: hint.service, id: hint.id });
  recorder.exchangeId(verified.manifest.requestId);
  recorder.signedRequest(verifiedPartOf(verified, req.trailers[H.manifest]!));
  return { head: received.head, verified, bytes: body.bytes };
}

/** A message seen before, or signed outside the window, is refused; from here on the signed parties are named. */
export function checkReplay(x: ProviderExchange, peer: CallingPeer, request: VerifiedRequest): void {
  const { manifest, leaf } = request.verified;
  x.ctx.replay.check(leaf, manifest.signedAt);
  x.recorder.identify({ messageId: x.hint.id, client: x.hint.client, service: x.hint.service });
  x.recorder.label({
    client: peer.view.hasSubsystem(manifest.client) ? manifest.client : 'unregistered',
    service: peer.view.service(manifest.service) ? manifest.service : 'unregistered',
  });
}

/** The signed client must be a client of the server that sent it. */
export function checkClientOfPeer(peer: CallingPeer, manifest: Manifest): void {
  if (!peer.view.isClientOf(peer.server, manifest.client)) {
    throw new CamdxError('ClientNotRegistered', `${manifest.client} is not a registered client of the calling security server ${peer.server}`);
  }
}

export interface ProvidedService {
  /** As registered in the global configuration. */
  readonly service: GlobalConf['services'][number];
  /** Where and how it is called (`services.<id>` in gateway.yaml). */
  readonly settings: ServiceConfig;
}

/** The service exists, is provided on this server, and its subsystem is not disabled here. */
export function findService(x: ProviderExchange, peer: CallingPeer, manifest: Manifest): ProvidedService {
  const { serverId } = x.config;
  const service = peer.view.service(manifest.service);
  const provider = subsystemOfId(manifest.service);
  const settings = x.config.services[manifest.service];
  if (!service || !peer.view.isClientOf(serverId, provider) || !settings) {
    throw new CamdxError('UnknownService', `service ${manifest.service} is not provided by security server ${serverId}`);
  }
  if (peer.view.isDisabledOn(serverId, provider)) throw new CamdxError('ServiceDisabled', `${provider} is disabled on security server ${serverId} by its member`);
  return { service, settings };
}

/** The access right, on the path as signed (the head decoder refused any path not in normal form). */
export function checkAccess(x: ProviderExchange, peer: CallingPeer, request: VerifiedRequest): void {
  const { manifest } = request.verified;
  const { method, path } = request.head;
  const endpoint = peer.view.endpointOf(manifest.service, method, path);
  x.recorder.matched(endpoint);
  if (!peer.view.allowingRight(manifest.client, manifest.service, method, path)) {
    // Named by the endpoint pattern, never the path: paths carry personal data into logs and archives.
    const under = endpoint === NO_ENDPOINT ? `${method} (no endpoint)` : `endpoint ${endpoint}`;
    throw new CamdxError('AccessDenied', `${manifest.client} has no access right to ${under} of ${manifest.service}`);
  }
}
