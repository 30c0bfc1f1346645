import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayConfig } from '../config.js';
import type { GatewayContext } from '../context.js';
import type { ExchangeRecorder } from '../exchange-recorder.js';
import type { ConfView } from '../globalconf/view.js';
import type { Routing } from '../message/codec.js';
import type { RequestHead } from '../message/format.js';
import type { VerifiedMessage } from '../message/verifier.js';
import type { DepartureWatch } from '../transport/departure.js';
import type { Spool } from '../transport/spool.js';

/** One message a provider gateway is handling: what every step reads. */
export interface ProviderExchange {
  readonly ctx: GatewayContext;
  /** Read once: a console edit during this exchange applies to the next one. */
  readonly config: GatewayConfig;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly recorder: ExchangeRecorder;
  /** The unsigned routing hints, until the signature vouches for them. */
  readonly hint: Routing;
  /** Holds the request body until everything about it has verified. */
  readonly spool: Spool;
  /** The calling gateway leaving: the call to the service and its answer end too. */
  readonly departure: DepartureWatch;
  /** The service's answer, once it arrives: destroyed if the exchange fails, so its connection is not reused half-read. */
  serviceAnswer?: IncomingMessage;
}

/** The calling security server, authenticated, and the configuration it was checked against. */
export interface CallingPeer {
  readonly view: ConfView;
  readonly server: string;
}

/** A request whose signature, certificate and identity have verified. */
export interface VerifiedRequest {
  readonly head: RequestHead;
  readonly verified: VerifiedMessage;
  readonly bytes: number;
}

export const PROVIDER_SIDE = 'Server.ServerProxy' as const;
