import type { SerializedError } from 'vitest';
import type { Reporter, TestCase, TestModule, TestSuite, Vitest } from 'vitest/node';

/** What a run did. A file that fails to load, a failed hook or an unhandled error is one failure. */
interface Tally {
  passed: number;
  failed: number;
  /** Each skipped test with the reason it was skipped. */
  skipped: Array<{ test: string; why: string }>;
}

/** Debian packages a test or its suites were skipped for (`missing:<tool>` meta), as "tool (Debian package p)". */
function missingTools(test: TestCase): string[] {
  return Object.entries(test.meta())
    .filter(([key]) => key.startsWith('missing:'))
    .map(([key, pkg]) => `${key.slice('missing:'.length)} (Debian package ${String(pkg)})`);
}

function skipReason(test: TestCase, filteredByName: boolean): string {
  const tools = missingTools(test);
  if (tools.length > 0) return `needs ${tools.join(', ')}`;
  const result = test.result();
  if (result.state === 'skipped' && result.note) return result.note;
  if (result.state === 'pending') return 'not run (the run stopped first)';
  if (test.options.mode === 'todo') return 'todo';
  if (filteredByName) return 'not selected by -t';
  return 'skipped in the code, naming no tool';
}

/** Whether a suite or module above `test` failed by itself (load error, beforeAll): its skips are that failure. */
function underFailedBlock(test: TestCase): boolean {
  for (let block: TestSuite | TestModule = test.parent; ; block = block.parent) {
    if (block.errors().length > 0) return true;
    if (block.type === 'module') return false;
  }
}

function tallyRun(modules: ReadonlyArray<TestModule>, unhandledErrors: number, filteredByName = false): Tally {
  const tally: Tally = { passed: 0, failed: unhandledErrors, skipped: [] };
  for (const module of modules) {
    const blocks = [module, ...module.children.allSuites()];
    tally.failed += blocks.filter((block) => block.errors().length > 0).length;
    for (const test of module.children.allTests()) {
      const state = test.result().state;
      if (state === 'passed') tally.passed++;
      else if (state === 'failed') tally.failed++;
      else if (!underFailedBlock(test)) tally.skipped.push({ test: `${module.relativeModuleId} > ${test.fullName}`, why: skipReason(test, filteredByName) });
    }
  }
  return tally;
}

/** The closing lines: the skipped tests (those not selected by -t as one line), then the count. */
function closingLines(tally: Tally): string[] {
  const unselected = tally.skipped.filter((s) => s.why === 'not selected by -t').length;
  const listed = tally.skipped.filter((s) => s.why !== 'not selected by -t');
  const lines: string[] = [];
  if (tally.skipped.length > 0) {
    lines.push('', `Skipped (${tally.skipped.length}):`);
    for (const s of listed) lines.push(`  ${s.test} — ${s.why}`);
    if (unselected > 0) lines.push(`  ${unselected} tests not selected by -t`);
  }
  lines.push(`tests: ${tally.passed} passed, ${tally.failed} failed, ${tally.skipped.length} skipped`);
  return lines;
}

/**
 * Runs beside vitest's default reporter and ends `npm test` with what was skipped and why (a
 * missing tool, from test/support/tools.ts), then one line `tests: N passed, N failed, N skipped`
 * that .ci/run repeats. Load errors, failed hooks and unhandled errors count as failures because
 * none of them has a failed test, yet each fails the run.
 */
export default class SummaryReporter implements Reporter {
  private vitest: Vitest | undefined;

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>): void {
    const filteredByName = this.vitest?.config.testNamePattern !== undefined;
    const lines = closingLines(tallyRun(modules, unhandledErrors.length, filteredByName));
    // stdout, after the default reporter's summary: .ci/run takes the last `tests:` line from it.
    process.stdout.write(`${lines.join('\n')}\n`);
  }
}
