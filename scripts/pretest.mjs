#!/usr/bin/env node
// `npm test`'s set-up step (run as `pretest`): the tests check our output with real tools, so
// before vitest starts this finds which are missing and names the Debian packages that bring
// them. As root with apt-get (CI, containers) it installs them and checks again; otherwise it
// prints the one command to run and stops, unless CAMDX_ALLOW_MISSING_TOOLS=1 (then the tests
// needing a missing tool are named skips). Plain Node, no build, well under 2 s.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, realpathSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Each tool the tests drive, and the Debian package that installs it (order: the printed line's). */
export const TOOLS = [
  { tool: 'openssl', package: 'openssl' },
  { tool: 'xmlsec1', package: 'xmlsec1' },
  { tool: 'promtool', package: 'prometheus' },
  { tool: 'chromium', package: 'chromium' },
  { tool: 'docker-compose', package: 'docker-compose' },
];
/** Khmer OS: the font MOI's sample ID cards are printed in (members/moi/fonts.ts). */
export const KHMER_FONT = { file: 'KhmerOS.ttf', package: 'fonts-khmeros' };
const FONT_DIR = process.env.CAMDX_KHMER_FONT_DIR ?? '/usr/share/fonts/truetype/khmeros';

function onPath(tool) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/** The Debian packages still missing, in the order of TOOLS, the font last. */
export function missingPackages() {
  const missing = TOOLS.filter((t) => !onPath(t.tool)).map((t) => t.package);
  if (!existsSync(join(FONT_DIR, KHMER_FONT.file))) missing.push(KHMER_FONT.package);
  return missing;
}

function install(packages) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  process.stderr.write(`pretest: installing ${packages.join(' ')} (apt-get, as root)\n`);
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', '--no-install-recommends', ...packages],
  ]) {
    const res = spawnSync('apt-get', args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
    if (res.status !== 0) return `apt-get ${args[0]} failed (${res.error?.message ?? `exit ${res.status}`})`;
  }
  return undefined;
}

function main() {
  let missing = missingPackages();
  if (missing.length === 0) return 0;
  const line = `apt-get install -y ${missing.join(' ')}`;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && onPath('apt-get')) {
    const failure = install(missing);
    missing = missingPackages();
    if (missing.length === 0) return 0;
    process.stderr.write(`pretest: ${failure ?? 'installed, but still missing'}: ${missing.join(' ')}\n`);
    process.stdout.write(`apt-get install -y ${missing.join(' ')}\n`);
    return 1;
  }
  process.stdout.write(`${line}\n`);
  if (process.env.CAMDX_ALLOW_MISSING_TOOLS === '1' && process.env.CI !== 'true') {
    process.stderr.write('pretest: CAMDX_ALLOW_MISSING_TOOLS=1: the tests that need these are skipped, each named\n');
    return 0;
  }
  process.stderr.write('pretest: the tests check our output with these real tools; run the line above (as root), then npm test again\n');
  return 1;
}

// Run as a script (not imported): compared as real paths, so a checkout under a symlink or a path
// with spaces still runs the check instead of silently skipping it.
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) process.exit(main());
