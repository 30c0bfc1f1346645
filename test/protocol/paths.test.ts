import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { close } from '../../common/http.js';
import { checkPathPattern, checkQuery, matchPath, normaliseRequestPath, PathError } from '../../protocol/paths.js';
import { seededRandom } from '../../members/population/random.js';

describe('path patterns', () => {
  it.each([
    ['/api/2.0/kyc/info', '/api/2.0/kyc/info', true],
    ['/api/2.0/kyc/info', '/api/2.0/kyc/info/', true],
    ['/api/2.0/kyc/info', '/api/2.0/kyc/infos', false],
    ['/api/*/kyc/info', '/api/2.0/kyc/info', true],
    ['/api/*/info', '/api/2.0/kyc/info', false],
    ['/api/**', '/api', true],
    ['/api/**', '/api/2.0/kyc/info', true],
    ['/**', '/', true],
    ['/**/info', '/api/2.0/kyc/info', true],
    ['/**/info', '/api/2.0/kyc/other', false],
    ['/pets/{id}', '/pets/42', true],
    ['/pets/{id}', '/pets/42/owner', false],
    ['/', '/', true],
    ['/', '/x', false],
  ])('%s matches %s: %s', (pattern, path, expected) => {
    expect(matchPath(checkPathPattern(pattern), normaliseRequestPath(path))).toBe(expected);
  });

  it.each(['api', '/a//b', '/a/../b', '/a/./b', '/a*/b', '/a/%2F', '/a b'])('refuses the pattern %j', (pattern) => {
    expect(() => checkPathPattern(pattern)).toThrow(PathError);
  });
});

describe('request path normalisation', () => {
  it.each([
    ['/a/../admin', 'dot-segment'],
    ['/a/./b', 'dot-segment'],
    ['/a//b', 'empty-segment'],
    ['/a/%2e%2e/b', 'encoded'],
    ['/a%2Fb', 'encoded'],
    ['/a%5cb', 'encoded'],
    ['/a\\b', 'backslash'],
    ['/a/%zz', 'encoding'],
    ['/a/%00', 'encoded'],
    ['/a/%0a', 'control'],
    ['a/b', 'absolute'],
    // The four, and their kin.
    ['/a/..;/b', 'dot-segment'],
    ['/a/.;x/b', 'dot-segment'],
    ['/a/..;x=1', 'dot-segment'],
    ['/a/%252e%252e/b', 'double-encoded'],
    ['/a/%252F', 'double-encoded'],
    ['/%41', 'escaped-unreserved'],
    ['/a%7E', 'escaped-unreserved'],
    ['/a#b', 'fragment'],
    ['/a/;x/b', 'empty-segment'],
    ['/a//', 'empty-segment'],
    ['/%c3%a9', 'escape-case'],
    ['/a b', 'characters'],
    ['/é', 'characters'],
    ['/a?b', 'characters'],
    ['/%C3', 'encoding'],
    ['/%FF', 'encoding'],
  ])('refuses %j (%s)', (path, rule) => {
    try {
      normaliseRequestPath(path);
      expect.unreachable();
    } catch (err) {
      expect((err as PathError).rule).toBe(rule);
    }
  });

  it('returns an accepted path unchanged: ordinary escapes, parameters, one trailing slash, the empty path', () => {
    for (const path of ['/people/Sok%20Dara/', '/a;v=1/b', '/%C3%A9', '/', '/*', '/100%25', '/a%25zz', "/!$&'()*+,;=:@~"]) expect(normaliseRequestPath(path)).toBe(path);
    expect(normaliseRequestPath('')).toBe('');
  });

  it('checks the query: printable ASCII, no fragment', () => {
    expect(checkQuery('q=a%20b&r=1&filter[x]=1')).toBe('q=a%20b&r=1&filter[x]=1');
    expect(() => checkQuery('a=1#frag')).toThrow(/'#'/);
    expect(() => checkQuery('a=1 2')).toThrow(PathError);
  });
});


/** Plain pieces, so that many paths are valid, and pieces that tend to make two readers of a path disagree. */
const PLAIN = ['a', 'b', 'admin', 'x1', 'api', '%20', '%C3%A9', '%3B', '%25', '*', '~', '@', ':', '=', '+', '!', ';v=1', '-', '_'];
const TRICKY = ['.', '..', '..;', '.;x', ';', ';x', '%2e', '%2E', '%252e', '%252E%252E', '%2525', '%41', '%61', '%7E', '%2F', '%2f', '%5C', '%00', '%0A', '%c3%a9', '%C3', '%FF', '%', '%G1', '#', '\\', '/', '//', 'é', ' ', '?', '[', '"'];

function randomPath(next: () => number): string {
  const from = (list: string[]) => list[Math.floor(next() * list.length)]!;
  const pick = () => (next() < 0.2 ? from(TRICKY) : from(PLAIN));
  const segments = Array.from({ length: 1 + Math.floor(next() * 5) }, () => Array.from({ length: 1 + Math.floor(next() * 3) }, pick).join(''));
  return `/${segments.join('/')}${next() < 0.2 ? '/' : ''}`;
}

const stripParameters = (segment: string) => (segment.includes(';') ? segment.slice(0, segment.indexOf(';')) : segment);

/** What the gateway took a path to name: its segments, each decoded (optionally without `;` parameters). */
const gatewayReading = (path: string, withoutParameters: boolean) =>
  path
    .slice(1)
    .split('/')
    .map((s) => decodeURIComponent(withoutParameters ? stripParameters(s) : s));

/**
 * A Tomcat-style reading: strip `;…` from each segment, percent-decode, then resolve the path
 * (collapse `//`, drop `.`, let `..` remove its parent). Undefined where Tomcat would answer 400.
 */
function tomcatReading(path: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path.split('/').map(stripParameters).join('/'));
  } catch {
    return undefined;
  }
  const parts = decoded.replace(/\\/g, '/').split('/').slice(1);
  const out: string[] = [];
  parts.forEach((s, i) => {
    const last = i === parts.length - 1;
    if (s === '..') out.pop();
    else if (s !== '' && s !== '.') out.push(s);
    if (last && (s === '' || s === '.' || s === '..')) out.push('');
  });
  return `/${out.join('/')}`;
}

describe('10,000 seeded random paths: refused, or read alike by express 5 and a Tomcat-style decoder', () => {
  let server: http.Server;
  let port: number;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  beforeAll(async () => {
    const app = express();
    app.all('/*rest', (req, res) => {
      res.json({ path: req.path, segments: req.params.rest });
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    agent.destroy();
    await close(server);
  });

  /** Routes the path through a real express 5 app: what its handler sees as path and decoded segments. */
  const viaExpress = (path: string) =>
    new Promise<{ path: string; segments: string[] }>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body) as { path: string; segments: string[] }) : reject(new Error(`express answered ${res.statusCode} for ${path}`))));
      });
      req.on('error', reject);
    });

  it('holds for every path', async () => {
    const next = seededRandom(0x15c4d);
    const accepted: string[] = [];
    let refused = 0;
    const disagreements: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const path = randomPath(next);
      let matched: string;
      try {
        matched = normaliseRequestPath(path);
      } catch (err) {
        expect(err).toBeInstanceOf(PathError);
        refused++;
        continue;
      }
      // The bytes the check matched are the bytes forwarded.
      if (matched !== path) disagreements.push(`${path}: the check returned ${matched}`);
      const tomcat = tomcatReading(path);
      const ours = `/${gatewayReading(matched, true).join('/')}`;
      if (tomcat !== ours) disagreements.push(`${path}: Tomcat reads ${tomcat}, the gateway matched ${ours}`);
      accepted.push(path);
    }
    for (let i = 0; i < accepted.length; i += 8) {
      const batch = accepted.slice(i, i + 8);
      const seen = await Promise.all(batch.map((path) => viaExpress(path).catch((err: Error) => err)));
      batch.forEach((path, k) => {
        const ours = gatewayReading(path, false);
        const read = seen[k]!;
        if (read instanceof Error) disagreements.push(`${path}: express cannot route it (${read.message})`);
        else if (read.path !== path || JSON.stringify(read.segments) !== JSON.stringify(ours)) disagreements.push(`${path}: express reads ${read.path} ${JSON.stringify(read.segments)}, the gateway ${JSON.stringify(ours)}`);
      });
    }
    expect(disagreements.slice(0, 10)).toEqual([]);
    // Neither side is vacuous: many paths pass, many are refused.
    expect(accepted.length).toBeGreaterThan(1000);
    expect(refused).toBeGreaterThan(1000);
  }, 60_000);
});
