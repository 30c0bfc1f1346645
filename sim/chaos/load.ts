import { Agent, request } from 'node:http';
import { clientOf, KYC_SERVICE, CAMDIGIKEY_SERVICE, MEMBERS } from '../topology.js';
import type { GatewayKey } from './network.js';

/** One kind of exchange the load sends: a client's call through its gateway to a provider's. */
export interface Route {
  readonly name: string;
  readonly consumer: GatewayKey;
  readonly provider: GatewayKey;
  readonly client: string;
  readonly method: string;
  /** Consumer-port path: /r1/<service>/<path>. */
  readonly path: string;
  readonly body?: string;
}

const client = (key: GatewayKey) => clientOf(MEMBERS.find((m) => m.key === key)!);
const KYC_INFO = { method: 'POST', path: `/r1/${KYC_SERVICE}/api/2.0/kyc/info`, body: JSON.stringify({ idNumber: '010000019', lastNameEn: 'HENG' }) };

/** Every gateway is on some route: DEMOBANK and MOC as consumers, MOI and TSC as providers. */
export const ROUTES: readonly Route[] = [
  { name: 'DEMOBANK→MOI', consumer: 'demobank', provider: 'moi', client: client('demobank'), ...KYC_INFO },
  { name: 'MOC→MOI', consumer: 'moc', provider: 'moi', client: client('moc'), ...KYC_INFO },
  { name: 'MOC→TSC', consumer: 'moc', provider: 'tsc', client: client('moc'), method: 'GET', path: `/r1/${CAMDIGIKEY_SERVICE}/api/v3.0/authentication/certificates/access-token` },
];

/** What one client call got. `answered`: an exchange answer (it carries X-Road-Request-Id), whatever the provider's status. */
export interface Attempt {
  readonly id: string;
  readonly route: string;
  readonly consumer: GatewayKey;
  readonly provider: GatewayKey;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly status: number | null;
  /** The X-Road-Error type, for an error answer. */
  readonly type: string | null;
  readonly answered: boolean;
  readonly requestId: string | null;
  /** The socket error (ECONNREFUSED, ECONNRESET…), when there was no HTTP answer. */
  readonly error: string | null;
  /** No answer within HANG_MS. */
  readonly hang: boolean;
}

/** A call still unanswered after this long is a hang. */
export const HANG_MS = 10_000;

/** One call with its own X-Road-Id; never rejects. */
export function call(route: Route, consumerUrl: string, id: string, agent?: Agent): Promise<Attempt> {
  const startedAt = Date.now();
  const base = { id, route: route.name, consumer: route.consumer, provider: route.provider, startedAt };
  return new Promise((resolve) => {
    let done = false;
    const finish = (a: Omit<Attempt, keyof typeof base | 'endedAt'>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ ...base, endedAt: Date.now(), ...a });
    };
    const body = route.body ? Buffer.from(route.body) : undefined;
    const headers: Record<string, string> = { 'x-road-client': route.client, 'x-road-id': id, ...(body ? { 'content-type': 'application/json', 'content-length': String(body.length) } : {}) };
    const req = request(`${consumerUrl}${route.path}`, { method: route.method, headers, ...(agent ? { agent } : {}) }, (res) => {
      res.resume();
      res.on('end', () => {
        const type = typeof res.headers['x-road-error'] === 'string' ? res.headers['x-road-error'] : null;
        const requestId = typeof res.headers['x-road-request-id'] === 'string' ? res.headers['x-road-request-id'] : null;
        finish({ status: res.statusCode ?? null, type, answered: !type && requestId !== null, requestId, error: null, hang: false });
      });
      res.on('error', (err: NodeJS.ErrnoException) => finish({ status: res.statusCode ?? null, type: null, answered: false, requestId: null, error: err.code ?? 'aborted', hang: false }));
    });
    const timer = setTimeout(() => {
      finish({ status: null, type: null, answered: false, requestId: null, error: 'timeout', hang: true });
      req.destroy();
    }, HANG_MS);
    req.on('error', (err: NodeJS.ErrnoException) => finish({ status: null, type: null, answered: false, requestId: null, error: err.code ?? err.message, hang: false }));
    req.end(body);
  });
}

/**
 * Steady load: `connections` callers, each calling the routes in turn with fresh X-Road-Ids
 * (`<prefix>-<n>`) until stopped or `maxAttempts` is reached. A caller that got no answer waits a
 * moment, so a gateway that is down is probed, not flooded.
 */
export class LoadDriver {
  readonly attempts: Attempt[] = [];
  private running = false;
  private workers: Promise<void>[] = [];
  private next = 0;
  private readonly agents = new Map<string, Agent>();

  constructor(
    private readonly consumerUrl: (key: GatewayKey) => string,
    private readonly o: { connections: number; prefix: string; maxAttempts: number; routes?: readonly Route[] },
  ) {}

  start(): void {
    this.running = true;
    const routes = this.o.routes ?? ROUTES;
    this.workers = Array.from({ length: this.o.connections }, async (_, w) => {
      for (let i = w; this.running && this.attempts.length < this.o.maxAttempts; i++) {
        const route = routes[i % routes.length]!;
        const a = await call(route, this.consumerUrl(route.consumer), `${this.o.prefix}-${this.next++}`, this.agent(route.consumer));
        this.attempts.push(a);
        if (!a.answered) await new Promise((r) => setTimeout(r, 100));
      }
    });
  }

  private agent(key: GatewayKey): Agent {
    let agent = this.agents.get(key);
    if (!agent) this.agents.set(key, (agent = new Agent({ keepAlive: true, maxSockets: this.o.connections })));
    return agent;
  }

  /** When the first call on a route `affected` picks that started at or after `since` was answered, if one was. */
  firstAnsweredSince(since: number, affected: (a: Attempt) => boolean): number | undefined {
    let first: number | undefined;
    for (const a of this.attempts) if (a.answered && a.startedAt >= since && affected(a) && (first === undefined || a.endedAt < first)) first = a.endedAt;
    return first;
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
    for (const a of this.agents.values()) a.destroy();
  }
}
