/** A thin client of the central admin API, for the CLI, the simulation's provisioning and tests. */
export class CentralApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'CentralApiError';
  }
}

export class CentralAdminClient {
  constructor(
    readonly url: string,
    private readonly token: string,
    private readonly actor?: string,
  ) {}

  async call<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.url.replace(/\/+$/, '')}/api${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(this.actor ? { 'x-camdx-actor': this.actor } : {}),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      throw new CentralApiError(0, 'unreachable', `the central server at ${this.url} is unreachable (${(err as Error).message})`);
    }
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new CentralApiError(res.status, 'invalid-response', `central answered HTTP ${res.status} with a non-JSON body`);
    }
    if (!res.ok) {
      const e = json as { error?: string; message?: string; field?: string };
      throw new CentralApiError(res.status, e.error ?? 'error', e.message ?? `HTTP ${res.status}`, e.field);
    }
    return json as T;
  }
}

/** Encodes an X-Road identifier as URL path segments, each part escaped. */
export function idPath(id: string): string {
  return id
    .split('/')
    .map((p) => encodeURIComponent(p))
    .join('/');
}
