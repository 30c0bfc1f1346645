import type { GatewayBenchResult, LoadRow } from './gateway.js';

/**
 * The gateway's performance figures against their pass lines and goals (issue 22): each row a
 * figure of this run, its spread over rounds, and whether it meets each line. The lines are
 * stated against the reference chain measured in the same run wherever they can be, so a slower
 * or faster machine moves both sides.
 */

export interface VerdictRow {
  readonly figure: string;
  /** The measured value(s), as printed. */
  readonly value: string;
  readonly spread: string;
  readonly pass: string;
  readonly goal: string;
  /** Undefined where a row has no line (a figure reported for context). */
  readonly passMet?: boolean;
  readonly goalMet?: boolean;
}

/** Idle-to-peak growth of a gateway's RSS during the large body that still counts as flat memory. */
export const FLAT_MEMORY_MB = 64;

const ms = (n: number) => `${n.toFixed(n < 10 ? 1 : 0)}`;
const two = (n: number) => n.toFixed(2);
const range = (s: { min: number; max: number }, f: (n: number) => string) => `${f(s.min)}–${f(s.max)}`;

function gatewayRow(result: GatewayBenchResult, bodyBytes: number): LoadRow {
  return result.rows.find((r) => r.target === 'gateways' && r.bodyBytes === bodyBytes)!;
}

function latencyRows(result: GatewayBenchResult): VerdictRow[] {
  return result.latency.map((l) => {
    const lined = l.connections === 1;
    const p50 = l.addedP50Ms.median;
    const p99 = l.addedP99Ms.median;
    return {
      figure: `added latency (gateways − reference), ${l.connections} connection${l.connections === 1 ? '' : 's'}, ${l.bodyBytes / 1024} KiB, p50 / p99`,
      value: `${ms(p50)} / ${ms(p99)} ms`,
      spread: `${range(l.addedP50Ms, ms)} / ${range(l.addedP99Ms, ms)}`,
      pass: lined ? '≤ 2 / ≤ 8 ms' : '—',
      goal: lined ? '< 1 / < 3 ms' : '—',
      ...(lined ? { passMet: p50 <= 2 && p99 <= 8, goalMet: p50 < 1 && p99 < 3 } : {}),
    };
  });
}

function throughputRow(result: GatewayBenchResult, bodyBytes: number, pass: number, goal: number): VerdictRow {
  const r = gatewayRow(result, bodyBytes).ratio!;
  return {
    figure: `throughput ratio to the reference, ${result.connections} connections, ${bodyBytes / 1024} KiB`,
    value: two(r.median),
    spread: range(r, two),
    pass: `≥ ${two(pass)}`,
    goal: `≥ ${two(goal)}`,
    passMet: r.median >= pass,
    goalMet: r.median >= goal,
  };
}

function cpuRow(result: GatewayBenchResult): VerdictRow {
  const ours = gatewayRow(result, 1024);
  const ref = result.rows.find((r) => r.target === 'reference' && r.bodyBytes === 1024)!;
  const perRound = ours.rate.rounds.map((r) => Math.max(r.cpuMsPerRequest?.front ?? 0, r.cpuMsPerRequest?.back ?? 0));
  const worst = Math.max(ours.cpuMs.front, ours.cpuMs.back);
  return {
    figure: 'CPU per exchange per gateway, 1 KiB (consumer / provider; reference front / back)',
    value: `${two(ours.cpuMs.front)} / ${two(ours.cpuMs.back)} ms (reference ${two(ref.cpuMs.front)} / ${two(ref.cpuMs.back)})`,
    spread: range({ min: Math.min(...perRound), max: Math.max(...perRound) }, two),
    pass: '≤ 0.60 ms',
    goal: '≤ 0.40 ms',
    passMet: worst <= 0.6,
    goalMet: worst <= 0.4,
  };
}

function memoryRows(result: GatewayBenchResult): VerdictRow[] {
  const { idle, peak } = result.memory;
  const worst = (m: { consumer: number; provider: number }) => Math.max(m.consumer, m.provider);
  const pair = (m: { consumer: number; provider: number }) => `${m.consumer.toFixed(0)} / ${m.provider.toFixed(0)}`;
  const peakLine = worst(peak.reference.rssMb) + 30;
  return [
    {
      figure: 'peak RSS per gateway under load (consumer / provider; PSS)',
      value: `${pair(peak.gateways.rssMb)} MB (PSS ${pair(peak.gateways.pssMb)}; reference ${pair(peak.reference.rssMb)})`,
      spread: '—',
      pass: `≤ reference's peak + 30 MB = ${peakLine.toFixed(0)} MB`,
      goal: '< 120 MB',
      passMet: worst(peak.gateways.rssMb) <= peakLine,
      goalMet: worst(peak.gateways.rssMb) < 120,
    },
    {
      figure: 'idle RSS per gateway (consumer / provider; PSS)',
      value: `${pair(idle.gateways.rssMb)} MB (PSS ${pair(idle.gateways.pssMb)}; reference ${pair(idle.reference.rssMb)})`,
      spread: '—',
      pass: '≤ 75 MB',
      goal: '< 60 MB',
      passMet: worst(idle.gateways.rssMb) <= 75,
      goalMet: worst(idle.gateways.rssMb) < 60,
    },
  ];
}

function largeRow(result: GatewayBenchResult): VerdictRow | undefined {
  const ours = result.large.find((l) => l.target === 'gateways');
  const ref = result.large.find((l) => l.target === 'reference');
  if (!ours || !ref) return undefined;
  const ratio = ours.mbPerSecond / ref.mbPerSecond;
  const growth = Math.max(ours.peakRssMb.consumer - ours.idleRssMb.consumer, ours.peakRssMb.provider - ours.idleRssMb.provider);
  const flat = growth < FLAT_MEMORY_MB;
  return {
    figure: `${(ours.bytes / 2 ** 30).toFixed(ours.bytes >= 2 ** 30 ? 0 : 2)} GiB body, MB/s against the reference (flat memory: peak − idle RSS < ${FLAT_MEMORY_MB} MB)`,
    value: `${ours.mbPerSecond.toFixed(0)} vs ${ref.mbPerSecond.toFixed(0)} (${two(ratio)}), +${growth.toFixed(0)} MB`,
    spread: '—',
    pass: '≥ 0.45, flat',
    goal: '≥ 0.60, flat',
    passMet: ratio >= 0.45 && flat,
    goalMet: ratio >= 0.6 && flat,
  };
}

export function verdict(result: GatewayBenchResult): VerdictRow[] {
  const large = largeRow(result);
  return [...latencyRows(result), throughputRow(result, 1024, 0.45, 0.7), throughputRow(result, 64 * 1024, 0.65, 0.85), cpuRow(result), ...memoryRows(result), ...(large ? [large] : [])];
}

const said = (met: boolean | undefined) => (met === undefined ? '' : met ? 'met' : 'not met');

/** The verdict as a table: figure, value, spread, pass line and goal, each met or not. */
export function verdictTable(rows: readonly VerdictRow[]): string {
  const lines = rows.map((r) => `  ${r.figure}\n      ${r.value}   spread ${r.spread}   pass ${r.pass}: ${said(r.passMet) || '—'}   goal ${r.goal}: ${said(r.goalMet) || '—'}`);
  return `\nAgainst the pass lines and goals (issue 22):\n${lines.join('\n')}\n`;
}
