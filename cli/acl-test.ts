import type { Command } from 'commander';
import { failCommand } from './context.js';

interface AclTestOptions {
  gateway?: string[];
  json?: boolean;
  junit?: string;
  concurrency: string;
  timeout?: string;
  portOffset: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `--gateway CAMDX/COM/DEMOBANK=http://127.0.0.1:8080` → [member, url]; exit 2 when malformed. */
function parseGatewayOption(text: string): [string, string] {
  const cut = text.indexOf('=');
  if (cut <= 0 || cut === text.length - 1) failCommand(`--gateway '${text}' must look like MEMBER=URL, e.g. CAMDX/COM/DEMOBANK=http://127.0.0.1:8080`, 2);
  return [text.slice(0, cut), text.slice(cut + 1)];
}

function positiveInt(value: string, name: string, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) failCommand(`${name} '${value}' must be a whole number from 1 to ${max}`, 2);
  return n;
}

export function registerAclTest(program: Command): void {
  program
    .command('acl-test')
    .description('test access rights end to end: send each case of a matrix through the real gateways and compare allow/deny')
    .argument('<matrix>', 'matrix file (YAML): cases of client × service × method × path → allow | deny')
    .option('--gateway <member=url>', "a member's consumer gateway (repeatable; wins over the matrix's gateways: and the default network)", collect)
    .option('--json', 'print JSON instead of the table')
    .option('--junit <file>', 'also write the results as JUnit XML (for CI)')
    .option('--concurrency <n>', 'cases in flight at once', '8')
    .option('--timeout <ms>', "per-case timeout, overriding the matrix's")
    .option('--port-offset <n>', 'the default network was started with camdx start --port-offset n', '0')
    .addHelpText('after', '\nExit status: 0 every case as expected, 1 some case not (or an error that is neither allow nor deny), 2 the matrix or an option is invalid.')
    .action(async (file: string, o: AclTestOptions) => {
      const { loadMatrix, MatrixError } = await import('../sim/acl/matrix.js');
      const { runCases } = await import('../sim/acl/runner.js');
      const { formatJson, formatJUnit, formatTable, summarise } = await import('../sim/acl/report.js');
      const { writeFileAtomic } = await import('../common/files.js');
      const { basename } = await import('node:path');

      const gateways = Object.fromEntries((o.gateway ?? []).map(parseGatewayOption));
      const concurrency = positiveInt(o.concurrency, '--concurrency', 256);
      const timeoutMs = o.timeout === undefined ? undefined : positiveInt(o.timeout, '--timeout', 3_600_000);
      const portOffset = Number(o.portOffset);
      if (!Number.isInteger(portOffset)) failCommand(`--port-offset '${o.portOffset}' must be a whole number`, 2);
      let matrix;
      try {
        matrix = loadMatrix(file, { gateways, portOffset, ...(timeoutMs ? { timeoutMs } : {}) });
      } catch (err) {
        if (err instanceof MatrixError) failCommand(`${file}: ${err.message}`, 2);
        throw err;
      }

      const startedAt = new Date();
      const results = await runCases(matrix.cases, { concurrency });
      const durationMs = Date.now() - startedAt.getTime();
      process.stdout.write(o.json ? formatJson(results) : formatTable(results));
      if (o.junit) {
        try {
          writeFileAtomic(o.junit, formatJUnit(results, `camdx acl-test ${basename(file)}`, { startedAt, durationMs }));
        } catch (err) {
          failCommand(`cannot write the JUnit report ${o.junit}: ${(err as Error).message}`);
        }
      }
      // exitCode, not exit(): stdout may still be draining into a pipe.
      process.exitCode = summarise(results).failed ? 1 : 0;
    });
}
