import { describe, expect, it } from 'vitest';
import {
  formatServiceId,
  IdentifierError,
  parseMemberId,
  parseSecurityServerId,
  parseServiceId,
  parseSubsystemId,
} from '../../protocol/identifiers.js';
import { XRoadError } from '../../protocol/errors.js';

describe('X-Road identifiers', () => {
  it('parses and formats each identifier kind', () => {
    expect(parseMemberId('CAMDX/GOV/MOI')).toEqual({ instance: 'CAMDX', memberClass: 'GOV', memberCode: 'MOI' });
    expect(parseSubsystemId('CAMDX/COM/DEMOBANK/ONBOARDING').subsystemCode).toBe('ONBOARDING');
    expect(parseSecurityServerId('CAMDX/GOV/MOI/SS1').serverCode).toBe('SS1');
    const service = parseServiceId("CAMDX/GOV/MOI/KYC/kyc-v2.0(a)+b,c=d?e'f");
    expect(formatServiceId(service)).toBe("CAMDX/GOV/MOI/KYC/kyc-v2.0(a)+b,c=d?e'f");
  });

  it.each([
    ['CAMDX/GOV', 'shape'],
    ['CAMDX/GOV/MOI/EXTRA', 'shape'],
    ['CAMDX//MOI', 'required'],
    ['CAMDX/GOV/MO I', 'characters'],
    ['CAMDX/GOV/MOI ', 'characters'],
    ['CAMDX/GOV/MO:I', 'characters'],
    ['CAMDX/GOV/MO;I', 'characters'],
    ['CAMDX/GOV/MO%2FI', 'characters'],
    ['CAMDX/GOV/MO\\I', 'characters'],
    ['CAMDX/GOV/MOÏ', 'characters'],
    ['CAMDX/GOV/MO\u0000I', 'characters'],
    [`CAMDX/GOV/${'A'.repeat(256)}`, 'length'],
  ])('rejects %j (%s), never trims or repairs', (text, rule) => {
    try {
      parseMemberId(text, 'X-Road-Client');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(IdentifierError);
      expect((err as IdentifierError).rule).toBe(rule);
      expect((err as IdentifierError).message).toMatch(/X-Road-Client/);
    }
  });

  it('names an invisible bad character by code point', () => {
    expect(() => parseMemberId('CAMDX/GOV/MO\u200bI')).toThrow(/U\+200B/);
  });

  it('rejects non-strings', () => {
    expect(() => parseMemberId(undefined)).toThrow(IdentifierError);
    expect(() => parseMemberId(42)).toThrow(IdentifierError);
  });
});

describe('X-Road error registry', () => {
  it('answers Server.* with 500 and Client.* with 400, as X-Road does', () => {
    const denied = new XRoadError('Server.ServerProxy', 'AccessDenied', 'no access right');
    expect(denied.type).toBe('Server.ServerProxy.AccessDenied');
    expect(denied.httpStatus).toBe(500);
    const bad = new XRoadError('Client', 'InvalidClientIdentifier', 'bad id');
    expect(bad.httpStatus).toBe(400);
    expect(bad.toBody('id-1')).toEqual({ type: 'Client.InvalidClientIdentifier', message: 'bad id', detail: 'id-1' });
  });
});
