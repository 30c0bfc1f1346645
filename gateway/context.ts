import type { SentRequests } from './access/pending.js';
import type { AccessOverlay } from './access/overlay.js';
import type { Logger } from '../common/log.js';
import { XRoadError } from '../protocol/errors.js';
import type { GatewayConfig } from './config.js';
import type { GlobalConfClient } from './globalconf/client.js';
import type { ConfView } from './globalconf/view.js';
import type { GatewayKeys } from './keys.js';
import type { MessageSigner } from './message/signer.js';
import type { MessageVerifier, ReplayGuard } from './message/verifier.js';
import type { MessageLog } from './messagelog/log.js';
import type { Timestamper } from './messagelog/timestamper.js';
import type { OwnOcsp } from './ocsp/own.js';
import type { GatewayMetrics } from './opmon/metrics.js';
import type { SpoolDirectory } from './transport/spool.js';

/** Everything the consumer and provider sides share, built once at start-up. */
export interface GatewayContext {
  /**
   * The configuration in use. A console edit replaces it whole (`replaceConfig`), so an
   * exchange reads it once and keeps what it read: it finishes on the settings it started with.
   */
  readonly config: GatewayConfig;
  /** Swaps in a configuration validated whole (gateway/config-store.ts); only `clients` and `services` may differ. */
  replaceConfig(next: GatewayConfig): void;
  readonly keys: GatewayKeys;
  readonly log: Logger;
  readonly clock: () => number;
  readonly globalConf: GlobalConfClient;
  readonly ownOcsp: OwnOcsp;
  readonly signer: MessageSigner;
  readonly verifier: MessageVerifier;
  readonly replay: ReplayGuard;
  readonly messageLog: MessageLog;
  readonly timestamper: Timestamper;
  readonly metrics: GatewayMetrics;
  readonly spools: SpoolDirectory;
  /** Rights the owner withdrew, denied here at once, until the configuration drops them. */
  readonly accessOverlay: AccessOverlay;
  /** Additions the owner sent that the configuration does not carry yet ("in progress" in the console). */
  readonly sentRequests: SentRequests;
  /** The configuration view, or OutdatedGlobalConf (of `side`) when there is none in date. */
  view(side: 'Server.ClientProxy' | 'Server.ServerProxy'): ConfView;
}

export function outdated(side: 'Server.ClientProxy' | 'Server.ServerProxy'): XRoadError {
  return new XRoadError(side, 'OutdatedGlobalConf', 'the global configuration has expired; this security server carries no traffic until a fresh copy is downloaded');
}
