import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { parseCall, parseClientHeaders } from '../../../gateway/consumer/parse.js';
import { XRoadError } from '../../../protocol/errors.js';

/** The X-Road type a parser throws, or 'none'. */
function typeOf(run: () => unknown): string {
  try {
    run();
    return 'none';
  } catch (err) {
    return err instanceof XRoadError ? err.type : `not an XRoadError: ${String(err)}`;
  }
}

/** A request as parseClientHeaders reads it: Node's rawHeaders, names and values alternating. */
const request = (...pairs: Array<[string, string]>) => ({ rawHeaders: pairs.flat() }) as unknown as IncomingMessage;

describe('parseCall', () => {
  it('reads a service call: identifiers decoded, path and query kept as sent', () => {
    expect(parseCall('/r1/CAMDX/GOV/MOI/KYC/echo/people/42?full=1&x=%20')).toEqual({
      kind: 'service',
      service: { instance: 'CAMDX', memberClass: 'GOV', memberCode: 'MOI', subsystemCode: 'KYC', serviceCode: 'echo' },
      path: '/people/42',
      query: 'full=1&x=%20',
    });
    expect(parseCall('/r1/CAMDX/GOV/MOI/KYC/echo')).toMatchObject({ kind: 'service', path: '', query: '' });
  });

  it('tells listClients and the metaservices from service calls', () => {
    expect(parseCall('/listClients')).toEqual({ kind: 'listClients' });
    expect(parseCall('/r1/CAMDX/listClients')).toEqual({ kind: 'listClients' });
    const meta = parseCall('/r1/CAMDX/GOV/MOI/KYC/getOpenAPI?serviceCode=echo');
    expect(meta).toMatchObject({ kind: 'metaservice', name: 'getOpenAPI', provider: { memberCode: 'MOI', subsystemCode: 'KYC' } });
    // Below a path, the name is a service code like any other.
    expect(parseCall('/r1/CAMDX/GOV/MOI/KYC/listMethods/x')).toMatchObject({ kind: 'service', service: { serviceCode: 'listMethods' } });
  });

  it.each([
    ['too few parts', '/r1/CAMDX/GOV/MOI/KYC', 'Client.InvalidServiceIdentifier'],
    ['not /r1', '/r2/CAMDX/GOV/MOI/KYC/echo', 'Client.InvalidServiceIdentifier'],
    ['a malformed escape', '/r1/CAMDX/GOV/MO%ZZ/KYC/echo', 'Client.InvalidServiceIdentifier'],
    ['a part with a forbidden character', '/r1/CAMDX/GOV/MO%3AI/KYC/echo', 'Client.InvalidServiceIdentifier'],
    ['a dot segment', '/r1/CAMDX/GOV/MOI/KYC/echo/a/../b', 'Client.InvalidRequest'],
    ['an escaped slash', '/r1/CAMDX/GOV/MOI/KYC/echo/a%2Fb', 'Client.InvalidRequest'],
  ])('refuses %s as the caller’s error', (_name, url, type) => {
    expect(typeOf(() => parseCall(url))).toBe(type);
  });
});

describe('parseClientHeaders', () => {
  const client = ['X-Road-Client', 'CAMDX/COM/DEMOBANK/ONBOARDING'] as [string, string];

  it('reads the client, keeps the message id, and passes on only end-to-end headers', () => {
    const parsed = parseClientHeaders(request(client, ['X-Road-Id', 'm-1'], ['Accept', 'application/json'], ['Connection', 'keep-alive, X-Hop'], ['X-Hop', '1'], ['Host', 'gw']));
    expect(parsed).toMatchObject({ clientId: 'CAMDX/COM/DEMOBANK/ONBOARDING', messageId: 'm-1', client: { memberCode: 'DEMOBANK', subsystemCode: 'ONBOARDING' } });
    expect(parsed.endToEnd).toEqual([['Accept', 'application/json']]);
    expect(parsed).not.toHaveProperty('securityServer');
  });

  it('makes a message id when the client sends none, and reads a pinned security server', () => {
    const parsed = parseClientHeaders(request(client, ['X-Road-Security-Server', 'CAMDX/GOV/MOI/SS1']));
    expect(parsed.messageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(parsed.securityServer).toBe('CAMDX/GOV/MOI/SS1');
  });

  it.each([
    ['no X-Road-Client', [], 'Client.InvalidClientIdentifier'],
    ['two X-Road-Client headers', [client, client], 'Client.InvalidHttpHeader'],
    ['a member, not a subsystem', [['X-Road-Client', 'CAMDX/COM/DEMOBANK']], 'Client.InvalidClientIdentifier'],
    ['two X-Road-Id headers', [client, ['X-Road-Id', 'a'], ['X-Road-Id', 'b']], 'Client.InvalidHttpHeader'],
    ['a control character in X-Road-Id', [client, ['X-Road-Id', 'a\u0001b']], 'Client.InvalidHttpHeader'],
    ['an X-Road-Id of 257 characters', [client, ['X-Road-Id', 'x'.repeat(257)]], 'Client.InvalidHttpHeader'],
    ['a malformed X-Road-Security-Server', [client, ['X-Road-Security-Server', 'CAMDX/GOV']], 'Client.InvalidSecurityServer'],
    ['Content-Type twice', [client, ['Content-Type', 'a/b'], ['content-type', 'c/d']], 'Client.InvalidHttpHeader'],
  ] as Array<[string, Array<[string, string]>, string]>)('refuses %s', (_name, pairs, type) => {
    expect(typeOf(() => parseClientHeaders(request(...pairs)))).toBe(type);
  });
});
