import { X509Certificate } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { XRoadError } from '../../protocol/errors.js';
import type { GatewayContext } from '../context.js';
import { asXRoadError, fail, logFault, sendXRoadError } from '../errors.js';
import { NO_ENDPOINT } from '../globalconf/view.js';
import { decodeRequestHead, encodeHead, encodeManifest, HeaderError, headersFromIs, H, manifestLeaf, MESSAGE_PATH, newSalt, saltedDigest, TRAILERS, type Manifest } from '../message/format.js';
import type { VerifiedMessage } from '../message/verifier.js';
import type { ExchangeRecord, SignedPart } from '../messagelog/log.js';
import { BodyTooLarge, carry, endWithSignature, SourceClosed } from '../transport/carry.js';
import { answerRefusals, gatewayListenerOptions, peerRequestGraceMs } from '../transport/listeners.js';
import { certificateHash, chainPem, checkPeerAuthCert, MIN_TLS } from '../transport/tls.js';
import { callService, ServiceUnreachable } from './forward.js';

const SIDE = 'Server.ServerProxy' as const;

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

const part = (v: VerifiedMessage, manifest: string): SignedPart => ({
  manifest,
  chain: v.chain,
  leaf: v.leaf.toString('hex'),
  signature: v.signature,
  signatureHash: v.signatureHash,
  batchSize: v.statement.count,
  signerDer: v.signer.raw,
  ocspDer: v.ocsp,
});

/**
 * The provider side: receives signed messages from other gateways over mTLS, and only after
 * the peer, the signature, the certificates, the service and the access right have all been
 * checked does it call the provider's information system; the answer streams back signed.
 */
export function providerHandler(ctx: GatewayContext) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestInTs = ctx.clock();
    const hint = { client: String(req.headers[H.client] ?? ''), service: String(req.headers[H.service] ?? ''), id: String(req.headers[H.id] ?? '') };
    let peerServer: string | null = null;
    let endpoint = '*';
    let request: SignedPart | null = null;
    let response: SignedPart | null = null;
    let requestId = 'none';
    let status = 0;
    let requestOutTs: number | null = null;
    let responseInTs: number | null = null;
    let sizes = { request: 0, response: 0 };
    let fault: XRoadError | undefined;
    let verifiedRequest = false;
    // Metric labels: only registered ids, so no caller can add label values at will.
    let labels = { client: 'unverified', service: 'unverified' };
    let recorded = false;
    const entry = (): ExchangeRecord => ({
      messageId: verifiedRequest ? hint.id : 'unverified',
      requestId,
      side: 'Producer',
      client: verifiedRequest ? hint.client : 'unverified',
      service: verifiedRequest ? hint.service : 'unverified',
      endpoint,
      peerServer,
      requestInTs,
      requestOutTs,
      responseInTs,
      responseOutTs: ctx.clock(),
      requestSize: sizes.request,
      responseSize: sizes.response,
      status,
      succeeded: !fault,
      faultCode: fault?.type ?? null,
      faultString: fault?.message ?? null,
      request,
      response,
    });
    ctx.metrics.inFlight.inc({ side: 'Producer' });
    const spool = ctx.spools.spool(ctx.config.limits.spoolMemoryBytes);
    // The calling gateway gone (its client left): the call to the service and its answer end too.
    let serviceCall: { destroy(): unknown } | undefined;
    let upstream: IncomingMessage | undefined;
    let peerGone = false;
    const onPeerGone = () => {
      if (res.writableFinished) return;
      peerGone = true;
      serviceCall?.destroy();
      upstream?.destroy();
    };
    res.once('close', onPeerGone);
    try {
      if (req.method !== 'POST' || req.url !== MESSAGE_PATH) throw fail(SIDE, 'InvalidRequest', `security servers exchange messages at POST ${MESSAGE_PATH}`);
      const view = ctx.view(SIDE);
      ctx.timestamper.check(SIDE);
      const now = ctx.clock();

      // The TLS peer: an authentication certificate registered for a security server, fresh and good.
      const peerCert = peerCertificate(req.socket as TLSSocket);
      if (!peerCert) throw fail(SIDE, 'SslAuthenticationFailed', 'no client certificate');
      const peerRaw = peerCert.raw;
      const authOcsp = req.headers[H.ocspAuth] ? Buffer.from(String(req.headers[H.ocspAuth]), 'base64') : undefined;
      const peerProblem = checkPeerAuthCert(peerCert, view, authOcsp, now);
      if (peerProblem) throw fail(SIDE, peerProblem.startsWith('OCSP') || peerProblem.startsWith('no OCSP') ? 'CertValidation' : 'SslAuthenticationFailed', `the calling security server's certificate: ${peerProblem}`);
      peerServer = view.serverOfAuthCert(certificateHash(peerRaw))!;

      const { head, bytes: headBytes } = decodeRequestHead(req.headers[H.head] as string | undefined, SIDE);
      const salt = Buffer.from(String(req.headers['x-camdx-salt'] ?? ''), 'base64');
      let carried;
      try {
        carried = await carry(req, spool, { salt, limit: ctx.config.limits.maxBodyBytes, end: true });
      } catch (err) {
        if (err instanceof BodyTooLarge) throw new XRoadError('Client', 'MaxRequestSizeExceeded', `the request body is larger than ${err.limit} bytes`);
        throw err;
      }
      const { digest, bytes } = carried;
      sizes.request = bytes;
      ctx.metrics.bytes.inc({ side: 'Producer', direction: 'request' }, bytes);

      // 1. Signature, certificates, identity binding, OCSP — before anything else is believed.
      const verified = ctx.verifier.verify(
        {
          manifest: req.trailers[H.manifest],
          chain: req.trailers[H.chain],
          signature: req.trailers[H.signature] ? Buffer.from(req.trailers[H.signature]!, 'base64').toString('utf8') : undefined,
          headBytes,
          salt,
          bodyDigest: digest,
          bodyBytes: bytes,
          ocsp: req.headers[H.ocspSign] ? Buffer.from(String(req.headers[H.ocspSign]), 'base64') : undefined,
        },
        { type: 'request', client: hint.client, service: hint.service, id: hint.id },
      );
      const manifest = verified.manifest;
      requestId = manifest.requestId;
      request = part(verified, req.trailers[H.manifest]!);
      ctx.replay.check(verified.leaf, manifest.signedAt);
      verifiedRequest = true;
      labels = { client: view.hasSubsystem(manifest.client) ? manifest.client : 'unregistered', service: view.service(manifest.service) ? manifest.service : 'unregistered' };
      if (!view.isClientOf(peerServer, manifest.client)) {
        throw fail(SIDE, 'ClientNotRegistered', `${manifest.client} is not a registered client of the calling security server ${peerServer}`);
      }

      // 2. The service exists and is provided here.
      const service = view.service(manifest.service);
      const provider = manifest.service.split('/').slice(0, 4).join('/');
      // Read once: a console edit during this exchange applies to the next one.
      const config = ctx.config;
      const settings = config.services[manifest.service];
      if (!service || !view.isClientOf(ctx.config.serverId, provider) || !settings) {
        throw fail(SIDE, 'UnknownService', `service ${manifest.service} is not provided by security server ${ctx.config.serverId}`);
      }
      if (view.isDisabledOn(ctx.config.serverId, provider)) throw fail(SIDE, 'ServiceDisabled', `${provider} is disabled on security server ${ctx.config.serverId} by its member`);

      // 3. The access right, on the path as signed (decodeRequestHead refused any not in normal form).
      endpoint = view.endpointOf(manifest.service, head.method, head.path);
      if (!view.allowingRight(manifest.client, manifest.service, head.method, head.path)) {
        // Named by the endpoint pattern, never the path: paths carry personal data into logs and archives.
        const under = endpoint === NO_ENDPOINT ? `${head.method} (no endpoint)` : `endpoint ${endpoint}`;
        throw fail(SIDE, 'AccessDenied', `${manifest.client} has no access right to ${under} of ${manifest.service}`);
      }

      // 4. The provider's information system.
      requestOutTs = ctx.clock();
      if (peerGone) throw new Error('the calling security server left');
      try {
        upstream = await callService(
          settings,
          head,
          head.path,
          [
            ['X-Road-Client', manifest.client],
            ['X-Road-Service', manifest.service],
            ['X-Road-Id', manifest.id],
            ['X-Road-Request-Id', manifest.requestId],
            ['X-Road-Request-Hash', verified.leaf.toString('base64')],
          ],
          () => spool.inMemory() ?? spool.reader(),
          bytes,
          settings.timeoutMs ?? config.limits.serviceTimeoutMs,
          (started) => (serviceCall = started),
        );
      } catch (err) {
        if (err instanceof ServiceUnreachable) throw fail(SIDE, err.timedOut ? 'Timeout' : 'ServiceFailed', err.message);
        throw err;
      }
      responseInTs = ctx.clock();
      status = upstream.statusCode ?? 502;
      let answerHeaders: Array<[string, string]>;
      try {
        if (status < 200 || status > 599) throw new HeaderError(`status ${status} is not a final HTTP status (200-599)`);
        answerHeaders = headersFromIs(upstream.rawHeaders);
      } catch (err) {
        upstream.destroy();
        if (err instanceof HeaderError) throw fail(SIDE, 'ServiceFailed', `the service's answer is refused: ${err.message}`);
        throw err;
      }

      // 5. The answer, streamed back with its signature as trailers.
      const freshness = view.conf.ocspFreshnessSeconds;
      // Taken in the same turn as the OCSP response: a key renewal mid-answer must not pair a new signature with the old certificate's status.
      const signer = ctx.signer;
      const signingOcsp = ctx.ownOcsp.freshDer('signing', freshness);
      if (!signingOcsp) {
        upstream.destroy();
        throw fail(SIDE, 'CertValidation', 'this security server has no fresh good OCSP response for its signing certificate');
      }
      const responseSalt = newSalt();
      const headText = encodeHead({ status, headers: answerHeaders });
      // Corked, a small answer leaves as one TLS write with its signature instead of two.
      res.cork();
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        trailer: TRAILERS,
        [H.head]: headText,
        'x-camdx-salt': responseSalt.toString('base64'),
        [H.ocspSign]: signingOcsp.toString('base64'),
      });
      const result = await carry(upstream, res, { salt: responseSalt, limit: Number.MAX_SAFE_INTEGER, end: false }).catch((err: unknown) => {
        throw err instanceof SourceClosed && !peerGone ? fail(SIDE, 'ServiceFailed', 'the service closed its connection before its answer ended') : err;
      });
      sizes = { ...sizes, response: result.bytes };
      ctx.metrics.bytes.inc({ side: 'Producer', direction: 'response' }, result.bytes);
      const answer: Manifest = {
        v: 1,
        type: 'response',
        id: manifest.id,
        requestId: manifest.requestId,
        client: manifest.client,
        service: manifest.service,
        signedAt: new Date(ctx.clock()).toISOString(),
        salt: responseSalt.toString('base64'),
        headDigest: saltedDigest(responseSalt, Buffer.from(headText, 'base64url')),
        bodyDigest: result.digest,
        bodyBytes: result.bytes,
        requestHash: verified.leaf.toString('base64'),
      };
      const encoded = encodeManifest(answer);
      const leaf = manifestLeaf(encoded.bytes);
      const signed = await signer.sign(leaf);
      response = {
        manifest: encoded.text,
        chain: signed.chain,
        leaf: leaf.toString('hex'),
        signature: signed.signature,
        signatureHash: signed.signatureHash,
        batchSize: signed.batchSize,
        signerDer: signer.certificate.raw,
        ocspDer: signingOcsp,
      };
      // The record is durable (and, for synchronously stamped services, timestamped) before the answer completes.
      await ctx.messageLog.record(entry());
      recorded = true;
      if (service.timestampSynchronously) await ctx.timestamper.stampNow([request.signatureHash, response.signatureHash], SIDE);
      endWithSignature(res, encoded.text, signed);
    } catch (err) {
      while (res.writableCorked) res.uncork();
      // An answer not carried to its end: its connection to the service is not reused half-read.
      upstream?.destroy();
      fault = peerGone ? fail(SIDE, 'NetworkError', 'the calling security server closed the connection before the answer') : asXRoadError(err, SIDE);
      logFault(ctx.log, 'provider', res, fault, err, hint.id);
      status = fault.httpStatus;
      sendXRoadError(res, fault, hint.id || 'none');
      if (!req.readableEnded) req.resume();
    } finally {
      res.off('close', onPeerGone);
      await spool.dispose();
      ctx.metrics.inFlight.dec({ side: 'Producer' });
      // Only messages whose signature verified are attributed to a client and service.
      if (verifiedRequest || peerServer) {
        ctx.metrics.requests.inc({ side: 'Producer', ...labels, status: String(status), fault: fault?.type ?? '' });
        ctx.metrics.duration.observe({ side: 'Producer', ...labels }, (ctx.clock() - requestInTs) / 1000);
        if (!recorded) ctx.messageLog.record(entry()).catch(() => undefined);
      }
    }
  };
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
  answerRefusals(server, 'peer', ctx.config.limits);
  // Staple our authentication certificate's latest OCSP response into every handshake.
  server.on('OCSPRequest', (_cert: Buffer, _issuer: Buffer, callback: (err: Error | null, resp: Buffer | null) => void) => {
    callback(null, ctx.ownOcsp.latestDer('auth') ?? null);
  });
  return server;
}
