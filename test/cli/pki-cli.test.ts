import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openssl, run } from '../support/run.js';
import { tempDir } from '../support/tmp.js';
import { requireTool } from '../support/tools.js';

const BIN = join(import.meta.dirname, '../../bin/camdx.js');
let dir: { path: string; cleanup(): void };
const camdx = (...args: string[]) => run(process.execPath, [BIN, '--state-dir', join(dir.path, 'var'), ...args]);
const file = (name: string) => join(dir.path, name);

beforeAll(() => {
  dir = tempDir();
});
afterAll(() => dir.cleanup());

describe('camdx CLI', () => {
  it('prints help and exits 0', async () => {
    const res = await run(process.execPath, [BIN, '--help']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/Usage: camdx/);
    expect(res.stdout).toMatch(/pki/);
  });

  it('exits non-zero with a message for an unknown command', async () => {
    const res = await run(process.execPath, [BIN, 'frobnicate']);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/unknown command/);
  });

  it('takes a member from keygen to a PKCS#12 keystore', requireTool('openssl'), async () => {
    expect((await camdx('pki', 'init')).code).toBe(0);
    expect((await camdx('pki', 'init')).stdout).toMatch(/already initialised/);

    const enrol = await camdx('pki', 'enrol', '--profile', 'member-signing', '--member', 'CAMDX/COM/DEMOBANK', '--member-name', 'Demo Bank Plc', '--json');
    expect(enrol.code, enrol.stderr).toBe(0);
    writeFileSync(file('token'), (JSON.parse(enrol.stdout) as { token: string }).token);

    expect((await camdx('pki', 'keygen', '--type', 'P-256', '--out', file('sign.key'))).code).toBe(0);
    expect(statSync(file('sign.key')).mode & 0o777).toBe(0o600);
    expect((await camdx('pki', 'keygen', '--out', file('sign.key'))).stderr).toMatch(/refusing to overwrite/);

    const csr = await camdx('pki', 'csr', '--key', file('sign.key'), '--profile', 'member-signing', '--member', 'CAMDX/COM/DEMOBANK', '--member-name', 'Demo Bank Plc', '--out', file('sign.csr'));
    expect(csr.code, csr.stderr).toBe(0);
    expect((await openssl(['req', '-in', file('sign.csr'), '-noout', '-verify'])).stderr).toMatch(/verify OK/i);

    const issue = await camdx('pki', 'issue', '--csr', file('sign.csr'), '--token-file', file('token'), '--out', file('sign.pem'));
    expect(issue.code, issue.stderr).toBe(0);
    const root = join(dir.path, 'var/pki/ca/root-ca.pem');
    expect((await openssl(['verify', '-CAfile', root, '-untrusted', file('sign.pem'), file('sign.pem')])).stdout).toContain(': OK');

    const again = await camdx('pki', 'issue', '--csr', file('sign.csr'), '--token-file', file('token'));
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/refused \(token\.used\)/);

    const p12 = await camdx('pki', 'export-p12', '--key', file('sign.key'), '--cert', file('sign.pem'), '--out', file('sign.p12'));
    expect(p12.code, p12.stderr).toBe(0);
    const password = readFileSync(file('sign.p12.password'), 'utf8').trim();
    expect(statSync(file('sign.p12.password')).mode & 0o777).toBe(0o600);
    expect((await openssl(['pkcs12', '-info', '-in', file('sign.p12'), '-passin', `pass:${password}`, '-noout'])).code).toBe(0);

    const list = await camdx('pki', 'list', '--json');
    const records = JSON.parse(list.stdout) as Array<{ serial: string; profile: string; subject: string }>;
    const mine = records.find((r) => r.profile === 'member-signing')!;
    expect(mine.subject).toBe('C=KH, O=Demo Bank Plc, serialNumber=CAMDX/COM/DEMOBANK, CN=DEMOBANK');

    const revoke = await camdx('pki', 'revoke', mine.serial, '--reason', 'superseded');
    expect(revoke.code, revoke.stderr).toBe(0);
    expect((await camdx('pki', 'revoke', mine.serial)).stderr).toMatch(/was revoked at/);
    expect((await camdx('pki', 'revoke', 'ZZZ')).stderr).toMatch(/not a hexadecimal serial/);
  });

  it('refuses malformed identifiers with the rule', async () => {
    const res = await camdx('pki', 'enrol', '--profile', 'member-signing', '--member', 'CAMDX/GOV/MO I', '--member-name', 'x');
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/--member code contains character U\+0020/);
  });
});
