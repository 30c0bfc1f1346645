import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSecretFile } from '../../common/files.js';
import { run } from '../support/run.js';
import { tempDir } from '../support/tmp.js';

const dir = tempDir();
afterAll(() => dir.cleanup());

describe('writeSecretFile', () => {
  it('writes owner-only, replacing the whole file', () => {
    const file = join(dir.path, 'keys', 'token');
    writeSecretFile(file, 'first\n');
    writeSecretFile(file, 'second\n');
    expect(readFileSync(file, 'utf8')).toBe('second\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir.path, 'keys')).mode & 0o777).toBe(0o700);
  });

  it('fsyncs the file before renaming it into place, then its directory (seen by strace)', async () => {
    const target = join(dir.path, 'durable', 'secret');
    const script = join(dir.path, 'write.ts');
    writeFileSync(script, `import { writeSecretFile } from ${JSON.stringify(join(import.meta.dirname, '../../common/files.ts'))};\nwriteSecretFile(${JSON.stringify(target)}, 'x');\n`);
    const trace = join(dir.path, 'strace.txt');
    // -y names each descriptor's file, so the order of events can be read by path.
    const res = await run('strace', ['-f', '-qq', '-y', '-e', 'trace=fsync,rename,renameat,renameat2', '-o', trace, process.execPath, '--import', 'tsx', script]);
    expect(res.code, res.stderr).toBe(0);
    expect(readFileSync(target, 'utf8')).toBe('x');
    const lines = readFileSync(trace, 'utf8').split('\n');
    const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    // Another thread's event can split a call into "fsync(…) <unfinished ...>" and "<... fsync resumed>".
    const fileSync = at(new RegExp(`fsync\\(\\d+<${esc(target)}\\.[0-9a-f]{12}\\.tmp>(\\)\\s+= 0| <unfinished)`));
    const rename = at(new RegExp(`rename(at2?)?\\(.*${esc(target)}\\.[0-9a-f]{12}\\.tmp".*"${esc(target)}"`));
    const dirSync = at(new RegExp(`fsync\\(\\d+<${esc(join(dir.path, 'durable'))}>(\\)\\s+= 0| <unfinished)`));
    expect(fileSync, lines.join('\n')).toBeGreaterThanOrEqual(0);
    expect(rename).toBeGreaterThan(fileSync);
    expect(dirSync).toBeGreaterThan(rename);
  }, 30_000);
});
