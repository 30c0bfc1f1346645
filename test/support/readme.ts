import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const README = join(import.meta.dirname, '../../README.md');

/**
 * Every command line of the README's shell code blocks, continuation lines joined and comments
 * after `  # ` dropped, so a test runs exactly what a newcomer would paste.
 */
export function readmeCommands(file = README): string[] {
  const lines: string[] = [];
  let inShell = false;
  let pending = '';
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line.startsWith('```')) {
      inShell = !inShell && /^```(sh|bash|shell)\s*$/.test(line);
      pending = '';
      continue;
    }
    if (!inShell || line === '' || line.startsWith('#')) continue;
    const joined = pending + line;
    if (joined.endsWith('\\')) {
      pending = `${joined.slice(0, -1).trimEnd()} `;
      continue;
    }
    pending = '';
    lines.push(joined.replace(/\s{2,}# .*$/, '').trim());
  }
  return lines;
}

/** The README's one command line that `pattern` picks out; throws naming the pattern when there is none or several. */
export function readmeCommand(pattern: RegExp, file = README): string {
  const found = readmeCommands(file).filter((l) => pattern.test(l));
  if (found.length !== 1) throw new Error(`README: ${found.length} command lines match ${pattern}${found.length ? `:\n${found.join('\n')}` : ''}`);
  return found[0]!;
}

/** The README's consecutive command lines from the one `first` picks out to the one `last` picks out. */
export function readmeSteps(first: RegExp, last: RegExp, file = README): string[] {
  const all = readmeCommands(file);
  const from = all.findIndex((l) => first.test(l));
  const to = all.findIndex((l, i) => i >= from && last.test(l));
  if (from < 0 || to < 0) throw new Error(`README: no command lines from ${first} to ${last}`);
  return all.slice(from, to + 1);
}
