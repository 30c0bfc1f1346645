import { recovered, type FaultResult } from './faults.js';
import type { Attempt } from './load.js';
import type { Crash } from './network.js';
import type { Matching } from './records.js';
import type { Cut, RawAnswer } from './wire.js';

/** Everything one chaos run measured; `renderReport` prints it, `failures` judges it. */
export interface ChaosSummary {
  readonly mode: 'short' | 'full';
  readonly seed: number;
  readonly seconds: number;
  readonly attempts: readonly Attempt[];
  readonly fuzz: ReadonlyArray<{ readonly mutation: string; readonly clientMistake: boolean; readonly answer: RawAnswer }>;
  readonly truncated: readonly RawAnswer[];
  readonly slowHeaders: readonly Cut[];
  readonly hostileTls: ReadonlyArray<{ readonly name: string; readonly cut: Cut }>;
  /** A slow or hostile connection still open after this long is a hang. */
  readonly cutBoundMs: number;
  readonly crashes: readonly Crash[];
  readonly matching: Matching;
  readonly records: { readonly consumer: number; readonly provider: number };
  readonly integrity: ReadonlyArray<{ readonly gateway: string; readonly result: string }>;
  readonly rss: ReadonlyArray<{ readonly gateway: string; readonly beforeMb: number | undefined; readonly afterMb: number | undefined }>;
  readonly faults: readonly FaultResult[];
}

const n = (v: number) => v.toLocaleString('en-US');
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** "200: 1,234; 500 Server.ClientProxy.NetworkError: 5; no answer (ECONNREFUSED): 9", most frequent first. */
export function countBy<T>(items: readonly T[], key: (item: T) => string): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return (
    [...counts]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([k, v]) => `${k}: ${n(v)}`)
      .join('; ') || 'none'
  );
}

const outcome = (a: Attempt) => (a.hang ? 'hang' : a.status === null ? `no answer (${a.error})` : a.type ? `${a.status} ${a.type}` : String(a.status));
const rawOutcome = (a: RawAnswer) => (a.hang ? 'hang' : a.status === null ? (a.closed ? 'closed' : 'abandoned') : a.type ? `${a.status} ${a.type}` : String(a.status));
/** A client mistake answered as the gateway's (or its peer's) own failure. */
const blamesServer = (a: RawAnswer) => a.status !== null && a.status >= 500 && (a.type ?? '').startsWith('Server.');

/** Each reason the run failed; empty when it passed. */
export function failures(r: ChaosSummary): string[] {
  const out: string[] = [];
  for (const c of r.crashes) out.push(`${c.part} exited by itself (${c.signal ?? `code ${c.code}`})`);
  const hangs = r.attempts.filter((a) => a.hang).length + r.fuzz.filter((f) => f.answer.hang).length + r.truncated.filter((t) => t.hang).length;
  if (hangs) out.push(`${hangs} calls got no answer within 10 s`);
  const uncut = r.slowHeaders.filter((c) => !c.cut).length + r.hostileTls.filter((h) => !h.cut.cut).length;
  if (uncut) out.push(`${uncut} slow or hostile connections were still open after ${s(r.cutBoundMs)}`);
  const served = r.hostileTls.filter((h) => h.cut.served);
  if (served.length) out.push(`hostile TLS served: ${[...new Set(served.map((h) => h.name))].join(', ')}`);
  if (r.matching.lost.length) out.push(`${r.matching.lost.length} answered calls without a record on a side (first: ${r.matching.lost[0]})`);
  if (r.matching.duplicated.length) out.push(`${r.matching.duplicated.length} ids recorded more than once on a side (first: ${r.matching.duplicated[0]})`);
  const blamed = r.fuzz.filter((f) => f.clientMistake && blamesServer(f.answer));
  if (blamed.length) out.push(`${blamed.length} client mistakes answered with a 5xx Server.* type: ${countBy(blamed, (f) => `${f.mutation} → ${rawOutcome(f.answer)}`)}`);
  for (const i of r.integrity) if (i.result !== 'ok') out.push(`message log of ${i.gateway}: ${i.result}`);
  for (const f of r.faults) if (!recovered(f)) out.push(`${f.name}: ${f.recoveryMs === null ? 'no answered call' : `recovered after ${s(f.recoveryMs)}`}, bound ${s(f.boundMs)}`);
  return out;
}

/** The one table the run prints. */
export function renderReport(r: ChaosSummary): string {
  const answered = r.attempts.filter((a) => a.answered);
  const mistakes = r.fuzz.filter((f) => f.clientMistake);
  const rows: Array<[string, string]> = [
    ['run', `${r.mode}, seed ${r.seed}, ${s(r.seconds * 1000)}`],
    ['load: attempts', `${n(r.attempts.length)} (${n(answered.length)} answered with X-Road-Request-Id)`],
    ['load: by status and X-Road type', countBy(r.attempts, outcome)],
    ['fuzz: requests', `${n(r.fuzz.length)} (${n(mistakes.length)} client mistakes)`],
    ['fuzz: client mistakes by answer', countBy(mistakes, (f) => rawOutcome(f.answer))],
    [
      'fuzz: others by answer',
      countBy(
        r.fuzz.filter((f) => !f.clientMistake),
        (f) => rawOutcome(f.answer),
      ),
    ],
    ['fuzz: client mistakes as 5xx Server.*', n(mistakes.filter((f) => blamesServer(f.answer)).length)],
    [
      'fuzz: client mistakes served (2xx)',
      countBy(
        mistakes.filter((f) => f.answer.status !== null && f.answer.status < 300),
        (f) => f.mutation,
      ),
    ],
    ['truncated bodies', `${n(r.truncated.length)}: ${countBy(r.truncated, rawOutcome)}`],
    ['slow headers', `${n(r.slowHeaders.length)} connections, ${n(r.slowHeaders.filter((c) => c.cut).length)} cut, the last after ${s(Math.max(0, ...r.slowHeaders.map((c) => c.ms)))}`],
    [
      'hostile TLS at a peer port',
      `${n(r.hostileTls.length)} connections, ${n(r.hostileTls.filter((h) => h.cut.cut).length)} closed by the gateway, ${n(r.hostileTls.filter((h) => h.cut.served).length)} served`,
    ],
    ['crashes', r.crashes.length ? r.crashes.map((c) => `${c.part} (${c.signal ?? c.code})`).join(', ') : '0'],
    ['hangs (> 10 s)', n(r.attempts.filter((a) => a.hang).length + r.fuzz.filter((f) => f.answer.hang).length + r.truncated.filter((t) => t.hang).length)],
    ['records: consumer / provider', `${n(r.records.consumer)} / ${n(r.records.provider)}`],
    ['records: answered calls matched', `${n(r.matching.matched)} of ${n(answered.length)}`],
    ['records: lost / duplicated', `${n(r.matching.lost.length)} / ${n(r.matching.duplicated.length)}`],
    ['records: in doubt (kill window / other)', `${n(r.matching.inDoubtInKillWindow)} / ${n(r.matching.inDoubtOther.length)}`],
    ['integrity_check', r.integrity.map((i) => `${i.gateway} ${i.result}`).join(', ')],
    ['RSS before → after', r.rss.map((g) => `${g.gateway} ${g.beforeMb?.toFixed(0) ?? '?'} → ${g.afterMb?.toFixed(0) ?? '?'} MB`).join(', ')],
    ...r.faults.map((f): [string, string] => [`recovery: ${f.name}`, `${f.recoveryMs === null ? 'none' : s(f.recoveryMs)} (bound ${s(f.boundMs)})${recovered(f) ? '' : '  FAIL'}`]),
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const failed = failures(r);
  return [...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`), '', failed.length ? `chaos: FAILED\n${failed.map((f) => `  - ${f}`).join('\n')}` : 'chaos: passed'].join('\n');
}
