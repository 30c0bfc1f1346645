import type { ClientRequest } from 'node:http';
import type { GatewayContext } from '../context.js';
import type { ConfView } from '../globalconf/view.js';
import { PinnedAgent } from '../transport/tls.js';

export { POOL_SIZE } from '../config.js';

/** Node's Agent methods that its typings leave out: how a request joins the queue, and how it is told no socket comes. */
interface AgentInternals {
  addRequest(req: ClientRequest, options: unknown): void;
}
interface RequestInternals {
  onSocket(socket: null, err: Error): void;
}

/**
 * A pinned pool whose requests wait at most `acquireTimeoutMs` for a connection. Node's Agent
 * queues a request for as long as every socket is busy; with uploads that never finish, that
 * is for ever, and every later call to the provider hangs behind them.
 */
class BoundedPool extends PinnedAgent {
  constructor(
    private readonly pool: { serverId: string; size: number; acquireTimeoutMs: number },
    ...args: ConstructorParameters<typeof PinnedAgent>
  ) {
    super(...args);
  }

  addRequest(req: ClientRequest, options: unknown): void {
    const timer = setTimeout(() => this.giveUp(req), this.pool.acquireTimeoutMs);
    const done = () => clearTimeout(timer);
    req.once('socket', done).once('close', done);
    (PinnedAgent.prototype as unknown as AgentInternals).addRequest.call(this, req, options);
  }

  /** Takes a request that is still waiting out of the queue and fails it the way the Agent fails one it cannot connect. */
  private giveUp(req: ClientRequest): void {
    for (const [name, queue] of Object.entries(this.requests)) {
      const at = queue?.indexOf(req) ?? -1;
      if (at < 0) continue;
      queue!.splice(at, 1);
      if (queue!.length === 0) delete (this.requests as Record<string, unknown>)[name];
      const { serverId, size, acquireTimeoutMs } = this.pool;
      const err = Object.assign(new Error(`all ${size} pooled connections to security server ${serverId} stayed busy for ${acquireTimeoutMs} ms (limits.poolAcquireTimeoutMs)`), {
        code: 'CAMDX_POOL_TIMEOUT',
      });
      (req as unknown as RequestInternals).onSocket(null, err);
      return;
    }
  }
}

/**
 * One keep-alive pool per provider security server. A pool is rebuilt when what it was
 * built on changes — the server's registered certificates or address, the approved CAs — or
 * when an OCSP status of our own certificates changes.
 */
export class ProviderPools {
  private readonly agents = new Map<string, { agent: PinnedAgent; key: string }>();

  constructor(private readonly ctx: GatewayContext) {}

  agentFor(serverId: string, view: ConfView): PinnedAgent {
    const server = view.server(serverId);
    const key = JSON.stringify([server?.address, server?.authCertHashes, view.anchors.map((a) => a.certificate.fingerprint256)]);
    const known = this.agents.get(serverId);
    if (known && known.key === key) return known.agent;
    known?.agent.destroy();
    const { limits } = this.ctx.config;
    const agent = new BoundedPool({ serverId, size: limits.poolConnections, acquireTimeoutMs: limits.poolAcquireTimeoutMs }, serverId, this.ctx.keys.auth, view, this.ctx.clock, {
      maxSockets: limits.poolConnections,
      idleTimeoutMs: limits.idleTimeoutMs,
    });
    this.agents.set(serverId, { agent, key });
    return agent;
  }

  /** Drops every pooled connection (our own certificate status changed). */
  reset(): void {
    for (const { agent } of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  /**
   * After a key renewal: later calls get new pools (with the new authentication key), idle
   * connections close now, and busy ones close once their exchange ends — never mid-exchange.
   */
  retire(): void {
    for (const { agent } of this.agents.values()) {
      // Node's Agent reads keepAlive when a socket comes free: false closes it instead of pooling it.
      (agent as unknown as { keepAlive: boolean }).keepAlive = false;
      for (const sockets of Object.values(agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
    }
    this.agents.clear();
  }
}
