import { describe, expect, it } from 'vitest';
import { checkPathPattern, matchPath, normaliseRequestPath, PathError } from '../../protocol/paths.js';

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
  ])('refuses %j (%s)', (path, rule) => {
    try {
      normaliseRequestPath(path);
      expect.unreachable();
    } catch (err) {
      expect((err as PathError).rule).toBe(rule);
    }
  });

  it('keeps ordinary escapes and trailing slashes', () => {
    expect(normaliseRequestPath('/people/Sok%20Dara/')).toBe('/people/Sok%20Dara/');
    expect(normaliseRequestPath('')).toBe('/');
  });
});
