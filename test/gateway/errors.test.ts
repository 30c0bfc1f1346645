import { describe, expect, it } from 'vitest';
import { asXRoadError } from '../../gateway/errors.js';
import { HeaderError, MessageFormatError } from '../../gateway/message/format.js';
import { VerificationError } from '../../gateway/message/verifier.js';
import { ServiceUnreachable } from '../../gateway/provider/forward.js';
import { BodyTooLarge, SourceClosed } from '../../gateway/transport/carry.js';
import { SpoolQuotaExceeded } from '../../gateway/transport/spool.js';
import { CamdxError, ErrorCode, LocalCode, XRoadError } from '../../protocol/errors.js';
import { IdentifierError } from '../../protocol/identifiers.js';
import { PathError } from '../../protocol/paths.js';

const CONSUMER = 'Server.ClientProxy' as const;
const PROVIDER = 'Server.ServerProxy' as const;

describe('asXRoadError', () => {
  it('keeps an X-Road error as it is, whatever side asks', () => {
    const err = new XRoadError('Client', 'AccessDenied', 'no');
    expect(asXRoadError(err, PROVIDER)).toBe(err);
  });

  it('adds the handler’s side to an X-Road code thrown without one, keeping message and field', () => {
    const err = new CamdxError('AccessDenied', 'no right', { field: 'endpoint' });
    const mapped = asXRoadError(err, PROVIDER);
    expect(mapped).toMatchObject({ type: 'Server.ServerProxy.AccessDenied', message: 'no right', field: 'endpoint', httpStatus: 500 });
    expect(asXRoadError(new VerificationError('InconsistentResponse', 'other request'), CONSUMER).type).toBe('Server.ClientProxy.InconsistentResponse');
  });

  it.each([
    ['a malformed message part', new MessageFormatError('the manifest is malformed'), 'Server.ServerProxy.InvalidRequest', 'Server.ClientProxy.InvalidRequest'],
    ['a full spool', new SpoolQuotaExceeded(1024), 'Server.ServerProxy.MaxRequestSizeExceeded', 'Server.ClientProxy.MaxRequestSizeExceeded'],
    ['the other gateway gone mid-message', new SourceClosed(), 'Server.ServerProxy.NetworkError', 'Server.ClientProxy.NetworkError'],
    ['a path rule', new PathError('dot-segment', 'a dot segment'), 'Server.ServerProxy.InvalidRequest', 'Client.InvalidRequest'],
    ['a malformed identifier', new IdentifierError('client', 'part', 'bad'), 'Client.InvalidClientIdentifier', 'Client.InvalidClientIdentifier'],
  ])('maps %s by its code', (_name, err, provider, consumer) => {
    expect(asXRoadError(err, PROVIDER).type).toBe(provider);
    expect(asXRoadError(err, CONSUMER).type).toBe(consumer);
  });

  it('says why the other gateway’s connection ended, not our internals', () => {
    expect(asXRoadError(new SourceClosed(), PROVIDER).message).toBe("the other security server's connection closed before the message ended");
  });

  it.each([
    ['a plain Error', new Error('secret detail at /var/x')],
    ['a local code no handler answers as such', new BodyTooLarge(10)],
    ['a header rule no step mapped', new HeaderError('twice')],
    ['an unmapped service failure', new ServiceUnreachable('down', false)],
    ['a thrown string', 'oops'],
  ])('makes %s an InternalError without its details', (_name, err) => {
    const mapped = asXRoadError(err, CONSUMER);
    expect(mapped.type).toBe('Server.ClientProxy.InternalError');
    expect(mapped.message).toBe('the security server failed to process the message');
  });

  it('decides by code, never by message text', () => {
    const looksLikeOcsp = new CamdxError('SslAuthenticationFailed', 'OCSP: the OCSP response is older than 3600 s');
    expect(asXRoadError(looksLikeOcsp, PROVIDER).type).toBe('Server.ServerProxy.SslAuthenticationFailed');
  });
});

describe('the error tables', () => {
  it('declare each code once, as its own name', () => {
    for (const table of [ErrorCode, LocalCode]) for (const [name, code] of Object.entries(table)) expect(code).toBe(name);
    const overlap = Object.keys(ErrorCode).filter((c) => c in LocalCode);
    expect(overlap).toEqual([]);
  });

  it('name every thrown class after itself and keep it a CamdxError', () => {
    for (const err of [new SourceClosed(), new BodyTooLarge(1), new PathError('r', 'm'), new IdentifierError('f', 'r', 'm'), new VerificationError('CertValidation', 'm')]) {
      expect(err).toBeInstanceOf(CamdxError);
      expect(err.name).toBe(err.constructor.name);
    }
  });
});
