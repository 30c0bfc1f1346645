import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOnlinePki } from '../../certs/online.js';
import { createPkiServices } from '../../certs/server.js';
import { TsaFailure } from '../../certs/tsa/authority.js';
import { buildTimestampQuery, readTimestampResponse, timestampQueryFor } from '../../certs/tsa/client.js';
import { openssl } from '../support/run.js';
import { startTestPki, type TestPki } from '../support/pki.js';
import { requireTool } from '../support/tools.js';

let t: TestPki;
let dataFile: string;
beforeAll(async () => {
  t = await startTestPki();
  dataFile = join(t.dir, 'data.bin');
  writeFileSync(dataFile, 'an exchange worth proving\n');
});
afterAll(() => t.close());

async function stamp(query: Buffer): Promise<Buffer> {
  const res = await fetch(`${t.url}/tsa`, { method: 'POST', headers: { 'content-type': 'application/timestamp-query' }, body: new Uint8Array(query) });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/timestamp-reply');
  return Buffer.from(await res.arrayBuffer());
}

describe('timestamping authority (RFC 3161)', () => {
  it.each(['sha256', 'sha512'])('openssl ts -query → TSA → openssl ts -verify passes for %s', requireTool('openssl'), async (digest) => {
    const queryFile = join(t.dir, `${digest}.tsq`);
    const replyFile = join(t.dir, `${digest}.tsr`);
    expect((await openssl(['ts', '-query', '-data', dataFile, `-${digest}`, '-cert', '-out', queryFile])).code).toBe(0);
    writeFileSync(replyFile, await stamp(readFileSync(queryFile)));
    const verify = await openssl(['ts', '-verify', '-data', dataFile, '-in', replyFile, '-CAfile', t.caFile]);
    expect(verify.stdout + verify.stderr).toContain('Verification: OK');
    const text = (await openssl(['ts', '-reply', '-in', replyFile, '-text'])).stdout;
    expect(text).toContain('Status: Granted.');
    expect(text).toContain('Policy OID: 2.999.1.1');
    expect(text).toContain(`Hash Algorithm: ${digest}`);
    expect(text).toMatch(/Nonce: 0x[0-9A-F]+/);
    // The query's nonce is echoed (openssl checks it too when given the query).
    const againstQuery = await openssl(['ts', '-verify', '-queryfile', queryFile, '-in', replyFile, '-CAfile', t.caFile]);
    expect(againstQuery.stdout + againstQuery.stderr).toContain('Verification: OK');
  });

  it('omits the certificate when not asked (certReq false); the token then verifies with -untrusted', requireTool('openssl'), async () => {
    const queryFile = join(t.dir, 'nocert.tsq');
    const replyFile = join(t.dir, 'nocert.tsr');
    await openssl(['ts', '-query', '-data', dataFile, '-sha256', '-no_nonce', '-out', queryFile]);
    writeFileSync(replyFile, await stamp(readFileSync(queryFile)));
    const without = await openssl(['ts', '-verify', '-data', dataFile, '-in', replyFile, '-CAfile', t.caFile]);
    expect(without.stdout + without.stderr).not.toContain('Verification: OK');
    const withSigner = await openssl(['ts', '-verify', '-data', dataFile, '-in', replyFile, '-CAfile', t.caFile, '-untrusted', t.pki.layout.tsaCert]);
    expect(withSigner.stdout + withSigner.stderr).toContain('Verification: OK');
  });

  it('signs with a certificate whose only extended key usage is a critical id-kp-timeStamping', requireTool('openssl'), async () => {
    const text = (await openssl(['x509', '-in', t.pki.layout.tsaCert, '-noout', '-ext', 'extendedKeyUsage'])).stdout;
    expect(text).toMatch(/X509v3 Extended Key Usage: critical\s+Time Stamping\s*$/);
  });

  it('refuses what it cannot stamp, with the protocol failure status', requireTool('openssl'), async () => {
    const sha1 = readTimestampResponse(await stamp(buildTimestampQuery(Buffer.alloc(20, 1), 'sha256')));
    expect(sha1.status).toBe(2);
    expect(sha1.failBits).toEqual([TsaFailure.badDataFormat]);

    const sha1Query = join(t.dir, 'sha1.tsq');
    await openssl(['ts', '-query', '-data', dataFile, '-sha1', '-out', sha1Query]);
    const badAlg = readTimestampResponse(await stamp(readFileSync(sha1Query)));
    expect(badAlg.failBits).toEqual([TsaFailure.badAlg]);
    expect(badAlg.statusText).toMatch(/SHA-256/);

    const policyQuery = join(t.dir, 'policy.tsq');
    await openssl(['ts', '-query', '-data', dataFile, '-sha256', '-tspolicy', '1.2.3.4', '-out', policyQuery]);
    expect(readTimestampResponse(await stamp(readFileSync(policyQuery))).failBits).toEqual([TsaFailure.unacceptedPolicy]);

    const garbage = readTimestampResponse(await stamp(Buffer.from('this is not a query')));
    expect(garbage.status).toBe(2);
    expect(garbage.failBits).toEqual([TsaFailure.badDataFormat]);
    // openssl reads our rejections too.
    const replyFile = join(t.dir, 'rejected.tsr');
    writeFileSync(replyFile, await stamp(Buffer.from('junk')));
    expect((await openssl(['ts', '-reply', '-in', replyFile, '-text'])).stdout).toContain('Status: Rejected.');

    const big = await fetch(`${t.url}/tsa`, { method: 'POST', body: new Uint8Array(100_000) });
    expect(big.status).toBe(413);
    expect(readTimestampResponse(await stamp(timestampQueryFor(Buffer.from('still up')))).status).toBe(0);
  });

  it('never repeats a serial, across restarts too', async () => {
    const serialOf = (reply: Buffer) => readTimestampResponse(reply).tstInfo!.serialNumber.valueBlock.valueDec;
    const first = [serialOf(await stamp(timestampQueryFor(Buffer.from('a')))), serialOf(await stamp(timestampQueryFor(Buffer.from('b'))))];
    expect(first[1]).toBeGreaterThan(first[0]!);
    // A second service on the same state (as after a restart) reserves a fresh block.
    const restarted = loadOnlinePki(t.stateDir);
    try {
      const tsa = createPkiServices(restarted).tsa;
      const later = serialOf(tsa.respond(timestampQueryFor(Buffer.from('c'))));
      expect(later).toBeGreaterThan(first[1]!);
    } finally {
      restarted.close();
    }
  });
});
