import { describe, expect, it } from 'vitest';
import { asXRoadError } from '../../../gateway/errors.js';
import { decodeManifest, decodeRequestHead, encodeHead, encodeManifest, endToEndHeaders, HeaderError, MessageFormatError, type Manifest } from '../../../gateway/message/format.js';
import { CamdxError } from '../../../protocol/errors.js';

const PROVIDER = 'Server.ServerProxy' as const;
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const digest = 'A'.repeat(86) + '==';

const manifest: Manifest = {
  v: 1,
  type: 'request',
  id: 'm-1',
  requestId: 'r-1',
  client: 'CAMDX/COM/DEMOBANK/ONBOARDING',
  service: 'CAMDX/GOV/MOI/KYC/echo',
  signedAt: '2026-12-04T10:00:00.000Z',
  salt: 'B'.repeat(22) + '==',
  headDigest: digest,
  bodyDigest: digest,
  bodyBytes: 12,
};

/** What a decoder's error becomes when the provider's handler answers it. */
function providerTypeOf(run: () => unknown): string {
  try {
    run();
    return 'none';
  } catch (err) {
    return asXRoadError(err, PROVIDER).type;
  }
}

describe('endToEndHeaders', () => {
  it('keeps order and case, drops framing, hop-by-hop, host, X-CamDX and gateway-set X-Road headers', () => {
    const raw = ['Accept', 'a/b', 'Transfer-Encoding', 'chunked', 'Connection', 'close, X-Gone', 'X-Gone', '1', 'Host', 'h', 'X-CamDX-Head', 'x', 'X-Road-Id', 'i', 'X-Road-UserId', 'u', 'Proxy-Authorization', 'p', 'x-custom', 'c'];
    expect(endToEndHeaders(raw)).toEqual([
      ['Accept', 'a/b'],
      ['X-Road-UserId', 'u'],
      ['x-custom', 'c'],
    ]);
  });

  it('refuses a single header sent twice, with the HeaderRule code', () => {
    let thrown: unknown;
    try {
      endToEndHeaders(['Authorization', 'a', 'authorization', 'b']);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(HeaderError);
    expect(thrown).toMatchObject({ code: 'HeaderRule' });
  });
});

describe('decodeRequestHead', () => {
  const head = { method: 'GET', path: '/people/42', query: 'a=1', headers: [['Accept', 'a/b']] as Array<[string, string]> };

  it('decodes what encodeHead makes, with its bytes', () => {
    const text = encodeHead(head);
    const decoded = decodeRequestHead(text);
    expect(decoded.head).toEqual(head);
    expect(decoded.bytes.equals(Buffer.from(text, 'base64url'))).toBe(true);
  });

  it('says which field a malformed head came in', () => {
    let thrown: unknown;
    try {
      decodeRequestHead('not base64url!');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(MessageFormatError);
    expect(thrown).toMatchObject({ code: 'MessageFormat', field: 'x-camdx-head' });
  });

  it.each([
    ['missing', undefined, 'Server.ServerProxy.InvalidRequest'],
    ['not base64url', 'a+b/c=', 'Server.ServerProxy.InvalidRequest'],
    ['not JSON', Buffer.from('{').toString('base64url'), 'Server.ServerProxy.InvalidRequest'],
    ['with an extra field', b64url({ ...head, extra: 1 }), 'Server.ServerProxy.InvalidRequest'],
    ['with a lower-case method', b64url({ ...head, method: 'get' }), 'Server.ServerProxy.InvalidRequest'],
    ['carrying Host', b64url({ ...head, headers: [['Host', 'evil']] }), 'Server.ServerProxy.InvalidMessage'],
    ['carrying an X-CamDX header', b64url({ ...head, headers: [['X-CamDX-Head', 'x']] }), 'Server.ServerProxy.InvalidMessage'],
    ['with a dot segment', b64url({ ...head, path: '/a/../b' }), 'Server.ServerProxy.InvalidMessage'],
  ])('refuses a head %s', (_name, text, type) => {
    expect(providerTypeOf(() => decodeRequestHead(text))).toBe(type);
  });

  it('throws without a side: the handler that catches it adds its own', () => {
    let thrown: unknown;
    try {
      decodeRequestHead(b64url({ ...head, headers: [['Host', 'evil']] }));
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(CamdxError);
    expect(thrown).not.toHaveProperty('side');
    expect(asXRoadError(thrown, 'Server.ClientProxy').type).toBe('Server.ClientProxy.InvalidMessage');
  });
});

describe('decodeManifest', () => {
  it('decodes what encodeManifest makes, byte for byte', () => {
    const encoded = encodeManifest(manifest);
    const decoded = decodeManifest(encoded.text);
    expect(decoded.manifest).toEqual(manifest);
    expect(decoded.bytes.equals(encoded.bytes)).toBe(true);
  });

  it.each([
    ['an extra field', { ...manifest, extra: true }],
    ['a salt of the wrong length', { ...manifest, salt: 'AAAA' }],
    ['a digest that is not SHA-512', { ...manifest, bodyDigest: 'AAAA' }],
    ['a signing time without milliseconds', { ...manifest, signedAt: '2026-12-04T10:00:00Z' }],
    ['a negative size', { ...manifest, bodyBytes: -1 }],
    ['another version', { ...manifest, v: 2 }],
    ['an unknown type', { ...manifest, type: 'event' }],
  ])('refuses %s, naming the manifest trailer', (_name, value) => {
    expect(() => decodeManifest(b64url(value))).toThrow(MessageFormatError);
    try {
      decodeManifest(b64url(value));
    } catch (err) {
      expect(err).toMatchObject({ code: 'MessageFormat', field: 'x-camdx-manifest' });
    }
  });
});
