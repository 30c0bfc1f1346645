/**
 * Fetches a service's OpenAPI document from a URL the administrator gave: once, http(s) only,
 * bounded in size and time, and never following a redirect (a redirect could lead the gateway
 * somewhere the administrator did not name, a `file:` URL or an internal address).
 */
import type { IncomingMessage } from 'node:http';
import { describeNetworkError, getText } from '../../common/http.js';
import { OpenApiImportError } from './import-error.js';

export interface FetchDocumentOptions {
  /** The whole exchange, connecting included. */
  readonly timeoutMs?: number;
  readonly maxBytes?: number;
}

export const FETCH_TIMEOUT_MS = 10_000;
export const FETCH_MAX_BYTES = 10 * 1024 * 1024;

const refuse = (message: string) => new OpenApiImportError('url', message);

/** The body of a 2xx answer to one GET, as UTF-8 text. Throws OpenApiImportError (field 'url'). */
export async function fetchDocument(url: string, opts: FetchDocumentOptions = {}): Promise<string> {
  const timeoutMs = opts.timeoutMs ?? FETCH_TIMEOUT_MS;
  const maxBytes = opts.maxBytes ?? FETCH_MAX_BYTES;
  const target = parseUrl(url);
  let body: Buffer;
  try {
    // No Accept-Encoding: the answer's bytes are the document's, so the size limit counts what is stored.
    ({ body } = await getText(target.href, {
      timeoutMs,
      maxBodyBytes: maxBytes,
      headers: { accept: 'application/yaml, application/json;q=0.9, */*;q=0.5' },
      checkHead: (res) => refusalOf(res, maxBytes),
    }));
  } catch (err) {
    if (err instanceof OpenApiImportError) throw err;
    const e = err as Error;
    if (e.name === 'TimeoutError') throw refuse(`no complete answer within ${timeoutMs} ms`);
    if (e.name === 'TooLargeError') throw refuse(`the document is larger than ${maxBytes} bytes, the most that is fetched`);
    throw refuse(`could not fetch the document: ${describeNetworkError(err)}`);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw refuse('the document is not UTF-8 text');
  }
}

function parseUrl(url: string): URL {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw refuse('not a URL');
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw refuse(`only http and https URLs are fetched, not ${target.protocol.replace(/:$/, '')}`);
  }
  return target;
}

/** What makes an answer unusable before its body is read. */
function refusalOf(res: IncomingMessage, maxBytes: number): OpenApiImportError | undefined {
  const status = res.statusCode ?? 0;
  if (status >= 300 && status < 400) {
    const location = res.headers.location;
    return refuse(`the server answered HTTP ${status}${location ? ` redirecting to ${location}` : ''}; redirects are not followed, give the final URL`);
  }
  if (status < 200 || status >= 300) return refuse(`the server answered HTTP ${status}`);
  const encoding = res.headers['content-encoding'];
  if (encoding && encoding !== 'identity') return refuse(`the answer is ${encoding}-encoded; send the document uncompressed`);
  const length = Number(res.headers['content-length']);
  if (Number.isFinite(length) && length > maxBytes) return refuse(`the document is ${length} bytes; at most ${maxBytes} bytes are fetched`);
  return undefined;
}
