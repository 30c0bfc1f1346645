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

/** Who is at fault: the caller, the consumer's security server, or the provider's. */
export type ErrorSide = 'Client' | 'Server.ClientProxy' | 'Server.ServerProxy';

export interface ErrorBody {
  readonly type: string;
  readonly message: string;
  readonly detail: string;
}

export class XRoadError extends Error {
  constructor(
    readonly side: ErrorSide,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'XRoadError';
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
