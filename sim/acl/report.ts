import { describeCall, type AclCase } from './matrix.js';
import type { CaseResult } from './runner.js';

/** The results of a run as people (an aligned table), scripts (JSON) and CI (JUnit XML) read them. */

export interface Summary {
  readonly cases: number;
  readonly passed: number;
  readonly failed: number;
}

export function summarise(results: readonly CaseResult[]): Summary {
  const passed = results.filter((r) => r.passed).length;
  return { cases: results.length, passed, failed: results.length - passed };
}

export const summaryLine = (s: Summary) => `${s.cases} case${s.cases === 1 ? '' : 's'}: ${s.passed} passed, ${s.failed} failed`;

/** What the gateway said, short: `HTTP 500 Server.ServerProxy.AccessDenied`, `HTTP 200`, or `no answer`. */
export function answerOf(r: CaseResult): string {
  if (r.status === undefined) return 'no answer';
  return r.errorType ? `HTTP ${r.status} ${r.errorType}` : `HTTP ${r.status}`;
}

/** The call, and the case's own name when it has one. */
function label(c: AclCase): string {
  const call = describeCall(c.client, c.method, c.service, c.path);
  return c.name === call ? call : `${c.name}: ${call}`;
}

/** Matrix text and gateway messages end up on a terminal: no control characters. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const oneLine = (s: string) => s.replace(/[\u0000-\u001f\u007f]+/g, ' ');

/**
 * An aligned table in matrix order, then each failure with the gateway's message, then the
 * summary line. The long, variable column (the call) goes last so the others stay aligned.
 */
export function formatTable(results: readonly CaseResult[]): string {
  const header = ['#', 'expect', 'got', 'result', 'answer', 'case'];
  const rows = results.map((r, i) => [String(i + 1), r.case.expect, r.got, r.passed ? 'pass' : 'FAIL', answerOf(r), oneLine(label(r.case))]);
  const widths = header.map((h, col) => Math.max(h.length, ...rows.map((row) => row[col]!.length)));
  const line = (cells: string[]) => cells.map((cell, col) => (col === 0 ? cell.padStart(widths[0]!) : col === cells.length - 1 ? cell : cell.padEnd(widths[col]!))).join('  ');
  const out = [line(header), ...rows.map(line)];
  const failures = results.map((r, i) => ({ r, n: i + 1 })).filter(({ r }) => !r.passed);
  if (failures.length) {
    out.push('', 'failures:');
    for (const { r, n } of failures) out.push(`  #${n} ${oneLine(label(r.case))}`, `      ${oneLine(mismatch(r))}`);
  }
  out.push('', summaryLine(summarise(results)));
  return `${out.join('\n')}\n`;
}

/** `expected deny, got allow (HTTP 200)`, with the X-Road error's type and message when there is one. */
export function mismatch(r: CaseResult): string {
  const detail = r.errorType ? `${answerOf(r)}: ${r.message ?? ''}` : r.status === undefined ? (r.message ?? 'no answer') : answerOf(r);
  return `expected ${r.case.expect}, got ${r.got} (${detail})`;
}

/** Machine output: the summary and one object per case, in matrix order. */
export function formatJson(results: readonly CaseResult[]): string {
  return `${JSON.stringify(
    {
      summary: summarise(results),
      results: results.map((r, i) => ({
        n: i + 1,
        name: r.case.name,
        client: r.case.client,
        service: r.case.service,
        method: r.case.method,
        path: r.case.path,
        expect: r.case.expect,
        got: r.got,
        passed: r.passed,
        status: r.status ?? null,
        errorType: r.errorType ?? null,
        message: r.message ?? null,
        durationMs: r.durationMs,
      })),
    },
    null,
    2,
  )}\n`;
}

// XML 1.0 allows only these characters, even escaped; anything else (NUL, lone surrogates, …)
// becomes U+FFFD so one odd byte in a gateway message cannot make the whole report unreadable.
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function xmlText(s: string): string {
  return s.replace(NOT_XML_CHAR, '\uFFFD').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');
}

/** Attribute values also lose raw whitespace to normalisation, so tabs and newlines are escaped too. */
export function xmlAttr(s: string): string {
  return xmlText(s).replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/\t/g, '&#9;').replace(/\n/g, '&#10;');
}

const attrs = (a: Record<string, string | number>) =>
  Object.entries(a)
    .map(([k, v]) => ` ${k}="${xmlAttr(String(v))}"`)
    .join('');
const seconds = (ms: number) => (ms / 1000).toFixed(3);

/**
 * JUnit XML as CI systems read it: one testsuite, one testcase per case (classname = the client
 * subsystem, name = the case's name), and a `<failure>` with expected vs got on each mismatch.
 */
export function formatJUnit(results: readonly CaseResult[], suiteName: string, run: { startedAt?: Date; durationMs?: number } = {}): string {
  const s = summarise(results);
  const timestamp = run.startedAt ?? new Date();
  // The run's wall time when known: cases overlap, so their sum overstates it.
  const time = seconds(run.durationMs ?? results.reduce((t, r) => t + r.durationMs, 0));
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(`<testsuites${attrs({ name: 'camdx acl-test', tests: s.cases, failures: s.failed, errors: 0, time })}>`);
  out.push(`  <testsuite${attrs({ name: suiteName, tests: s.cases, failures: s.failed, errors: 0, skipped: 0, time, timestamp: timestamp.toISOString().replace(/\.\d{3}Z$/, 'Z') })}>`);
  for (const r of results) {
    const open = `    <testcase${attrs({ classname: r.case.client, name: r.case.name, time: seconds(r.durationMs) })}`;
    if (r.passed) {
      out.push(`${open}/>`);
      continue;
    }
    const body = [
      `call: ${describeCall(r.case.client, r.case.method, r.case.service, r.case.path)}`,
      `expected: ${r.case.expect}`,
      `got: ${r.got} (${answerOf(r)})`,
      ...(r.message ? [`message: ${r.message}`] : []),
    ].join('\n');
    out.push(`${open}>`);
    out.push(`      <failure${attrs({ message: `expected ${r.case.expect}, got ${r.got}`, type: r.errorType ?? (r.got === 'error' ? 'NoAnswer' : 'AccessMismatch') })}>${xmlText(body)}</failure>`);
    out.push('    </testcase>');
  }
  out.push('  </testsuite>', '</testsuites>');
  return `${out.join('\n')}\n`;
}
