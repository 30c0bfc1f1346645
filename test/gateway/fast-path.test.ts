import { SignedXml } from 'xml-crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ProfileSigner } from '../../gateway/message/signature-profile.js';
import { call } from '../support/http.js';
import { CLIENT, SERVICE } from '../support/network.js';
import { startOutcomeNetwork, warmUp, type OutcomeNetwork } from '../support/exchange-outcomes.js';

/**
 * Issue 22: in exchanges between two gateways in this process, the signatures are made and
 * checked by the fixed-profile fast path (xml-crypto never signs or verifies), and no zod schema
 * parses what a peer sent (heads and manifests are checked by hand).
 */
const EXCHANGES = 5;

let n: OutcomeNetwork;
const xmlCrypto = { sign: 0, verify: 0 };
let profileSigned = 0;

/** The modules that read what a peer sent: the codec, its formats, the transport, and each side's steps. */
function peerReadingModules(): string[] {
  const root = join(import.meta.dirname, '../..');
  return ['gateway/message', 'gateway/consumer', 'gateway/provider', 'gateway/transport'].flatMap((dir) =>
    readdirSync(join(root, dir))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => join(dir, f)),
  );
}

beforeAll(async () => {
  n = await startOutcomeNetwork();
  await warmUp(n);
  vi.spyOn(SignedXml.prototype, 'computeSignature').mockImplementation(() => {
    xmlCrypto.sign += 1;
    throw new Error('xml-crypto must not sign on the message path');
  });
  vi.spyOn(SignedXml.prototype, 'checkSignature').mockImplementation(() => {
    xmlCrypto.verify += 1;
    throw new Error('xml-crypto must not verify on the message path');
  });
  const sign = ProfileSigner.prototype.sign;
  vi.spyOn(ProfileSigner.prototype, 'sign').mockImplementation(function (this: ProfileSigner, statement) {
    profileSigned += 1;
    return sign.call(this, statement);
  });
  for (let i = 0; i < EXCHANGES; i++) {
    const res = await call(`${n.consumerUrl}/r1/${SERVICE}/echo/fast-${i}`, { method: 'POST', headers: [['X-Road-Client', CLIENT], ['Content-Type', 'text/plain']], body: `fast ${i}` });
    expect(res.status, String(res.headers['x-road-error'])).toBe(200);
  }
}, 60_000);

afterAll(async () => {
  vi.restoreAllMocks();
  await n?.close();
});

describe('the message path of two gateways in this process', () => {
  it('signs every request and response with the fixed-profile signer, and never calls xml-crypto', () => {
    expect(profileSigned).toBeGreaterThanOrEqual(2 * EXCHANGES);
    expect(xmlCrypto).toEqual({ sign: 0, verify: 0 });
  });

  it('parses no peer head or manifest with a zod schema: no module that reads a peer’s message imports one', () => {
    const root = join(import.meta.dirname, '../..');
    const modules = peerReadingModules();
    expect(modules).toContain('gateway/message/format.ts');
    expect(modules.filter((file) => /^import [^;]* from 'zod';$/m.test(readFileSync(join(root, file), 'utf8')))).toEqual([]);
  });
});
