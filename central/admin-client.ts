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

/** A console session: its cookie and the CSRF token every change carries. */
export interface CentralSession {
  readonly cookie: string;
  readonly csrfToken: string;
  readonly name: string;
  readonly role: string;
}

export class CentralAdminClient {
  constructor(
    readonly url: string,
    /** The admin bearer token, or a console session (`signIn`). */
    private readonly credential: string | CentralSession,
    private readonly actor?: string,
  ) {}

  /** Signs in as a named console user; the client then acts as that user. */
  static async signIn(url: string, name: string, password: string): Promise<CentralAdminClient> {
    let res: Response;
    try {
      res = await fetch(`${url.replace(/\/+$/, '')}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name, password }),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      throw new CentralApiError(0, 'unreachable', `the central server at ${url} is unreachable (${(err as Error).message})`);
    }
    const body = (await res.json().catch(() => ({}))) as { error?: string; message?: string; csrfToken?: string; role?: string };
    if (!res.ok) throw new CentralApiError(res.status, body.error ?? 'error', `signing in as ${name}: ${body.message ?? `HTTP ${res.status}`}`);
    const cookie = (res.headers.get('set-cookie') ?? '').split(';', 1)[0]!;
    return new CentralAdminClient(url, { cookie, csrfToken: body.csrfToken!, name, role: body.role ?? '' });
  }

  private authHeaders(method: string): Record<string, string> {
    if (typeof this.credential === 'string') return { authorization: `Bearer ${this.credential}`, ...(this.actor ? { 'x-camdx-actor': this.actor } : {}) };
    return { cookie: this.credential.cookie, ...(method === 'GET' ? {} : { 'x-csrf-token': this.credential.csrfToken }) };
  }

  async call<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.url.replace(/\/+$/, '')}/api${path}`, {
        method,
        headers: {
          ...this.authHeaders(method),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
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
