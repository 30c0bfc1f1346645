import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToIp, ipToBytes } from '../../certs/extensions.js';
import { openssl } from '../support/run.js';
import { MOI, startTestPki, type TestPki } from '../support/pki.js';
import { requireTool } from '../support/tools.js';

let t: TestPki;
beforeAll(async () => {
  t = await startTestPki();
});
afterAll(() => t?.close());

const hex = (ip: string) => Buffer.from(ipToBytes(ip)).toString('hex');
const canonical = (ip: string) => bytesToIp(ipToBytes(ip));

describe('IP addresses in subject alternative names', () => {
  it('encodes IPv4, IPv6 and IPv4-mapped IPv6 as their RFC 5280 octets', () => {
    expect(hex('127.0.0.1')).toBe('7f000001');
    expect(hex('::ffff:127.0.0.1')).toBe('00000000000000000000ffff7f000001');
    expect(hex('2001:DB8:0:0:1:0:0:1')).toBe('20010db8000000000001000000000001');
    expect(hex('::')).toBe('0'.repeat(32));
  });

  it('prints them in RFC 5952 form: lower case, the first longest zero run compressed, mapped IPv4 dotted', () => {
    expect(canonical('2001:0DB8:0000:0000:0000:0000:0002:0001')).toBe('2001:db8::2:1');
    expect(canonical('2001:db8:0:1:1:1:1:1')).toBe('2001:db8:0:1:1:1:1:1');
    expect(canonical('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(canonical('0:0:0:0:0:FFFF:7F00:1')).toBe('::ffff:127.0.0.1');
    expect(canonical('::1')).toBe('::1');
    expect(bytesToIp(new Uint8Array(5))).toBe('invalid(0000000000)');
  });

  it.each(['0x7f.1', '010.0.0.1', '1.2.3', 'fe80::1%eth0', '::ffff:300.0.0.1', ''])('refuses %j', (bad) => {
    expect(() => ipToBytes(bad)).toThrow(/is not an IP address/);
  });

  it('openssl x509 reads ::ffff:127.0.0.1 in a certificate issued with that SAN', requireTool('openssl'), async () => {
    const issued = t.issue('server-auth', { ...MOI, serverCode: 'SS1', dns: ['ss1.moi.example'], ip: ['::ffff:127.0.0.1', '2001:DB8:0:0:1:0:0:1', '10.1.2.3'] });
    const text = await openssl(['x509', '-in', issued.certFile, '-noout', '-text']);
    expect(text.code, text.stderr).toBe(0);
    const printed = [...text.stdout.matchAll(/IP Address:([0-9A-Fa-f:.]+)/g)].map((m) => m[1]!);
    // openssl 3.0 writes IPv6 uncompressed and in capitals; the address it read is the same.
    expect(printed.map(canonical)).toEqual(['::ffff:127.0.0.1', '2001:db8::1:0:0:1', '10.1.2.3']);
    for (const ip of ['::ffff:127.0.0.1', '2001:db8::1:0:0:1']) {
      const check = await openssl(['x509', '-in', issued.certFile, '-noout', '-checkip', ip]);
      expect(check.stdout).toContain(`IP ${ip} does match certificate`);
    }
    // Node's own reading of the certificate agrees.
    expect(issued.cert.subjectAltName).toMatch(/IP Address:0:0:0:0:0:FFFF:7F00:1|IP Address:::ffff:127\.0\.0\.1/i);
  });
});
