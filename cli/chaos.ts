import type { Command } from 'commander';
import { failCommand, parseCount } from './context.js';

export function registerChaos(program: Command): void {
  program
    .command('chaos')
    .description(
      'the chaos suite (what `npm run chaos` runs): a network of separate processes in a temporary state directory, under load, while gateways are killed ' +
        'and restarted, the TSA, OCSP and central go down and up, and truncated, slow, hostile and fuzzed requests arrive; prints one table and exits 1 on a ' +
        'crash, hang, lost or duplicated record, a client mistake answered as a server fault, or a fault that does not recover in time',
    )
    .option('--short', 'the short run of .ci/run: one kill per gateway, brief outages, 500 fuzz cases (about 2 minutes)')
    .option('--seed <n>', 'seed of the fuzz corpus (the same seed sends the same requests)', '1')
    .option('--port-offset <n>', 'added to every default port (the README lists offsets clear of npm start)', '20000')
    .action(async (o: { short?: boolean; seed: string; portOffset: string }) => {
      const { portPlan } = await import('../sim/port-plan.js');
      const { simPorts } = await import('../sim/topology.js');
      const ports = portPlan(simPorts(0)).map((p) => p.port);
      const offset = Number(o.portOffset);
      const [low, high] = [1 - Math.min(...ports), 65_535 - Math.max(...ports)];
      if (!Number.isInteger(offset) || offset < low || offset > high)
        failCommand(`--port-offset '${o.portOffset}' must be a whole number from ${low} to ${high} (every port stays between 1 and 65535)`, 2);
      const { runChaos } = await import('../sim/chaos/run.js');
      // Whatever part hangs, the run ends with a verdict: a CI waiting on it for an hour learns nothing.
      const deadlineMin = o.short ? 15 : 45;
      setTimeout(() => {
        process.stderr.write(`chaos: FAILED, no verdict after ${deadlineMin} minutes (a hang); parts' logs are in the state directory printed above\n`);
        process.exit(1);
      }, deadlineMin * 60_000).unref();
      const run = await runChaos({ short: o.short === true, seed: parseCount(o.seed, 0), portOffset: offset, onProgress: (line) => process.stderr.write(`  … ${line}\n`) });
      process.stdout.write(`${run.report}\n`);
      if (!run.passed) process.stdout.write(`state and every part's log kept in ${run.stateDir}\n`);
      process.exit(run.passed ? 0 : 1);
    });
}
