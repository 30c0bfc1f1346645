import type { Command } from 'commander';
import { NoNetworkError, requireNetworkFile } from '../sim/network-file.js';
import { failCommand, stateDirOf, type GlobalOptions } from './context.js';

interface AclTestOptions {
  gateway?: string[];
  json?: boolean;
  junit?: string;
  concurrency: string;
  timeout?: string;
  portOffset?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `--gateway CAMDX/COM/DEMOBANK=http://127.0.0.1:8080` → [member, url]; exit 2 when malformed. */
function parseGatewayOption(text: string): [string, string] {
  const cut = text.indexOf('=');
  if (cut <= 0 || cut === text.length - 1) failCommand(`--gateway '${text}' must look like MEMBER=URL, e.g. CAMDX/COM/DEMOBANK=http://127.0.0.1:8080`, 2);
  return [text.slice(0, cut), text.slice(cut + 1)];
}

/**
 * Where the members' gateways are when the matrix and --gateway leave one out: the default
 * network at `--port-offset`, else the network running from the state directory (network.json),
 * else a refusal naming where it looked. Asked only for a member nobody named, so a matrix with
 * its own `gateways:` needs no running network.
 */
function defaultGateways(stateDir: string, portOffset: number | undefined, atOffset: (offset: number) => Record<string, string>): () => Record<string, string> {
  return () => {
    if (portOffset !== undefined) return atOffset(portOffset);
    try {
      const running = requireNetworkFile(stateDir);
      return Object.fromEntries(Object.values(running.gateways).map((g) => [g.member, g.consumerUrl]));
    } catch (err) {
      if (err instanceof NoNetworkError) failCommand(err.message);
      throw err;
    }
  };
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
    .option('--port-offset <n>', 'the default network was started with camdx start --port-offset n (default: the gateways of the network running from the state directory)')
    .addHelpText(
      'after',
      '\nExit status: 0 every case as expected, 1 some case not (or an error that is neither allow nor deny, or no running network to send them to), 2 the matrix or an option is invalid.',
    )
    .action(async (file: string, o: AclTestOptions) => {
      const { loadMatrix, MatrixError, topologyGateways } = await import('../sim/acl/matrix.js');
      const { runCases } = await import('../sim/acl/runner.js');
      const { formatJson, formatJUnit, formatTable, summarise } = await import('../sim/acl/report.js');
      const { writeFileAtomic } = await import('../common/files.js');
      const { basename } = await import('node:path');

      const gateways = Object.fromEntries((o.gateway ?? []).map(parseGatewayOption));
      const concurrency = positiveInt(o.concurrency, '--concurrency', 256);
      const timeoutMs = o.timeout === undefined ? undefined : positiveInt(o.timeout, '--timeout', 3_600_000);
      const portOffset = o.portOffset === undefined ? undefined : Number(o.portOffset);
      if (portOffset !== undefined && !Number.isInteger(portOffset)) failCommand(`--port-offset '${o.portOffset}' must be a whole number`, 2);
      const defaults = defaultGateways(stateDirOf(program.opts<GlobalOptions>()), portOffset, topologyGateways);
      let matrix;
      try {
        matrix = loadMatrix(file, { gateways, defaultGateways: defaults, ...(timeoutMs ? { timeoutMs } : {}) });
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
