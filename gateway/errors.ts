import type { ServerResponse } from 'node:http';
import type { Logger } from '../common/log.js';
import { CamdxError, ErrorCode, XRoadError, type ErrorSide, type LocalCode } from '../protocol/errors.js';

/**
 * What a local code means to the other party of a failed exchange, where it has a meaning: the
 * X-Road code, whose fault (`caller`: always the client's; `callerOnConsumer`: the client's
 * when the consumer side caught it) and, where the local message speaks of our internals, the
 * message the other party reads instead. A code not listed here reaching a handler is our
 * bug: InternalError, without details.
 */
const AS_XROAD: Partial<Record<LocalCode, { code: ErrorCode; caller?: true; callerOnConsumer?: true; message?: string }>> = {
  MessageFormat: { code: 'InvalidRequest' },
  SpoolQuota: { code: 'MaxRequestSizeExceeded' },
  // The other gateway's connection ended mid-message: nothing of ours failed.
  SourceClosed: { code: 'NetworkError', message: "the other security server's connection closed before the message ended" },
  PathRule: { code: 'InvalidRequest', callerOnConsumer: true },
  Identifier: { code: 'InvalidClientIdentifier', caller: true },
};

const isXRoadCode = (code: string): code is ErrorCode => code in ErrorCode;

/**
 * Any failure as an X-Road error, adding `side` — the handler's own — to what a lower layer
 * threw without one. Decided by the error's code, never by its message.
 */
export function asXRoadError(err: unknown, side: ErrorSide): XRoadError {
  if (err instanceof XRoadError) return err;
  if (!(err instanceof CamdxError)) return new XRoadError(side, 'InternalError', 'the security server failed to process the message');
  const field = err.field === undefined ? {} : { field: err.field };
  if (isXRoadCode(err.code)) return new XRoadError(side, err.code, err.message, field);
  const meaning = AS_XROAD[err.code as LocalCode];
  if (!meaning) return new XRoadError(side, 'InternalError', 'the security server failed to process the message');
  const blamed = meaning.caller || (meaning.callerOnConsumer && side === 'Server.ClientProxy') ? 'Client' : side;
  return new XRoadError(blamed, meaning.code, meaning.message ?? err.message, field);
}

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
