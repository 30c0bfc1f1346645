import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayConfig } from '../config.js';
import type { GatewayContext } from '../context.js';
import type { ExchangeRecorder } from '../exchange-recorder.js';
import { XRoadError } from '../../protocol/errors.js';
import type { DepartureWatch } from '../transport/departure.js';
import type { Spool } from '../transport/spool.js';
import type { ProviderPools } from './pools.js';

/** One call a consumer gateway is handling: what every step reads. */
export interface ConsumerExchange {
  readonly ctx: GatewayContext;
  /** Read once: a console edit during this exchange applies to the next one. */
  readonly config: GatewayConfig;
  readonly pools: ProviderPools;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly recorder: ExchangeRecorder;
  /** The client leaving: the request to the provider's gateway and its answer end too. */
  readonly departure: DepartureWatch;
  /** The answer held until it has verified; disposed when the exchange ends. */
  responseSpool?: Spool;
}

export const CONSUMER_SIDE = 'Server.ClientProxy' as const;

/** The client closed its connection (or half-closed it mid-body) before its answer. */
export const clientLeft = () => new XRoadError('Client', 'InvalidRequest', 'the client closed its connection before the exchange ended');
