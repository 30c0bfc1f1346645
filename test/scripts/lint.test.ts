import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../support/run.js';

const ROOT = join(import.meta.dirname, '../..');

/** An exported function of exactly `lines` lines, its opening and closing lines included. */
function functionOf(lines: number): string {
  const body = Array.from({ length: lines - 4 }, () => '  n += 1;');
  return ['export function probe(): number {', '  let n = 0;', ...body, '  return n;', '}', ''].join('\n');
}

/** `npx eslint` on a file with a `lines`-line function, written under gateway/provider/ (a unique name, removed after). */
async function lintProviderFunction(lines: number) {
  const file = join(ROOT, 'gateway/provider', `lint-probe-${process.pid}-${randomBytes(4).toString('hex')}.ts`);
  writeFileSync(file, functionOf(lines));
  try {
    return await run('npx', ['--no', 'eslint', file], { cwd: ROOT });
  } finally {
    rmSync(file, { force: true });
  }
}

describe('npm run lint: functions under gateway/provider/ are at most 60 lines (eslint.config.js)', () => {
  it('refuses a 61-line function, naming max-lines-per-function', async () => {
    const result = await lintProviderFunction(61);
    expect(result.code, result.stdout + result.stderr).not.toBe(0);
    expect(result.stdout).toContain('max-lines-per-function');
    expect(result.stdout).toContain('(61)');
  });

  it('accepts a 60-line function', async () => {
    const result = await lintProviderFunction(60);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.code).toBe(0);
  });
});
