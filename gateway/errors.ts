import type { ServerResponse } from 'node:http';
import type { Logger } from '../common/log.js';
import { IdentifierError } from '../protocol/identifiers.js';
import { XRoadError, type ErrorCode, type ErrorSide } from '../protocol/errors.js';
import { PathError } from '../protocol/paths.js';
import { MessageFormatError } from './message/format.js';
import { VerificationError } from './message/verifier.js';
import { SourceClosed } from './transport/carry.js';
import { SpoolQuotaExceeded } from './transport/spool.js';

/** Any failure as an X-Road error of `side`; unknown errors become InternalError without details. */
export function asXRoadError(err: unknown, side: ErrorSide): XRoadError {
  if (err instanceof XRoadError) return err;
  if (err instanceof VerificationError) return new XRoadError(side, err.code, err.message);
  if (err instanceof MessageFormatError) return new XRoadError(side, 'InvalidRequest', err.message);
  if (err instanceof SpoolQuotaExceeded) return new XRoadError(side, 'MaxRequestSizeExceeded', err.message);
  // The other gateway's connection ended mid-message: nothing of ours failed.
  if (err instanceof SourceClosed) return new XRoadError(side, 'NetworkError', "the other security server's connection closed before the message ended");
  if (err instanceof PathError) return new XRoadError(side === 'Server.ClientProxy' ? 'Client' : side, 'InvalidRequest', err.message);
  if (err instanceof IdentifierError) return new XRoadError('Client', 'InvalidClientIdentifier', err.message);
  return new XRoadError(side, 'InternalError', 'the security server failed to process the message');
}

export const fail = (side: ErrorSide, code: ErrorCode, message: string) => new XRoadError(side, code, message);

/** The X-Road error response: JSON `{type, message, detail}` and the `X-Road-Error` header. */
export function sendXRoadError(res: ServerResponse, err: XRoadError, detail: string, extraHeaders: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(err.toBody(detail));
  res.writeHead(err.httpStatus, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'x-road-error': err.type, ...extraHeaders });
  res.end(body);
}

const PEERS = { consumer: 'the client', provider: 'the calling security server' } as const;

/**
 * Logs a failed exchange by whose problem it is, never with a body: the other side hanging up
 * mid-exchange is nobody's failure and no one is left to answer (debug); our own bug is an
 * error with its stack; any other server-side fault is ours or the other gateway's to look
 * into (a warning naming the message id, the type and the reason).
 */
export function logFault(log: Logger, side: 'consumer' | 'provider', res: ServerResponse, fault: XRoadError, err: unknown, messageId: string | undefined): void {
  if (res.destroyed && !res.writableFinished) log.debug(`${PEERS[side]} closed its connection before the answer`);
  else if (fault.code === 'InternalError') log.error({ err: { message: (err as Error).message, stack: (err as Error).stack } }, `${side} failure`);
  else if (fault.httpStatus >= 500) log.warn({ id: messageId, fault: fault.type, reason: fault.message }, 'exchange failed');
}
