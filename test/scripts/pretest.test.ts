import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { run } from '../support/run.js';
import { tempDir } from '../support/tmp.js';
import { DEBIAN_PACKAGE, type Tool } from '../support/tools.js';

const ROOT = join(import.meta.dirname, '../..');
const PRETEST = join(ROOT, 'scripts/pretest.mjs');
const VITEST = join(ROOT, 'node_modules/vitest/vitest.mjs');
/** What a machine with none of the tools must install, in the pretest's order. */
const ALL_PACKAGES = ['openssl', 'xmlsec1', 'prometheus', 'chromium', 'docker-compose', 'fonts-khmeros'];
const INSTALL_LINE = `apt-get install -y ${ALL_PACKAGES.join(' ')}\n`;
const isRoot = process.getuid?.() === 0;

/**
 * A PATH holding only a link to node (node's own directory holds every tool on Debian, so it is
 * not on it) and an empty font directory: a machine without the tools, though none is removed.
 */
function cutMachine(): { bin: string; fonts: string; env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv; cleanup(): void } {
  const dir = tempDir('camdx-pretest-');
  const bin = join(dir.path, 'bin');
  const fonts = join(dir.path, 'fonts');
  mkdirSync(bin);
  mkdirSync(fonts);
  symlinkSync(process.execPath, join(bin, 'node'));
  // No CI, no CAMDX_ALLOW_MISSING_TOOLS from the outer run: each test sets what it means.
  const env = (extra: NodeJS.ProcessEnv = {}) => ({ PATH: bin, HOME: dir.path, CAMDX_KHMER_FONT_DIR: fonts, ...extra });
  return { bin, fonts, env, cleanup: dir.cleanup };
}

let machine: ReturnType<typeof cutMachine> | undefined;
afterEach(() => machine?.cleanup());
const pretest = (env: NodeJS.ProcessEnv) => run(process.execPath, [PRETEST], { cwd: ROOT, env });
const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');

describe('scripts/pretest.mjs (npm test’s set-up step) with PATH cut to a link to node', () => {
  it('cannot install (not root, or no apt-get on PATH): exits 1 within 2 s, printing the one apt-get line', async () => {
    machine = cutMachine();
    const started = Date.now();
    const res = await pretest(machine.env());
    expect(Date.now() - started).toBeLessThan(2000);
    expect(res.code, res.stderr).toBe(1);
    expect(res.stdout).toBe(INSTALL_LINE);
  });

  it('with CAMDX_ALLOW_MISSING_TOOLS=1 prints the line and goes on; with CI=true it stops whatever the variable says', async () => {
    machine = cutMachine();
    const allowed = await pretest(machine.env({ CAMDX_ALLOW_MISSING_TOOLS: '1' }));
    expect([allowed.code, allowed.stdout]).toEqual([0, INSTALL_LINE]);
    expect(allowed.stderr).toContain('skipped, each named');
    const inCi = await pretest(machine.env({ CAMDX_ALLOW_MISSING_TOOLS: '1', CI: 'true' }));
    expect([inCi.code, inCi.stdout]).toEqual([1, INSTALL_LINE]);
  });

  it('as root with apt-get: runs update, then install -y with the missing packages, checks again and goes on', async (ctx) => {
    if (!isRoot) ctx.skip('needs root: the pretest installs only as root');
    machine = cutMachine();
    const record = join(machine.bin, '..', 'apt-get.calls');
    writeFileSync(join(machine.bin, 'apt-get'), fakeAptGet(record, machine.bin, machine.fonts), { mode: 0o755 });
    const res = await pretest(machine.env());
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toBe('');
    const [update, install, ...more] = readFileSync(record, 'utf8').trim().split('\n').map((line) => line.split(' '));
    expect(more).toEqual([]);
    expect(update!.slice(0, 2)).toEqual(['noninteractive', 'update']);
    expect(install!.slice(0, 2)).toEqual(['noninteractive', 'install']);
    expect(install).toContain('-y');
    expect(install!.slice(2).filter((arg) => !arg.startsWith('-'))).toEqual(ALL_PACKAGES);
    for (const tool of ['openssl', 'xmlsec1', 'promtool', 'chromium', 'docker-compose']) expect(existsSync(join(machine.bin, tool))).toBe(true);
    // Now everything is there: the step says nothing and calls apt-get no more.
    expect((await pretest(machine.env())).code).toBe(0);
    expect(readFileSync(record, 'utf8').trim().split('\n')).toHaveLength(2);
  });
});

/**
 * An `apt-get` that records DEBIAN_FRONTEND and its arguments, and "installs" a package by
 * dropping a do-nothing executable for each of its tools into `bin` (the font into `fonts`). A
 * shell script run with PATH cut to `bin`: so /bin/sh and /bin/chmod by absolute path.
 */
function fakeAptGet(record: string, bin: string, fonts: string): string {
  return `#!/bin/sh
echo "$DEBIAN_FRONTEND $*" >> '${record}'
[ "$1" = install ] || exit 0
tools=
for arg in "$@"; do
  case "$arg" in
    -*|install) ;;
    prometheus) tools="$tools promtool prometheus" ;;
    fonts-khmeros) : > '${fonts}/KhmerOS.ttf' ;;
    *) tools="$tools $arg" ;;
  esac
done
for tool in $tools; do
  printf '#!/bin/sh\\nexit 0\\n' > '${bin}'/"$tool"
  /bin/chmod +x '${bin}'/"$tool"
done
`;
}

describe('a test that needs xmlsec1, on a machine without it (a nested vitest, PATH cut)', () => {
  const xmldsig = (env: NodeJS.ProcessEnv) => run(process.execPath, [VITEST, 'run', 'test/gateway/xmldsig.test.ts'], { cwd: ROOT, env });

  it('is a named, counted skip without CI, and the rest of its file runs', async () => {
    machine = cutMachine();
    const res = await xmldsig(machine.env());
    const out = plain(res.stdout);
    expect(res.code, out + res.stderr).toBe(0);
    expect(out).toMatch(/^ {2}test\/gateway\/xmldsig\.test\.ts > signature documents > a P-256 signature verifies .* — needs xmlsec1 \(Debian package xmlsec1\)$/m);
    expect(out).toMatch(/rogue certificate .* — needs openssl \(Debian package openssl\), xmlsec1 \(Debian package xmlsec1\)$/m);
    expect(out.trimEnd().split('\n').at(-1)).toBe('tests: 4 passed, 0 failed, 5 skipped');
  });

  it('is a failure naming xmlsec1 and its package with CI=true', async () => {
    machine = cutMachine();
    const res = await xmldsig(machine.env({ CI: 'true' }));
    const out = plain(res.stdout + res.stderr);
    expect(res.code).not.toBe(0);
    expect(out).toContain('xmlsec1 missing (Debian package xmlsec1); with CI=true a missing tool fails the tests');
    expect(plain(res.stdout).trimEnd().split('\n').at(-1)).toBe('tests: 0 passed, 1 failed, 0 skipped');
  });
});

describe('requireTool and the pretest', () => {
  it('name the same Debian packages, and the pretest installs every package a test can need', async () => {
    const script = (await import(pathToFileURL(PRETEST).href)) as { TOOLS: Array<{ tool: string; package: string }>; KHMER_FONT: { file: string; package: string } };
    for (const { tool, package: pkg } of script.TOOLS) expect(DEBIAN_PACKAGE[tool as Tool], tool).toBe(pkg);
    expect(DEBIAN_PACKAGE['khmer-font']).toBe(script.KHMER_FONT.package);
    const installed = [...script.TOOLS.map((t) => t.package), script.KHMER_FONT.package];
    expect(installed).toEqual(ALL_PACKAGES);
    expect(new Set([...installed, ...Object.values(DEBIAN_PACKAGE)])).toEqual(new Set(installed));
  });
});
