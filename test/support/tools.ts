import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { TestOptions } from 'vitest';

/**
 * The real programs (and the font) some tests check our output with. `npm test`'s pretest step
 * (scripts/pretest.mjs) installs them as root and otherwise names the `apt-get` line; with
 * CAMDX_ALLOW_MISSING_TOOLS=1 it lets the run go on, and each test needing a missing one is a
 * named skip here — or, with CI=true, a failure, so CI can never pass without them.
 */
export type Tool = 'openssl' | 'xmlsec1' | 'promtool' | 'prometheus' | 'chromium' | 'docker-compose' | 'khmer-font';

/** The Debian package that brings each tool (test/scripts/pretest.test.ts checks the pretest agrees). */
export const DEBIAN_PACKAGE: Readonly<Record<Tool, string>> = {
  openssl: 'openssl',
  xmlsec1: 'xmlsec1',
  promtool: 'prometheus',
  prometheus: 'prometheus',
  chromium: 'chromium',
  'docker-compose': 'docker-compose',
  'khmer-font': 'fonts-khmeros',
};

declare module 'vitest' {
  interface TaskMeta {
    /** `missing:<tool>` → its Debian package, on a suite or test skipped for it (read by test/support/reporter.ts). */
    [key: `missing:${string}`]: string;
  }
}

/** The executable `name` on PATH, or undefined. */
export function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** Khmer OS, the font MOI's sample cards are printed in (the pretest looks in the same place). */
export const KHMER_FONT = join(process.env.CAMDX_KHMER_FONT_DIR ?? '/usr/share/fonts/truetype/khmeros', 'KhmerOS.ttf');

/** Debian's chromium, which playwright-core drives (CHROMIUM_PATH overrides it), or undefined. */
export function chromiumPath(): string | undefined {
  const configured = process.env.CHROMIUM_PATH;
  if (configured) return existsSync(configured) ? configured : undefined;
  return onPath('chromium');
}

function isInstalled(tool: Tool): boolean {
  if (tool === 'khmer-font') return existsSync(KHMER_FONT);
  if (tool === 'chromium') return chromiumPath() !== undefined;
  return onPath(tool) !== undefined;
}

const isCi = () => process.env.CI === 'true';

/**
 * Options for `describe(name, requireTool('xmlsec1'), fn)` or `it(name, requireTool(…), fn)`:
 * with every tool installed, nothing; with one missing, the block is skipped (its hooks do not
 * run) and tagged with the tool for the reporter. With CI=true a missing tool throws while the
 * file is collected: the file fails, naming the tool and its package.
 */
export function requireTool(...tools: Tool[]): TestOptions {
  const missing = tools.filter((tool) => !isInstalled(tool));
  if (missing.length === 0) return {};
  const packages = [...new Set(missing.map((tool) => DEBIAN_PACKAGE[tool]))];
  if (isCi()) {
    throw new Error(`${missing.join(', ')} missing (Debian package ${packages.join(', ')}); with CI=true a missing tool fails the tests: apt-get install -y ${packages.join(' ')}`);
  }
  return { skip: true, meta: Object.fromEntries(missing.map((tool) => [`missing:${tool}`, DEBIAN_PACKAGE[tool]])) };
}
