/** One sample of the Prometheus text exposition format. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,)?/;

const unescape = (v: string) => v.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));

/**
 * Reads the samples named in `wanted` from a Prometheus text exposition (version 0.0.4).
 * The text comes from another process, so malformed lines are skipped rather than trusted,
 * and no more than `maxSamples` are kept.
 */
export function parseSamples(text: string, wanted: ReadonlySet<string>, maxSamples = 10_000): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const name = NAME.exec(line)?.[0];
    if (!name || !wanted.has(name)) continue;
    let rest = line.slice(name.length);
    const labels: Record<string, string> = {};
    if (rest.startsWith('{')) {
      rest = rest.slice(1);
      let ok = false;
      for (;;) {
        const close = /^\s*}/.exec(rest);
        if (close) {
          rest = rest.slice(close[0].length);
          ok = true;
          break;
        }
        const label = LABEL.exec(rest);
        if (!label) break;
        labels[label[1]!] = unescape(label[2]!);
        rest = rest.slice(label[0].length);
        if (!label[3] && !/^\s*}/.test(rest)) break;
      }
      if (!ok) continue;
    }
    const valueText = rest.trim().split(/\s+/, 1)[0] ?? '';
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText);
    if (valueText === '' || (Number.isNaN(value) && valueText !== 'NaN')) continue;
    out.push({ name, labels, value });
    if (out.length >= maxSamples) break;
  }
  return out;
}
