import { randomUUID } from 'node:crypto';
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import { pipeline } from 'node:stream/promises';
import { parseErrorType, XRoadError } from '../../protocol/errors.js';
import { formatMemberId, type ServiceId } from '../../protocol/identifiers.js';
import type { GatewayContext } from '../context.js';
import { fail } from '../errors.js';
import type { ConfView } from '../globalconf/view.js';
import { decodeResponseHead, encodeHead, encodeManifest, H, manifestLeaf, MESSAGE_PATH, newSalt, saltedDigest, TRAILERS, type Manifest } from '../message/format.js';
import type { SignedPart } from '../messagelog/log.js';
import { BodyTooLarge, carry, endWithSignature, SourceClosed } from '../transport/carry.js';
import { checkPeerHeadSize } from './limits.js';
import type { ProviderPools } from './pools.js';
import type { ClientHeaders } from './parse.js';
import { serviceText } from './parse.js';

const SIDE = 'Server.ClientProxy' as const;

export interface ExchangeOutcome {
  status: number;
  requestId: string;
  requestOutTs: number | null;
  responseInTs: number | null;
  requestBytes: number;
  responseBytes: number;
  peerServer: string | null;
  request: SignedPart | null;
  response: SignedPart | null;
}

interface Target {
  readonly id: string;
  readonly host: string;
  readonly port: number;
}

function targetsFor(view: ConfView, service: ServiceId, pinned: string | undefined): Target[] {
  const provider = `${formatMemberId(service)}/${service.subsystemCode}`;
  let servers = view.serversHosting(provider);
  if (pinned) {
    servers = servers.filter((s) => s.id === pinned);
    if (servers.length === 0) throw new XRoadError('Client', 'InvalidSecurityServer', `security server ${pinned} does not serve ${provider}`);
  }
  if (servers.length === 0) throw fail(SIDE, 'NetworkError', `no security server serves ${provider}`);
  // A server in maintenance mode is skipped; if all are, the caller hears its owner's message.
  const inService = servers.filter((s) => s.maintenance === undefined);
  if (inService.length === 0) {
    const [first] = servers;
    throw fail(SIDE, 'MaintenanceMode', `security server ${first!.id}${servers.length > 1 ? ` (and every other server of ${provider})` : ''} is in maintenance mode${first!.maintenance ? `: ${first!.maintenance}` : ''}`);
  }
  return inService.map((s) => {
    const cut = s.address.lastIndexOf(':');
    return { id: s.id, host: s.address.slice(0, cut).replace(/^\[|\]$/g, ''), port: Number(s.address.slice(cut + 1)) };
  });
}

/** Opens the message request to the first provider server that completes a verified TLS handshake. */
async function connect(ctx: GatewayContext, pools: ProviderPools, view: ConfView, targets: Target[], headers: Record<string, string>, watch: ClientWatch): Promise<{ upstream: ClientRequest; target: Target }> {
  let last: Error | undefined;
  for (const target of targets) {
    const upstream = https.request({
      agent: pools.agentFor(target.id, view),
      host: target.host,
      port: target.port,
      method: 'POST',
      path: MESSAGE_PATH,
      headers,
      timeout: ctx.config.limits.connectTimeoutMs,
    });
    upstream.on('timeout', () => upstream.destroy(new Error('connection timed out')));
    watch.hold(upstream);
    try {
      await new Promise<void>((resolve, reject) => {
        upstream.once('error', reject);
        upstream.once('socket', (socket) => {
          // A pooled socket is already connected and verified; a new one must finish its handshake.
          if (!(socket as { connecting?: boolean }).connecting && (socket as { authorized?: boolean }).authorized) return resolve();
          socket.once('secureConnect', () => resolve());
        });
      });
      upstream.removeAllListeners('error');
      upstream.setTimeout(0);
      return { upstream, target };
    } catch (err) {
      upstream.destroy();
      if (watch.gone) throw err;
      last = err as Error;
      ctx.log.warn({ server: target.id, reason: (err as Error).message }, 'provider security server unreachable; trying the next');
    }
  }
  const rejected = (last as { code?: string } | undefined)?.code === 'CAMDX_PEER_REJECTED';
  if (!rejected) throw fail(SIDE, 'NetworkError', `cannot reach a security server serving the provider: ${last?.message ?? 'none tried'}`);
  throw fail(SIDE, WITHOUT_FRESH_OCSP.test(last!.message) ? 'CertValidation' : 'SslAuthenticationFailed', last!.message);
}

/**
 * The refusals of a provider's TLS certificate (transport/tls.ts `checkPeerAuthCert`) that mean
 * it has no fresh OCSP response, as after an OCSP outage: `CertValidation` (README), like the
 * provider side. Any other refusal, a revoked status included, says the peer is not the server
 * it should be: `SslAuthenticationFailed`.
 */
const WITHOUT_FRESH_OCSP = /: (no OCSP response for the certificate|OCSP: the OCSP response is (older than|past its nextUpdate))/;

/**
 * Ends the provider side of an exchange whose client has gone, at whatever stage: the request
 * to the provider (queued for a pooled connection, uploading, or waiting for the answer) and
 * the answer are destroyed, so the pooled connection is closed — the provider's gateway sees
 * it end — instead of staying taken until an answer nobody reads, or its idle timeout.
 */
class ClientWatch {
  gone = false;
  private readonly held: Array<{ destroy(): unknown }> = [];
  private readonly onClose = () => {
    if (this.res.writableFinished) return;
    this.gone = true;
    for (const stream of this.held) stream.destroy();
  };

  constructor(private readonly res: ServerResponse) {
    res.once('close', this.onClose);
  }

  hold(stream: { destroy(): unknown }): void {
    if (this.gone) stream.destroy();
    else this.held.push(stream);
  }

  stop(): void {
    this.res.off('close', this.onClose);
  }
}

/** The client closed its connection (or half-closed it mid-body) before its answer. */
const clientLeft = () => new XRoadError('Client', 'InvalidRequest', 'the client closed its connection before the exchange ended');

/**
 * Carries one client request to the provider's gateway and the verified answer back: the body
 * streams out while it is digested; the signature follows as trailers; the answer is spooled
 * until its signature, certificate and binding to this request have verified.
 */
export async function exchange(
  ctx: GatewayContext,
  pools: ProviderPools,
  req: IncomingMessage,
  res: ServerResponse,
  call: { service: ServiceId; path: string; query: string },
  headers: ClientHeaders,
  outcome: ExchangeOutcome,
  /** Called once the answer has verified, before it is returned: the record must be durable first. */
  complete: () => Promise<void>,
): Promise<void> {
  const watch = new ClientWatch(res);
  try {
    await carryExchange(ctx, pools, req, res, call, headers, outcome, complete, watch);
  } catch (err) {
    if (watch.gone) throw clientLeft();
    throw err;
  } finally {
    watch.stop();
  }
}

async function carryExchange(
  ctx: GatewayContext,
  pools: ProviderPools,
  req: IncomingMessage,
  res: ServerResponse,
  call: { service: ServiceId; path: string; query: string },
  headers: ClientHeaders,
  outcome: ExchangeOutcome,
  complete: () => Promise<void>,
  watch: ClientWatch,
): Promise<void> {
  const view = ctx.view(SIDE);
  ctx.timestamper.check(SIDE);
  const freshness = view.conf.ocspFreshnessSeconds;
  // Taken in the same turn as the OCSP responses: after a key renewal mid-exchange, this exchange still signs with the key they are about.
  const signer = ctx.signer;
  const signingOcsp = ctx.ownOcsp.freshDer('signing', freshness);
  const authOcsp = ctx.ownOcsp.freshDer('auth', freshness);
  if (!signingOcsp || !authOcsp) throw fail(SIDE, 'CertValidation', 'this security server has no fresh good OCSP response for its own certificates; check the OCSP responder');
  const service = serviceText(call.service);
  const requestId = randomUUID();
  outcome.requestId = requestId;
  const salt = newSalt();
  const headText = encodeHead({ method: req.method!, path: call.path, query: call.query, headers: [...headers.endToEnd] });
  const headBytes = Buffer.from(headText, 'base64url');

  const peerHeaders = {
    'content-type': 'application/octet-stream',
    trailer: TRAILERS,
    [H.head]: headText,
    'x-camdx-salt': salt.toString('base64'),
    [H.ocspSign]: signingOcsp.toString('base64'),
    [H.ocspAuth]: authOcsp.toString('base64'),
    [H.client]: headers.clientId,
    [H.service]: service,
    [H.id]: headers.messageId,
  };
  checkPeerHeadSize(peerHeaders, ctx.config.limits.maxHeaderBytes);
  const { upstream, target } = await connect(ctx, pools, view, targetsFor(view, call.service, headers.securityServer), peerHeaders, watch);
  outcome.peerServer = target.id;
  outcome.requestOutTs = ctx.clock();
  const responded = new Promise<IncomingMessage>((resolve, reject) => {
    upstream.once('response', resolve);
    upstream.once('error', reject);
  });
  responded.catch(() => undefined);

  // Request body: client → digest → provider gateway, then the signature as trailers. Corked, a
  // small request leaves as one TLS write with its signature instead of two.
  let requestLeaf: Buffer;
  upstream.cork();
  try {
    const { digest, bytes } = await carry(req, upstream, { salt, limit: ctx.config.limits.maxBodyBytes, end: false });
    outcome.requestBytes = bytes;
    ctx.metrics.bytes.inc({ side: 'Client', direction: 'request' }, bytes);
    const manifest: Manifest = {
      v: 1,
      type: 'request',
      id: headers.messageId,
      requestId,
      client: headers.clientId,
      service,
      signedAt: new Date(ctx.clock()).toISOString(),
      salt: salt.toString('base64'),
      headDigest: saltedDigest(salt, headBytes),
      bodyDigest: digest,
      bodyBytes: bytes,
    };
    const encoded = encodeManifest(manifest);
    requestLeaf = manifestLeaf(encoded.bytes);
    const signed = await signer.sign(requestLeaf);
    endWithSignature(upstream, encoded.text, signed);
    outcome.request = {
      manifest: encoded.text,
      chain: signed.chain,
      leaf: requestLeaf.toString('hex'),
      signature: signed.signature,
      signatureHash: signed.signatureHash,
      batchSize: signed.batchSize,
      signerDer: signer.certificate.raw,
      ocspDer: signingOcsp,
    };
  } catch (err) {
    upstream.destroy();
    if (err instanceof BodyTooLarge) throw new XRoadError('Client', 'MaxRequestSizeExceeded', `the request body is larger than ${err.limit} bytes (limits.maxBodyBytes)`);
    if (err instanceof SourceClosed) throw clientLeft();
    throw fail(SIDE, 'NetworkError', `the request could not be sent: ${(err as Error).message}`);
  }

  // Response: wait (bounded), then either a signed message or an error from the provider gateway.
  const timer = setTimeout(() => upstream.destroy(Object.assign(new Error('timeout'), { code: 'CAMDX_TIMEOUT' })), ctx.config.limits.serviceTimeoutMs);
  let response: IncomingMessage;
  try {
    response = await responded;
  } catch (err) {
    clearTimeout(timer);
    if ((err as { code?: string }).code === 'CAMDX_TIMEOUT') throw fail(SIDE, 'Timeout', `no response within ${ctx.config.limits.serviceTimeoutMs} ms`);
    throw fail(SIDE, 'NetworkError', `the provider security server closed the connection: ${(err as Error).message}`);
  }
  outcome.responseInTs = ctx.clock();
  watch.hold(response);
  if (!response.headers[H.head]) {
    clearTimeout(timer);
    throw await providerError(response);
  }
  const spool = ctx.spools.spool(ctx.config.limits.spoolMemoryBytes);
  try {
    const { head, bytes: responseHeadBytes } = decodeResponseHead(response.headers[H.head] as string, SIDE);
    const responseSalt = Buffer.from(String(response.headers['x-camdx-salt'] ?? ''), 'base64');
    const { digest, bytes } = await carry(response, spool, { salt: responseSalt, limit: ctx.config.limits.maxBodyBytes, end: true });
    clearTimeout(timer);
    outcome.responseBytes = bytes;
    ctx.metrics.bytes.inc({ side: 'Client', direction: 'response' }, bytes);
    const t = response.trailers;
    const verified = ctx.verifier.verify(
      {
        manifest: t[H.manifest],
        chain: t[H.chain],
        signature: t[H.signature] ? Buffer.from(t[H.signature]!, 'base64').toString('utf8') : undefined,
        headBytes: responseHeadBytes,
        salt: responseSalt,
        bodyDigest: digest,
        bodyBytes: bytes,
        ocsp: response.headers[H.ocspSign] ? Buffer.from(String(response.headers[H.ocspSign]), 'base64') : undefined,
      },
      {
        type: 'response',
        signerMember: formatMemberId(call.service),
        id: headers.messageId,
        client: headers.clientId,
        service,
        requestHash: requestLeaf.toString('base64'),
      },
    );
    outcome.response = {
      manifest: t[H.manifest]!,
      chain: verified.chain,
      leaf: verified.leaf.toString('hex'),
      signature: verified.signature,
      signatureHash: verified.signatureHash,
      batchSize: verified.statement.count,
      signerDer: verified.signer.raw,
      ocspDer: verified.ocsp,
    };
    outcome.status = head.status;
    await complete();
    const out: Array<[string, string]> = [...head.headers];
    out.push(['X-Road-Client', headers.clientId], ['X-Road-Service', service], ['X-Road-Id', headers.messageId], ['X-Road-Request-Id', requestId], ['X-Road-Request-Hash', requestLeaf.toString('base64')]);
    out.push(['Content-Length', String(bytes)]);
    res.writeHead(head.status, out.flat());
    const held = spool.inMemory();
    if (held) res.end(held);
    else await pipeline(spool.reader(), res);
  } catch (err) {
    clearTimeout(timer);
    response.destroy();
    if (err instanceof BodyTooLarge) throw fail(SIDE, 'MaxRequestSizeExceeded', `the response body is larger than ${err.limit} bytes`);
    throw err;
  } finally {
    await spool.dispose();
  }
}

async function providerError(response: IncomingMessage): Promise<XRoadError> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 64 * 1024) break;
    chunks.push(chunk);
  }
  let body: { type?: unknown; message?: unknown } = {};
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
  } catch {
    // not an X-Road error body
  }
  return parseErrorType(response.headers['x-road-error'] ?? body.type, body.message) ?? fail(SIDE, 'InconsistentResponse', `the provider security server answered HTTP ${response.statusCode} without a signed message`);
}
