import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const doc = readFileSync(join(root, 'docs/security.md'), 'utf8');

describe('docs/security.md', () => {
  const named = [...doc.matchAll(/`((?:test|gateway|central|certs|members|protocol|common|sim|cli)\/[\w./-]+\.ts)`/g)].map((m) => m[1]!);

  it('names a test file for the boundaries it describes', () => {
    expect(named.filter((f) => f.startsWith('test/')).length).toBeGreaterThanOrEqual(10);
  });

  it.each([...new Set(named)])('%s exists', (file) => {
    expect(existsSync(join(root, file)), `${file} is named in docs/security.md`).toBe(true);
  });
});
