import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { AclCase } from './matrix.js';

/**
 * Sends each case of a matrix through the real consumer gateways and judges the answer:
 *
 * - **deny**: the gateway answered with X-Road error `Server.ServerProxy.AccessDenied`;
 * - **allow**: the call passed access control — any answer that is not an X-Road error, so a
 *   provider's own 4xx for our small `{}` body still counts (it was let through);
 * - **error**: any other X-Road error (unknown service, network error, …) or no answer at all.
 *   It is neither allow nor deny, so it never passes: a matrix that names a wrong service or
 *   a gateway that is down shows up instead of looking like a deny.
 */

export const ACCESS_DENIED = 'Server.ServerProxy.AccessDenied';

export type Verdict = 'allow' | 'deny' | 'error';

export interface CaseResult {
  readonly case: AclCase;
  readonly got: Verdict;
  readonly passed: boolean;
  /** HTTP status of the answer; absent when none came. */
  readonly status?: number;
  /** The X-Road error type, when the gateway answered with one. */
  readonly errorType?: string;
  /** The X-Road error's message, or why no answer came. */
  readonly message?: string;
  readonly durationMs: number;
}

export interface RunOptions {
  /** Cases in flight at once (default 8): enough to be quick, few enough not to look like load. */
  readonly concurrency?: number;
  /** Called as each case finishes (in completion order), e.g. for progress. */
  readonly onResult?: (result: CaseResult) => void;
}

/** Runs every case; results come back in matrix order whatever order they finish in. */
export async function runCases(cases: readonly AclCase[], options: RunOptions = {}): Promise<CaseResult[]> {
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 8));
  // Own agents, so keep-alive sockets are reused between cases and closed when we are done
  // (the global agent's idle sockets would keep a CLI process alive for seconds).
  const agents = { http: new HttpAgent({ keepAlive: true, maxSockets: concurrency }), https: new HttpsAgent({ keepAlive: true, maxSockets: concurrency }) };
  const results = new Array<CaseResult>(cases.length);
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const i = next++;
      const c = cases[i]!;
      const started = performance.now();
      const answer = await send(c, agents);
      const result = judge(c, answer, Math.round(performance.now() - started));
      results[i] = result;
      options.onResult?.(result);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, cases.length) }, worker));
  } finally {
    agents.http.destroy();
    agents.https.destroy();
  }
  return results;
}

/** What came back: an answer (maybe an X-Road error), or the reason none did. */
export type Answer = { readonly status: number; readonly errorType?: string; readonly message?: string } | { readonly failure: string };

export function judge(c: AclCase, answer: Answer, durationMs: number): CaseResult {
  if ('failure' in answer) return { case: c, got: 'error', passed: false, message: answer.failure, durationMs };
  const got: Verdict = answer.errorType === undefined ? 'allow' : answer.errorType === ACCESS_DENIED ? 'deny' : 'error';
  return {
    case: c,
    got,
    passed: got === c.expect,
    status: answer.status,
    ...(answer.errorType !== undefined ? { errorType: answer.errorType } : {}),
    ...(answer.message !== undefined ? { message: answer.message } : {}),
    durationMs,
  };
}

/** X-Road error bodies are small; a provider's answer is drained up to this much, then cut off. */
const ERROR_BODY_LIMIT = 64 * 1024;
const DRAIN_LIMIT = 1024 * 1024;

/** One request, `<METHOD> <gateway>/r1/<service><path>` with `X-Road-Client`; never rejects. */
export function send(c: AclCase, agents: { http: HttpAgent; https: HttpsAgent }): Promise<Answer> {
  return new Promise((resolve) => {
    const base = new URL(c.gateway);
    const body = c.body === undefined ? undefined : Buffer.from(JSON.stringify(c.body));
    const headers: Record<string, string> = { ...c.headers, 'X-Road-Client': c.client };
    if (body) {
      if (!Object.keys(c.headers).some((h) => h.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(body.length);
    }
    const https = base.protocol === 'https:';
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const done = (answer: Answer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(answer);
    };
    // The path goes out exactly as the matrix wrote it: a URL parser would resolve `..` or
    // re-encode characters, and the gateway must judge the path the matrix names.
    let req: ClientRequest;
    try {
      req = (https ? httpsRequest : httpRequest)({
        protocol: base.protocol,
        hostname: base.hostname,
        port: base.port,
        path: `${base.pathname.replace(/\/+$/, '')}/r1/${c.service}${c.path}`,
        method: c.method,
        headers,
        agent: https ? agents.https : agents.http,
      });
    } catch (err) {
      // Node refuses some paths and header values before sending: that case fails, not the run.
      return done({ failure: `the request cannot be sent: ${(err as Error).message}` });
    }
    timer = setTimeout(() => {
      done({ failure: `no answer from ${c.gateway} within ${c.timeoutMs} ms` });
      req.destroy();
    }, c.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => done({ failure: `cannot reach the consumer gateway ${c.gateway}: ${err.code ?? err.message}` }));
    req.on('response', (res) => onResponse(res, done));
    req.end(body);
  });
}

function onResponse(res: IncomingMessage, done: (answer: Answer) => void): void {
  const status = res.statusCode ?? 0;
  const header = res.headers['x-road-error'];
  const errorType = Array.isArray(header) ? header[0] : header;
  const chunks: Buffer[] = [];
  let bytes = 0;
  res.on('data', (d: Buffer) => {
    bytes += d.length;
    if (errorType !== undefined && bytes <= ERROR_BODY_LIMIT) chunks.push(d);
    // The verdict needs only the headers; a huge provider answer is not worth waiting for.
    if (errorType === undefined && bytes > DRAIN_LIMIT) {
      res.destroy();
      done({ status });
    }
  });
  res.on('error', () => done(errorType === undefined ? { status } : { status, errorType }));
  res.on('end', () => {
    if (errorType === undefined) return done({ status });
    done({ status, errorType, message: errorMessage(Buffer.concat(chunks)) ?? `HTTP ${status} with X-Road-Error ${errorType}` });
  });
}

/** The `message` of an X-Road error body `{type, message, detail}`, if it is one. */
function errorMessage(body: Buffer): string | undefined {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { message?: unknown };
    return typeof parsed.message === 'string' ? parsed.message : undefined;
  } catch {
    return undefined;
  }
}
