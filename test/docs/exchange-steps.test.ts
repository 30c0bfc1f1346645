import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** The step chains "Consumer (…): `a → b → …`" and "Provider (…): `…`" in the architecture's flow of one message. */
function documentedSteps(): Record<'Consumer' | 'Provider', string[]> {
  const doc = read('docs/architecture.md');
  const flow = doc.slice(doc.indexOf('## Flow of one message'), doc.indexOf('\n## ', doc.indexOf('## Flow of one message') + 1));
  const chain = (side: string) => {
    const match = new RegExp(`^${side} \\([^\\n]*\\): \`([^\`]+)\`$`, 'm').exec(flow);
    if (!match) throw new Error(`docs/architecture.md's flow has no ${side} step chain`);
    return match[1]!.split('→').map((name) => name.trim());
  };
  return { Consumer: chain('Consumer'), Provider: chain('Provider') };
}

/** The source of every module in a folder, by file name. */
function sources(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(join(ROOT, dir))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => [f, read(join(dir, f))]),
  );
}

/** The body of `function name` in `source`, up to the next top-level declaration. */
function bodyOf(source: string, name: string): string {
  const start = source.search(new RegExp(`^(export )?(async )?function ${name}\\(`, 'm'));
  if (start < 0) throw new Error(`no function ${name}`);
  const end = source.indexOf('\n}\n', start);
  return source.slice(start, end);
}

describe.each([
  ['Consumer', 'gateway/consumer', 'consume'],
  ['Provider', 'gateway/provider', 'provide'],
] as const)('%s steps in docs/architecture.md', (side, dir, runner) => {
  const steps = documentedSteps()[side];
  const files = sources(dir);

  it('name at least the steps the issue lists', () => {
    expect(steps.length).toBeGreaterThanOrEqual(8);
  });

  it.each(steps)(`%s is a function in ${dir}/, the one server.ts calls`, (step) => {
    const server = files['server.ts']!;
    const declares = (source: string) => new RegExp(`^export (async )?function ${step}\\(`, 'm').test(source);
    // Declared in server.ts, or imported by name from a sibling module that declares it.
    const from = new RegExp(`^import \\{[^}]*\\b${step}\\b[^}]*\\} from '\\./([a-z-]+)\\.js';$`, 'm').exec(server)?.[1];
    const file = declares(server) ? 'server.ts' : `${from}.ts`;
    expect(files[file], `${step} is neither declared in server.ts nor imported from a module of ${dir}`).toBeDefined();
    expect(declares(files[file]!)).toBe(true);
  });

  it(`are called in that order by ${runner}() in server.ts`, () => {
    const body = bodyOf(files['server.ts']!, runner);
    const positions = steps.map((step) => body.search(new RegExp(`\\b${step}\\(`)));
    expect(positions.every((p) => p > 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });
});
