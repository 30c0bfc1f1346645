import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { H } from '../../gateway/message/format.js';
import { call } from '../support/http.js';
import { CLIENT, SERVICE } from '../support/network.js';
import { startOutcomeNetwork, warmUp, type OutcomeNetwork } from '../support/exchange-outcomes.js';

/**
 * Every header and trailer the codec writes in a real exchange (two in-process gateways) is
 * named in the wire description of gateway/message/format.ts, and every name there is written.
 */

/** The names in format.ts's wire comment: its `headers` and `trailers` columns. */
function describedNames(): { headers: Set<string>; trailers: Set<string> } {
  const source = readFileSync(join(import.meta.dirname, '../../gateway/message/format.ts'), 'utf8');
  const comment = source.slice(source.indexOf('The message format between security servers'), source.indexOf('*/'));
  const named = { headers: new Set<string>(), trailers: new Set<string>() };
  let column: 'headers' | 'trailers' | undefined;
  for (const line of comment.split('\n')) {
    const match = /^ \*\s+(headers|body|trailers)?\s+([A-Z][A-Za-z-]+)\s{2,}/.exec(line) ?? /^ \*\s+(headers|body|trailers)\s/.exec(line);
    if (!match) continue;
    if (match[1]) column = match[1] === 'body' ? undefined : (match[1] as 'headers' | 'trailers');
    if (column && match[2] && /^(Content-Type|Trailer|X-CamDX-[A-Za-z-]+)$/.test(match[2])) named[column].add(match[2].toLowerCase());
  }
  return named;
}

let n: OutcomeNetwork;
const written = { headers: new Set<string>(), trailers: new Set<string>(), messages: 0 };

beforeAll(async () => {
  n = await startOutcomeNetwork();
  await warmUp(n);
  // The consumer opens its message request with https.request; the provider answers with writeHead; both end with addTrailers.
  const request = https.request.bind(https);
  vi.spyOn(https, 'request').mockImplementation(((options: https.RequestOptions, ...rest: unknown[]) => {
    const headers = options.headers as Record<string, string> | undefined;
    if (headers?.[H.head]) {
      written.messages += 1;
      for (const name of Object.keys(headers)) written.headers.add(name.toLowerCase());
    }
    return (request as (...args: unknown[]) => http.ClientRequest)(options, ...rest);
  }) as typeof https.request);
  const writeHead = http.ServerResponse.prototype.writeHead;
  vi.spyOn(http.ServerResponse.prototype, 'writeHead').mockImplementation(function (this: http.ServerResponse, status: number, ...rest: unknown[]) {
    const headers = rest.find((r) => typeof r === 'object' && r !== null) as Record<string, string> | undefined;
    if (headers && !Array.isArray(headers) && headers[H.head]) {
      written.messages += 1;
      for (const name of Object.keys(headers)) written.headers.add(name.toLowerCase());
    }
    return (writeHead as (...args: unknown[]) => http.ServerResponse).call(this, status, ...rest);
  });
  const addTrailers = http.OutgoingMessage.prototype.addTrailers;
  vi.spyOn(http.OutgoingMessage.prototype, 'addTrailers').mockImplementation(function (this: http.OutgoingMessage, trailers) {
    for (const name of Object.keys(trailers as Record<string, string>)) written.trailers.add(name.toLowerCase());
    return addTrailers.call(this, trailers);
  });
  const res = await call(`${n.consumerUrl}/r1/${SERVICE}/echo/names?q=1`, { method: 'POST', headers: [['X-Road-Client', CLIENT], ['Content-Type', 'text/plain']], body: 'names' });
  expect(res.status).toBe(200);
}, 60_000);

afterAll(async () => {
  vi.restoreAllMocks();
  await n?.close();
});

describe('the wire description in format.ts', () => {
  it('saw a request and a response go out', () => {
    expect(written.messages).toBe(2);
  });

  it('names every header the codec wrote, the salt and the routing hints included', () => {
    const { headers } = describedNames();
    expect([...written.headers].filter((name) => !headers.has(name))).toEqual([]);
    expect(written.headers).toContain(H.salt);
    for (const hint of [H.client, H.service, H.id]) expect(written.headers).toContain(hint);
  });

  it('names every trailer the codec wrote', () => {
    const { trailers } = describedNames();
    expect([...written.trailers].filter((name) => !trailers.has(name))).toEqual([]);
  });

  it('names nothing the codec does not write', () => {
    const { headers, trailers } = describedNames();
    expect([...headers].filter((name) => !written.headers.has(name))).toEqual([]);
    expect([...trailers].filter((name) => !written.trailers.has(name))).toEqual([]);
  });
});
