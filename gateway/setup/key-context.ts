import type { GlobalConf } from '../../protocol/globalconf.js';
import type { GatewayConfig } from '../config.js';
import type { ConfView } from '../globalconf/view.js';
import type { KeyRole } from '../keyring.js';
import type { KeyAndChain } from '../keys.js';
import type { OwnOcsp } from '../ocsp/own.js';

/**
 * What the key and certificate steps (key-workflow.ts, certificate-import.ts, the console's keys
 * API) need of a gateway. A running gateway (GatewayContext) has both keys; a bare one in set-up
 * (gateway/bare/) has none until its first import, so `keys` may lack a role.
 */
export interface KeyWorkflowContext {
  readonly config: GatewayConfig;
  readonly clock: () => number;
  readonly globalConf: { readonly current: GlobalConf | undefined };
  readonly ownOcsp: Pick<OwnOcsp, 'fetch' | 'freshDer' | 'ages'>;
  readonly keys: Partial<Record<KeyRole, KeyAndChain>>;
  /** The configuration view, or a throw when there is none in date. */
  view(side: 'Server.ClientProxy'): ConfView;
}

/** The roles whose key and certificate are in use. */
export const rolesInUse = (ctx: KeyWorkflowContext): KeyRole[] => (['auth', 'signing'] as const).filter((role) => ctx.keys[role] !== undefined);
