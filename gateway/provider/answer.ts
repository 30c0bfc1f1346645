import type { IncomingMessage } from 'node:http';
import { CamdxError } from '../../protocol/errors.js';
import { requestHashOf } from '../../protocol/message-hashes.js';
import { endSigned, signedPartOf, startMessage, streamSigned, type Sealed } from '../message/codec.js';
import { HeaderError, endToEndHeaders, newSalt } from '../message/format.js';
import type { Signer } from '../message/codec.js';
import { SourceClosed } from '../transport/carry.js';
import type { ProvidedService } from './checks.js';
import { PROVIDER_SIDE, type CallingPeer, type ProviderExchange, type VerifiedRequest } from './exchange.js';
import { callService as requestFromService, ServiceUnreachable } from './forward.js';

/** The service's answer, its status final and its headers fit to travel. */
export interface ServiceAnswer {
  readonly body: IncomingMessage;
  readonly status: number;
  readonly headers: Array<[string, string]>;
}

/** The provider's information system, called with the verified request and the X-Road headers naming it. */
export async function callService(x: ProviderExchange, request: VerifiedRequest, provided: ProvidedService): Promise<ServiceAnswer> {
  const { manifest, leaf } = request.verified;
  x.recorder.requestSent();
  if (x.departure.gone) throw new Error('the calling security server left');
  const answer = await requestFromService(
    provided.settings,
    request.head,
    request.head.path,
    [
      ['X-Road-Client', manifest.client],
      ['X-Road-Service', manifest.service],
      ['X-Road-Id', manifest.id],
      ['X-Road-Request-Id', manifest.requestId],
      ['X-Road-Request-Hash', requestHashOf(leaf)],
    ],
    () => x.spool.inMemory() ?? x.spool.reader(),
    request.bytes,
    provided.settings.timeoutMs ?? x.config.limits.serviceTimeoutMs,
    (started) => x.departure.hold(started),
  ).catch((err: unknown) => {
    throw err instanceof ServiceUnreachable ? new CamdxError(err.timedOut ? 'Timeout' : 'ServiceFailed', err.message) : err;
  });
  x.serviceAnswer = answer;
  x.departure.hold(answer);
  x.recorder.responseArrived();
  const status = answer.statusCode ?? 502;
  x.recorder.answered(status);
  try {
    if (status < 200 || status > 599) throw new HeaderError(`status ${status} is not a final HTTP status (200-599)`);
    return { body: answer, status, headers: endToEndHeaders(answer.rawHeaders) };
  } catch (err) {
    if (err instanceof HeaderError) throw new CamdxError('ServiceFailed', `the service's answer is refused: ${err.message}`);
    throw err;
  }
}

/** A signed answer under way: streamed to the caller, its signature made, its trailers still held back. */
export interface SignedAnswer {
  readonly sealed: Sealed;
  readonly signer: Signer;
  readonly ocsp: Buffer;
}

/** The answer, streamed back as it arrives and digested on the way, then signed. */
export async function sendResponse(x: ProviderExchange, peer: CallingPeer, request: VerifiedRequest, answer: ServiceAnswer): Promise<SignedAnswer> {
  const { ctx, res } = x;
  const { manifest, leaf } = request.verified;
  // Taken in the same turn as the OCSP response: a key renewal mid-answer must not pair a new signature with the old certificate's status.
  const signer = ctx.signer;
  const ocsp = ctx.ownOcsp.freshDer('signing', peer.view.conf.ocspFreshnessSeconds);
  if (!ocsp) throw new CamdxError('CertValidation', 'this security server has no fresh good OCSP response for its signing certificate');
  const message = startMessage({ head: { status: answer.status, headers: answer.headers }, salt: newSalt(), ocspSign: ocsp });
  // Corked, a small answer leaves as one TLS write with its signature instead of two.
  res.cork();
  res.writeHead(200, message.headers);
  const fields = { type: 'response', id: manifest.id, requestId: manifest.requestId, client: manifest.client, service: manifest.service, requestHash: requestHashOf(leaf) } as const;
  const sealed = await streamSigned(answer.body, res, message, fields, { signer, limit: Number.MAX_SAFE_INTEGER, clock: ctx.clock }).catch((err: unknown) => {
    throw err instanceof SourceClosed && !x.departure.gone ? new CamdxError('ServiceFailed', 'the service closed its connection before its answer ended') : err;
  });
  x.recorder.responseBody(sealed.bytes);
  return { sealed, signer, ocsp };
}

/**
 * The record is durable (and, for synchronously stamped services, timestamped) before the
 * answer completes: only then do its trailers, the signature, go out.
 */
export async function record(x: ProviderExchange, provided: ProvidedService, answer: SignedAnswer): Promise<void> {
  const request = x.recorder.signed.request!;
  const response = signedPartOf(answer.sealed, answer.signer, answer.ocsp);
  x.recorder.signedResponse(response);
  await x.recorder.record();
  if (provided.service.timestampSynchronously) await x.ctx.timestamper.stampNow([request.signatureHash, response.signatureHash], PROVIDER_SIDE);
  endSigned(x.res, answer.sealed);
}
