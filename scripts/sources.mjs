import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Folders whose TypeScript makes up the `camdx` command. */
export const SOURCE_DIRS = ['bench', 'central', 'certs', 'cli', 'common', 'gateway', 'members', 'protocol', 'sim'];

/** The newest modification time (ms) of any source file: dist/ older than this is stale. */
export function newestSource(root) {
  let newest = 0;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  for (const d of SOURCE_DIRS) walk(join(root, d));
  return newest;
}
