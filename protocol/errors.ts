/**
 * The one registry of X-Road error types. A type is `<side>.<code>`: the side says who
 * failed (the caller, the consumer's security server, the provider's), the code what failed.
 * The strings are part of the protocol; change them only with the protocol.
 */

export const ErrorCode = {
  AccessDenied: 'AccessDenied',
  CertValidation: 'CertValidation',
  ClientNotRegistered: 'ClientNotRegistered',
  InconsistentResponse: 'InconsistentResponse',
  InternalError: 'InternalError',
  InvalidClientIdentifier: 'InvalidClientIdentifier',
  InvalidHttpHeader: 'InvalidHttpHeader',
  /** A peer gateway's message breaks the message rules although it may be validly signed (X-Road's invalid_message). */
  InvalidMessage: 'InvalidMessage',
  InvalidRequest: 'InvalidRequest',
  InvalidSecurityServer: 'InvalidSecurityServer',
  InvalidServiceIdentifier: 'InvalidServiceIdentifier',
  InvalidSignatureValue: 'InvalidSignatureValue',
  /** Every server of the provider is in maintenance mode (X-Road's maintenance_mode); the message is its owner's. */
  MaintenanceMode: 'MaintenanceMode',
  MaxRequestSizeExceeded: 'MaxRequestSizeExceeded',
  NetworkError: 'NetworkError',
  OutdatedGlobalConf: 'OutdatedGlobalConf',
  /** The provider's member disabled the called subsystem on its server (clientDisable). */
  ServiceDisabled: 'ServiceDisabled',
  ServiceFailed: 'ServiceFailed',
  SslAuthenticationFailed: 'SslAuthenticationFailed',
  Timeout: 'Timeout',
  TimestampingFailed: 'TimestampingFailed',
  UnknownMember: 'UnknownMember',
  UnknownService: 'UnknownService',
  UnknownSubsystem: 'UnknownSubsystem',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * The codes of the errors gateway and protocol code throws that are not X-Road errors yet: a
 * lower layer says what went wrong, and whoever catches it decides what that means to the
 * other party (gateway/errors.ts maps each to an X-Road type). Stable: tests and logs match on
 * them, never on a message's text.
 */
export const LocalCode = {
  /** A body passed its size limit while it streamed. */
  BodyTooLarge: 'BodyTooLarge',
  /** The sending side's connection closed before its body ended. */
  SourceClosed: 'SourceClosed',
  /** A message part between gateways is missing or not what the format allows (head, manifest). */
  MessageFormat: 'MessageFormat',
  /** A header breaks the rules at the edges (format.ts `endToEndHeaders`, `checkPeerHeaders`). */
  HeaderRule: 'HeaderRule',
  /** A request path or query breaks protocol/paths.ts's rules. */
  PathRule: 'PathRule',
  /** A malformed X-Road identifier. */
  Identifier: 'Identifier',
  /** The spool directory has no room left for a body. */
  SpoolQuota: 'SpoolQuota',
  /** The provider's information system could not be reached, or did not answer in time. */
  ServiceUnreachable: 'ServiceUnreachable',
  /** A signature document that is not one this format makes. */
  SignatureDocument: 'SignatureDocument',
  /** A global configuration refused (protocol/globalconf.ts), by its `kind`. */
  GlobalConf: 'GlobalConf',
  /** A gateway.yaml or a console edit of it that cannot be used. */
  Config: 'Config',
  /** A key or certificate operation refused (reload, workflow, renewal, import). */
  Keys: 'Keys',
  /** A request to the central server refused before or after it was sent. */
  CentralRequest: 'CentralRequest',
  /** A service description (OpenAPI or REST) refused. */
  ServiceDescription: 'ServiceDescription',
  /** A message-log archive that cannot be read or trusted. */
  Archive: 'Archive',
} as const;
export type LocalCode = (typeof LocalCode)[keyof typeof LocalCode];

/** Every code a CamdxError may carry: the X-Road registry above and the local codes. */
export type CamdxCode = ErrorCode | LocalCode;

/**
 * The one base of the errors gateway and protocol code throws on purpose: a stable `code` from
 * the declared tables above, a message a person can act on, and, where one part of the input is
 * at fault, its `field` (a header, trailer, setting or identifier part).
 */
export class CamdxError<C extends CamdxCode = CamdxCode> extends Error {
  readonly field?: string;

  constructor(
    readonly code: C,
    message: string,
    options: { field?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    if (options.field !== undefined) this.field = options.field;
  }
}

/** Who is at fault: the caller, the consumer's security server, or the provider's. */
export type ErrorSide = 'Client' | 'Server.ClientProxy' | 'Server.ServerProxy';

export interface ErrorBody {
  readonly type: string;
  readonly message: string;
  readonly detail: string;
}

/** An X-Road error: a code from the registry and the side at fault, as the other party sees it. */
export class XRoadError extends CamdxError<ErrorCode> {
  constructor(
    readonly side: ErrorSide,
    code: ErrorCode,
    message: string,
    options: { field?: string } = {},
  ) {
    super(code, message, options);
  }

  get type(): string {
    return `${this.side}.${this.code}`;
  }

  /** X-Road answers every `Server.*` failure with 500 (even AccessDenied) and `Client.*` with 400. */
  get httpStatus(): number {
    return this.side === 'Client' ? 400 : 500;
  }

  toBody(detail: string): ErrorBody {
    return { type: this.type, message: this.message, detail };
  }
}

const SIDES: readonly ErrorSide[] = ['Client', 'Server.ClientProxy', 'Server.ServerProxy'];

/** Rebuilds an error received from another gateway; anything unrecognised becomes an internal error. */
export function parseErrorType(type: unknown, message: unknown): XRoadError | undefined {
  if (typeof type !== 'string') return undefined;
  const cut = type.lastIndexOf('.');
  const side = type.slice(0, cut) as ErrorSide;
  const code = type.slice(cut + 1) as ErrorCode;
  if (!SIDES.includes(side) || !(code in ErrorCode)) return undefined;
  return new XRoadError(side, code, typeof message === 'string' ? message.slice(0, 1000) : code);
}
