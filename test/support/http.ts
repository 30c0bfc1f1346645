import http from 'node:http';

export interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly rawHeaders: string[];
  readonly body: Buffer;
}

/**
 * A plain HTTP call that keeps headers exactly as sent and received (fetch would merge and
 * reorder them) and sends the path verbatim (URL parsing would resolve `..` before sending).
 */
export function call(url: string, options: { method?: string; headers?: Array<[string, string]>; body?: Buffer | string } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const { hostname, port, host } = new URL(url);
    const path = url.slice(url.indexOf('/', url.indexOf('//') + 2));
    // With headers as a raw list Node adds none of its own, so Host is ours to send.
    const headers = [['Host', host], ...(options.headers ?? [])].flat();
    // A connection of its own: Node's default agent drops idle sockets at 5 s, just as servers
    // close them, and a reused one can then die under the call ("socket hang up").
    const req = http.request({ host: hostname, port, path, method: options.method ?? 'GET', headers: headers as unknown as http.OutgoingHttpHeaders, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The X-Road error type and message of a failed call. */
export function errorOf(res: RawResponse): { type: string; message: string; header: string | undefined } {
  const body = JSON.parse(res.body.toString()) as { type: string; message: string };
  return { ...body, header: res.headers['x-road-error'] as string | undefined };
}

/** What an exchange came to: 'ok' for 200, else its X-Road error type. */
export const outcomeOf = (res: RawResponse) => (res.status === 200 ? 'ok' : errorOf(res).type);

/** Repeats `exchange` until its outcome is `want`, for at most `ms`; returns the last outcome seen. */
export async function untilOutcome(exchange: () => Promise<RawResponse>, want: string, ms: number): Promise<string> {
  const end = Date.now() + ms;
  let got = '';
  while (Date.now() < end) {
    got = outcomeOf(await exchange());
    if (got === want) return got;
    await new Promise((r) => setTimeout(r, 300));
  }
  return got;
}
