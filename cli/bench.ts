import { join } from 'node:path';
import type { Command } from 'commander';
import type { RoundsSummary } from '../bench/measure.js';
import { writeFileAtomic } from '../common/files.js';
import { cliContext, type GlobalOptions } from './context.js';

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const spread = (s: RoundsSummary) => `${fmt(s.median)}/s (${fmt(s.min)}–${fmt(s.max)})`;
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
    .option('--connections <n>', 'concurrent HTTP connections', '32')
    .option('--only <part>', 'run one part: pki or gateway')
    .option('--profile <dir>', 'write CPU profiles of the gateway processes to this directory')
    .action(async (opts: { rounds: string; seconds: string; connections: string; only?: string; profile?: string }) => {
      const ctx = cliContext(program.opts<GlobalOptions>(), 'bench');
      const workDir = join(ctx.stateDir, 'bench');
      const settings = { rounds: Number(opts.rounds), seconds: Number(opts.seconds), connections: Number(opts.connections) };
      const figures: Record<string, unknown> = {};
      process.stdout.write(`${settings.rounds} rounds × ${settings.seconds} s, ${settings.connections} HTTP connections; medians with the spread over rounds\n`);
      if (!opts.only || opts.only === 'gateway') {
        process.stdout.write('\nGateway pair (consumer gateway → provider gateway → echo; signing, OCSP, access rights, message log all on)\n');
        const { benchGatewayPair } = await import('../bench/gateway.js');
        const rows = await benchGatewayPair({ workDir, ...settings, bodySizes: [1024, 64 * 1024], ...(opts.profile ? { profileDir: opts.profile } : {}) });
        process.stdout.write(`  ${'body'.padEnd(8)} ${'requests/s (spread)'.padEnd(30)} ${'p50'.padEnd(8)} ${'p99'.padEnd(8)} peak RSS consumer / provider\n`);
        for (const r of rows) {
          process.stdout.write(
            `  ${`${r.bodyBytes / 1024} KiB`.padEnd(8)} ${spread(r.rate).padEnd(30)} ${`${r.p50Ms} ms`.padEnd(8)} ${`${r.p99Ms} ms`.padEnd(8)} ${r.peakRssMb.consumer.toFixed(0)} / ${r.peakRssMb.provider.toFixed(0)} MB\n`,
          );
        }
        figures.gateway = rows;
      }
      if (!opts.only || opts.only === 'pki') {
        process.stdout.write('\nPKI\n');
        const { benchPki } = await import('../bench/pki.js');
        const pki = await benchPki({ workDir, ...settings });
        const rows = [
          ['OCSP responses (in-process)', spread(pki.ocsp.inProcess)],
          ['OCSP responses (HTTP POST)', spread(pki.ocsp.http) + latency(pki.ocsp.http)],
          ['timestamp tokens (in-process)', spread(pki.tsa.inProcess)],
          ['timestamp tokens (HTTP POST)', spread(pki.tsa.http) + latency(pki.tsa.http)],
        ];
        for (const [name, value] of rows) process.stdout.write(`  ${name!.padEnd(32)} ${value}\n`);
        figures.pki = pki;
      }
      const file = join(workDir, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
      writeFileAtomic(file, `${JSON.stringify({ at: new Date().toISOString(), node: process.version, settings, ...figures }, null, 2)}\n`);
      process.stdout.write(`\nfigures written to ${file}\n`);
    });
}
