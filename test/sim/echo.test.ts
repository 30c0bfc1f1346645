import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCamdx, type ChildService } from '../../common/child.js';
import { call } from '../support/http.js';

/** `camdx echo`, the walk-through's stand-in API, as its own process on a port of its choosing. */
let echo: ChildService;
let url: string;
beforeAll(async () => {
  echo = await spawnCamdx(['echo', '--port', '0'], /echo service listening on (http:\S+)/);
  url = echo.ready[1]!;
});
afterAll(() => echo?.stop());

describe('camdx echo', () => {
  it('answers JSON with the method, the request target as received, the headers (lower-case names) and the body size', async () => {
    const res = await call(`${url}/orders/42?view=full&x=%2F`, { headers: [['X-Road-Client', 'CAMDX/GOV/MOC/BIZREG'], ['Accept', 'application/json']] });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    const got = JSON.parse(res.body.toString()) as { method: string; path: string; headers: Record<string, string>; bodyBytes: number };
    expect(got).toMatchObject({ method: 'GET', path: '/orders/42?view=full&x=%2F', bodyBytes: 0 });
    expect(got.headers).toMatchObject({ 'x-road-client': 'CAMDX/GOV/MOC/BIZREG', accept: 'application/json', host: new URL(url).host });
    expect(Object.keys(got.headers).every((name) => name === name.toLowerCase())).toBe(true);
    expect(Object.keys(got).sort()).toEqual(['bodyBytes', 'headers', 'method', 'path']);
  });

  it('counts a body without echoing it', async () => {
    const body = 'x'.repeat(100_000);
    const res = await call(`${url}/upload`, { method: 'POST', headers: [['Content-Type', 'text/plain'], ['Content-Length', String(body.length)]], body });
    const got = JSON.parse(res.body.toString()) as { method: string; path: string; headers: Record<string, string>; bodyBytes: number };
    expect(got).toMatchObject({ method: 'POST', path: '/upload', bodyBytes: 100_000, headers: { 'content-type': 'text/plain', 'content-length': '100000' } });
    expect(res.body.length).toBeLessThan(1000);
  });

  it('with --mirror answers with the body it got, as the bench measures', async () => {
    const mirror = await spawnCamdx(['echo', '--port', '0', '--mirror'], /echo service listening on (http:\S+)/);
    try {
      const res = await call(`${mirror.ready[1]!}/x`, { method: 'POST', headers: [['Content-Type', 'text/plain'], ['Content-Length', '5']], body: 'hello' });
      expect(res.body.toString()).toBe('hello');
      expect(res.headers['x-echo-bytes']).toBe('5');
    } finally {
      await mirror.stop();
    }
  });
});
