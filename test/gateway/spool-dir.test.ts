import { spawn, spawnSync } from 'node:child_process';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SpoolDirectory } from '../../gateway/transport/spool.js';

// Issue 17 row 10: each gateway process has a spool directory of its own; at start it removes
// only directories whose process has ended, and its own goes when the process exits.
const SPOOL = join(import.meta.dirname, '../../gateway/transport/spool.ts');
const nodeArgs = (code: string) => ['--import', 'tsx', '--input-type=module', '-e', `const { SpoolDirectory } = await import(${JSON.stringify(SPOOL)}); ${code}`];

/** Runs `code` in a new process to its end; returns the spool directory it printed. */
function inChild(code: string): string {
  const res = spawnSync(process.execPath, nodeArgs(code), { encoding: 'utf8', timeout: 20_000 });
  const path = res.stdout.trim();
  if (!basename(path).startsWith('camdx-spool-')) throw new Error(`no spool directory printed: ${res.stderr}`);
  return path;
}

describe('a gateway process’s spool directory (issue 17 row 10)', () => {
  it('is removed when the process exits without the gateway being stopped', () => {
    const path = inChild('const d = new SpoolDirectory(); console.log(d.path); process.exit(0);');
    expect(path).toMatch(/camdx-spool-/);
    expect(existsSync(path)).toBe(false);
  });

  it('is cleared at the next start when its process was killed, even if a new process got the same pid; a running twin’s stays', async () => {
    // A crashed run, whose pid is now this process's: a restarted container's pid 1 is the same every time.
    const crashed = inChild("import('node:fs').then(({ writeFileSync }) => { const d = new SpoolDirectory(); writeFileSync(d.path + '/body.spool', 'x'); console.log(d.path); process.kill(process.pid, 'SIGKILL'); });");
    expect(existsSync(crashed)).toBe(true);
    const samePid = join(dirname(crashed), basename(crashed).replace(/^camdx-spool-\d+/, `camdx-spool-${process.pid}`));
    renameSync(crashed, samePid);

    const twin = spawn(process.execPath, nodeArgs('const d = new SpoolDirectory(); console.log(d.path); process.stdin.on("end", () => process.exit(0)); process.stdin.resume();'), { stdio: ['pipe', 'pipe', 'inherit'] });
    const twinPath = await new Promise<string>((resolve) => twin.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
    const exited = new Promise((resolve) => twin.once('exit', resolve));
    const dir = new SpoolDirectory();
    try {
      expect(existsSync(samePid)).toBe(false);
      expect(existsSync(twinPath)).toBe(true);
      expect(dir.path).not.toBe(twinPath);
    } finally {
      dir.close();
      twin.stdin.end();
      await exited;
      rmSync(samePid, { recursive: true, force: true });
    }
    expect(existsSync(twinPath)).toBe(false);
  });
});
