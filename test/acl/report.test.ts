import { describe, expect, it } from 'vitest';
import { checkMatrix } from '../../sim/acl/matrix.js';
import { formatJson, formatJUnit, formatTable, xmlAttr, xmlText } from '../../sim/acl/report.js';
import { ACCESS_DENIED, judge, type Answer } from '../../sim/acl/runner.js';
import { parseJUnit } from './junit.js';

/**
 * The verdict rules and the three output formats, on answers of the shapes the gateways give
 * (the integration test, test/acl/acl-test.test.ts, gets the same shapes from real gateways).
 */

const CLIENT = 'CAMDX/COM/DEMOBANK/ONBOARDING';
const SERVICE = 'CAMDX/GOV/MOI/KYC/kyc';
const { cases } = checkMatrix({
  cases: [
    { client: CLIENT, service: SERVICE, method: 'POST', path: '/api/2.0/kyc/info', expect: 'allow' },
    { client: CLIENT, service: SERVICE, method: 'POST', path: '/api/2.0/kyc/ocr-idcard', expect: 'deny', name: 'OCR is <not> for "banks" & co\u0000' },
    { client: CLIENT, service: SERVICE, method: 'GET', path: '/api/2.0/kyc/info', expect: 'deny' },
    { client: CLIENT, service: `${SERVICE}x`, method: 'POST', path: '/a', expect: 'allow' },
    { client: CLIENT, service: SERVICE, method: 'POST', path: '/b', expect: 'deny' },
  ],
});
const answers: Answer[] = [
  { status: 422 }, // the provider's own refusal of the {} body: access control let it through
  { status: 200 },
  { status: 500, errorType: ACCESS_DENIED, message: `${CLIENT} has no access right to GET /api/2.0/kyc/info` },
  { status: 400, errorType: 'Client.UnknownService', message: `service ${SERVICE}x is not registered` },
  { failure: 'cannot reach the consumer gateway http://127.0.0.1:8080: ECONNREFUSED' },
];
const results = cases.map((c, i) => judge(c, answers[i]!, 10 * (i + 1)));

describe('judge', () => {
  it('allow = any non-X-Road answer, deny = AccessDenied, anything else = error that never passes', () => {
    expect(results.map((r) => [r.got, r.passed])).toEqual([
      ['allow', true],
      ['allow', false],
      ['deny', true],
      ['error', false],
      ['error', false],
    ]);
    // Expecting deny does not make an unknown service or a dead gateway pass.
    expect(judge(cases[4]!, { status: 400, errorType: 'Client.UnknownService', message: 'x' }, 1).passed).toBe(false);
  });
});

describe('formatTable', () => {
  const table = formatTable(results);
  const lines = table.split('\n');

  it('aligns the columns, marks failures, and ends with the summary line', () => {
    expect(lines[0]).toMatch(/^# {2}expect {2}got {4}result {2}answer {2,}case$/);
    const caseColumn = lines[0]!.indexOf('case');
    for (const line of lines.slice(1, 6)) expect([line.slice(caseColumn - 2, caseColumn), line[caseColumn]]).toEqual(['  ', expect.stringMatching(/\S/)]);
    expect(lines[1]).toMatch(/^1 {2}allow {3}allow {2}pass {4}HTTP 422 /);
    expect(lines[2]).toMatch(/^2 {2}deny {4}allow {2}FAIL {4}HTTP 200 +OCR is <not> for "banks" & co : CAMDX/);
    expect(lines[3]).toContain('HTTP 500 Server.ServerProxy.AccessDenied');
    expect(lines[5]).toMatch(/error {2}FAIL {4}no answer/);
    expect(table.trimEnd().split('\n').at(-1)).toBe('5 cases: 2 passed, 3 failed');
  });

  it('lists each failure with what was expected and what the gateway said', () => {
    const failures = table.slice(table.indexOf('failures:'));
    expect(failures).toContain('#2 OCR is');
    expect(failures).toContain('expected deny, got allow (HTTP 200)');
    expect(failures).toContain(`expected allow, got error (HTTP 400 Client.UnknownService: service ${SERVICE}x is not registered)`);
    expect(failures).toContain('expected deny, got error (cannot reach the consumer gateway http://127.0.0.1:8080: ECONNREFUSED)');
    expect(failures).not.toContain('#1 ');
  });
});

describe('formatJson', () => {
  it('gives the summary and every case in matrix order', () => {
    const json = JSON.parse(formatJson(results)) as { summary: unknown; results: Array<Record<string, unknown>> };
    expect(json.summary).toEqual({ cases: 5, passed: 2, failed: 3 });
    expect(json.results.map((r) => r.n)).toEqual([1, 2, 3, 4, 5]);
    expect(json.results[3]).toMatchObject({ client: CLIENT, service: `${SERVICE}x`, method: 'POST', path: '/a', expect: 'allow', got: 'error', passed: false, status: 400, errorType: 'Client.UnknownService' });
    expect(json.results[4]).toMatchObject({ got: 'error', status: null, errorType: null, message: expect.stringContaining('ECONNREFUSED') });
  });
});

describe('formatJUnit', () => {
  it('writes one testsuite with a testcase per case and a failure carrying expected vs got', () => {
    const report = parseJUnit(formatJUnit(results, 'camdx acl-test m.yaml', { startedAt: new Date('2026-01-02T03:04:05.678Z') }));
    expect(report.suites).toBe(1);
    expect(report.suite).toMatchObject({ name: 'camdx acl-test m.yaml', tests: '5', failures: '3', errors: '0', timestamp: '2026-01-02T03:04:05Z', time: '0.150' });
    expect(report.testcases.map((t) => [t.classname, !!t.failure])).toEqual([
      [CLIENT, false],
      [CLIENT, true],
      [CLIENT, false],
      [CLIENT, true],
      [CLIENT, true],
    ]);
    // Markup characters survive a round trip; NUL (not allowed in XML at all) becomes U+FFFD.
    expect(report.testcases[1]).toMatchObject({ name: 'OCR is <not> for "banks" & co\uFFFD', failure: { message: 'expected deny, got allow', type: 'AccessMismatch' } });
    expect(report.testcases[1]!.failure!.text).toBe(`call: ${CLIENT} → POST ${SERVICE} /api/2.0/kyc/ocr-idcard\nexpected: deny\ngot: allow (HTTP 200)`);
    expect(report.testcases[3]!.failure).toMatchObject({ type: 'Client.UnknownService', text: expect.stringContaining('message: service') });
    expect(report.testcases[4]!.failure).toMatchObject({ message: 'expected deny, got error', type: 'NoAnswer' });
    // With the run's wall time the suite reports it, not the sum of overlapping cases.
    expect(parseJUnit(formatJUnit(results, 'x', { durationMs: 42 })).suite.time).toBe('0.042');
  });

  it('escapes text and attributes, keeping whitespace in attributes and dropping characters XML forbids', () => {
    expect(xmlText('a<b>&c]]>\r')).toBe('a&lt;b&gt;&amp;c]]&gt;&#13;');
    expect(xmlAttr(`"it's"\t\n`)).toBe('&quot;it&apos;s&quot;&#9;&#10;');
    expect(xmlText('\u0001\uD800x\uFFFE😀')).toBe('\uFFFD\uFFFDx\uFFFD😀');
  });
});
