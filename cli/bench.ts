import { join } from 'node:path';
import type { Command } from 'commander';
import type { RoundsSummary } from '../bench/measure.js';
import { writeFileAtomic } from '../common/files.js';
import { cliContext, type GlobalOptions } from './context.js';

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const spread = (s: RoundsSummary) => `${fmt(s.median)}/s  (rounds ${fmt(s.min)}–${fmt(s.max)})`;
const latency = (s: RoundsSummary) => {
  const mid = [...s.rounds].sort((a, b) => a.perSecond - b.perSecond)[Math.floor(s.rounds.length / 2)]!;
  return mid.p50Ms === undefined ? '' : `  p50 ${mid.p50Ms} ms, p99 ${mid.p99Ms} ms`;
};

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('measure throughput (what `npm run bench` runs); figures go to <state>/bench/')
    .option('--rounds <n>', 'rounds per measurement (median and spread are reported)', '3')
    .option('--seconds <n>', 'seconds per round', '3')
    .option('--connections <n>', 'concurrent HTTP connections', '16')
    .action(async (opts: { rounds: string; seconds: string; connections: string }) => {
      const ctx = cliContext(program.opts<GlobalOptions>(), 'bench');
      const workDir = join(ctx.stateDir, 'bench');
      const settings = { rounds: Number(opts.rounds), seconds: Number(opts.seconds), connections: Number(opts.connections) };
      process.stdout.write(`PKI benchmark: ${settings.rounds} rounds × ${settings.seconds} s, ${settings.connections} HTTP connections, one core per process\n`);
      const { benchPki } = await import('../bench/pki.js');
      const pki = await benchPki({ workDir, ...settings });
      const rows = [
        ['OCSP responses (in-process)', spread(pki.ocsp.inProcess)],
        ['OCSP responses (HTTP POST)', spread(pki.ocsp.http) + latency(pki.ocsp.http)],
        ['timestamp tokens (in-process)', spread(pki.tsa.inProcess)],
        ['timestamp tokens (HTTP POST)', spread(pki.tsa.http) + latency(pki.tsa.http)],
      ];
      for (const [name, value] of rows) process.stdout.write(`  ${name!.padEnd(32)} ${value}\n`);
      const file = join(workDir, `pki-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
      writeFileAtomic(file, `${JSON.stringify({ at: new Date().toISOString(), node: process.version, settings, pki }, null, 2)}\n`);
      process.stdout.write(`figures written to ${file}\n`);
    });
}
