import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCentral, type TestCentral } from '../support/central.js';
import { run } from '../support/run.js';

const BIN = join(import.meta.dirname, '../../bin/camdx.js');
let t: TestCentral;
const user = (stdin: string, ...args: string[]) => run(process.execPath, [BIN, '--state-dir', t.stateDir, 'central', 'user', ...args], { input: stdin });

beforeAll(async () => {
  t = await startTestCentral();
}, 60_000);
afterAll(() => t.close());

// Roles, names and sessions are the API's (test/central/api-auth.test.ts); here: stdin, --as and the messages.
describe('camdx central user', () => {
  it('adds the first user with the token, then acts only --as an administrator, passwords on stdin', async () => {
    const first = await user('first secret\n', 'add', 'alice', '--role', 'administrator');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe('added administrator alice\n');

    const again = await user('x\n', 'add', 'bob', '--role', 'observer');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/only adds the first user.*HTTP 403/);

    expect((await user('first secret\nbob secret\n', 'add', 'bob', '--role', 'observer', '--as', 'alice')).stdout).toBe('added observer bob\n');
    expect((await user('first secret\n', 'list', '--as', 'alice')).stdout).toMatch(/^alice {2}administrator {2}since \S+\nbob {2}observer {2}since \S+\n$/);

    const wrong = await user('not it\n', 'list', '--as', 'alice');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/signing in as alice: wrong user name or password/);

    const passwd = await user('first secret\nbob new\n', 'passwd', 'bob', '--as', 'alice');
    expect(passwd.stdout).toBe('changed the password of bob; its sessions ended\n');
    expect((await user('first secret\n', 'remove', 'bob', '--as', 'alice')).stdout).toBe('removed bob (its sessions ended)\n');

    const noPassword = await user('', 'list', '--as', 'alice');
    expect(noPassword.code).toBe(2);
    expect(noPassword.stderr).toMatch(/on stdin/);
  });
});
