import type { IncomingMessage } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { CamdxError, parseErrorType, XRoadError } from '../../protocol/errors.js';
import type { GlobalConf } from '../../protocol/globalconf.js';
import { formatMemberId, type ServiceId } from '../../protocol/identifiers.js';
import { requestHashOf } from '../../protocol/message-hashes.js';
import { endSigned, readResponseHead, receiveBody, signedPartOf, streamSigned, verifiedPartOf, verifyReceived } from '../message/codec.js';
import { H, type ResponseHead } from '../message/format.js';
import { BodyTooLarge, SourceClosed } from '../transport/carry.js';
import type { Spool } from '../transport/spool.js';
import type { ProviderConnection } from './connect.js';
import { clientLeft, CONSUMER_SIDE, type ConsumerExchange } from './exchange.js';
import { serviceText, type ClientHeaders } from './parse.js';

/**
 * Request body: client → digest → provider gateway, then the signature as trailers. Corked, a
 * small request leaves as one TLS write with its signature instead of two. Returns the request's leaf.
 */
export async function sendRequest(x: ConsumerExchange, connection: ProviderConnection, service: ServiceId, headers: ClientHeaders): Promise<Buffer> {
  const { upstream, message, signer } = connection;
  upstream.cork();
  try {
    const fields = { type: 'request', id: headers.messageId, requestId: connection.requestId, client: headers.clientId, service: serviceText(service) } as const;
    const sealed = await streamSigned(x.req, upstream, message, fields, { signer, limit: x.config.limits.maxBodyBytes, clock: x.ctx.clock });
    x.recorder.requestBody(sealed.bytes);
    endSigned(upstream, sealed);
    x.recorder.signedRequest(signedPartOf(sealed, signer, connection.signingOcsp));
    return sealed.leaf;
  } catch (err) {
    upstream.destroy();
    if (err instanceof BodyTooLarge) throw new XRoadError('Client', 'MaxRequestSizeExceeded', `the request body is larger than ${err.limit} bytes (limits.maxBodyBytes)`);
    if (err instanceof SourceClosed) throw clientLeft();
    throw new CamdxError('NetworkError', `the request could not be sent: ${(err as Error).message}`);
  }
}

/** A verified answer, held in its spool until it is returned. */
export interface VerifiedAnswer {
  readonly head: ResponseHead;
  readonly spool: Spool;
  readonly bytes: number;
}

/** The provider's answer, awaited (bounded), spooled and verified — its signer the provider's member, bound to this request. */
export async function receiveResponse(x: ConsumerExchange, connection: ProviderConnection, service: ServiceId, headers: ClientHeaders, requestLeaf: Buffer): Promise<VerifiedAnswer> {
  const { limits } = x.config;
  const timer = setTimeout(() => connection.upstream.destroy(Object.assign(new Error('timeout'), { code: 'CAMDX_TIMEOUT' })), limits.serviceTimeoutMs);
  const response = await connection.responded.catch((err: { code?: string; message: string }) => {
    clearTimeout(timer);
    if (err.code === 'CAMDX_TIMEOUT') throw new CamdxError('Timeout', `no response within ${limits.serviceTimeoutMs} ms`);
    throw new CamdxError('NetworkError', `the provider security server closed the connection: ${err.message}`);
  });
  x.recorder.responseArrived();
  x.departure.hold(response);
  if (!response.headers[H.head]) {
    clearTimeout(timer);
    throw await providerError(response);
  }
  const spool = (x.responseSpool = x.ctx.spools.spool(limits.spoolMemoryBytes));
  try {
    const received = readResponseHead(response.headers);
    const body = await receiveBody(response, spool, received.salt, limits.maxBodyBytes);
    clearTimeout(timer);
    x.recorder.responseBody(body.bytes);
    const expect = {
      type: 'response',
      signerMember: formatMemberId(service),
      id: headers.messageId,
      client: headers.clientId,
      service: serviceText(service),
      requestHash: requestHashOf(requestLeaf),
    } as const;
    const verified = verifyReceived(x.ctx.verifier, response, received, body, expect);
    x.recorder.signedResponse(verifiedPartOf(verified, response.trailers[H.manifest]!));
    x.recorder.answered(received.head.status);
    return { head: received.head, spool, bytes: body.bytes };
  } catch (err) {
    clearTimeout(timer);
    response.destroy();
    if (err instanceof BodyTooLarge) throw new CamdxError('MaxRequestSizeExceeded', `the response body is larger than ${err.limit} bytes`);
    throw err;
  }
}

/** An answer without a signed message: the provider gateway's X-Road error, or an inconsistent response. */
async function providerError(response: IncomingMessage): Promise<XRoadError | CamdxError> {
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
  return (
    parseErrorType(response.headers['x-road-error'] ?? body.type, body.message) ??
    new CamdxError('InconsistentResponse', `the provider security server answered HTTP ${response.statusCode} without a signed message`)
  );
}

/** The record is durable (and, for synchronously stamped services, timestamped) before the answer is returned. */
export async function record(x: ConsumerExchange, service: GlobalConf['services'][number]): Promise<void> {
  await x.recorder.record();
  const { request, response } = x.recorder.signed;
  if (service.timestampSynchronously) await x.ctx.timestamper.stampNow([request!.signatureHash, response!.signatureHash], CONSUMER_SIDE);
}

/** The verified answer to the client, with the X-Road headers naming the exchange. */
export async function answer(x: ConsumerExchange, verified: VerifiedAnswer, service: ServiceId, headers: ClientHeaders, requestId: string, requestLeaf: Buffer): Promise<void> {
  const out: Array<[string, string]> = [...verified.head.headers];
  out.push(['X-Road-Client', headers.clientId], ['X-Road-Service', serviceText(service)], ['X-Road-Id', headers.messageId]);
  out.push(['X-Road-Request-Id', requestId], ['X-Road-Request-Hash', requestHashOf(requestLeaf)], ['Content-Length', String(verified.bytes)]);
  x.res.writeHead(verified.head.status, out.flat());
  const held = verified.spool.inMemory();
  if (held) x.res.end(held);
  else await pipeline(verified.spool.reader(), x.res);
}
