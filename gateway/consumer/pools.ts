import type { GatewayContext } from '../context.js';
import type { ConfView } from '../globalconf/view.js';
import { PinnedAgent } from '../transport/tls.js';

/** Connections kept per provider security server (the benchmark's reference uses the same). */
export const POOL_SIZE = 64;

/**
 * One keep-alive pool per provider security server. A pool is rebuilt when what it was
 * built on changes — the server's registered certificates or address, the approved CAs — or
 * when an OCSP status of our own certificates changes.
 */
export class ProviderPools {
  private readonly agents = new Map<string, { agent: PinnedAgent; key: string }>();

  constructor(
    private readonly ctx: GatewayContext,
    private readonly maxSockets = POOL_SIZE,
  ) {}

  agentFor(serverId: string, view: ConfView): PinnedAgent {
    const server = view.server(serverId);
    const key = JSON.stringify([server?.address, server?.authCertHashes, view.anchors.map((a) => a.certificate.fingerprint256)]);
    const known = this.agents.get(serverId);
    if (known && known.key === key) return known.agent;
    known?.agent.destroy();
    const agent = new PinnedAgent(serverId, this.ctx.keys.auth, view, this.ctx.clock, { maxSockets: this.maxSockets, idleTimeoutMs: this.ctx.config.limits.idleTimeoutMs });
    this.agents.set(serverId, { agent, key });
    return agent;
  }

  /** Drops every pooled connection (our own certificate status changed). */
  reset(): void {
    for (const { agent } of this.agents.values()) agent.destroy();
    this.agents.clear();
  }
}
