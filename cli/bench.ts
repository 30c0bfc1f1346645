import { join } from 'node:path';
import type { Command } from 'commander';
import type { GatewayBenchResult } from '../bench/gateway.js';
import { medianRound, type RoundsSummary } from '../bench/rounds.js';
import { writeFileAtomic } from '../common/files.js';
import { cliContext, parseCount, parsePort, type GlobalOptions } from './context.js';

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const spread = (s: RoundsSummary) => `${fmt(s.median)}/s (${fmt(s.min)}–${fmt(s.max)})`;
const latency = (s: RoundsSummary) => {
  const mid = medianRound(s.rounds);
  return mid.p50Ms === undefined ? '' : `  p50 ${mid.p50Ms} ms, p99 ${mid.p99Ms} ms`;
};

const cpu = (ms: number) => ms.toFixed(2);

function gatewayTable(result: GatewayBenchResult): string {
  const lines = [
    `  ${'target'.padEnd(28)} ${'body'.padEnd(7)} ${'requests/s (spread)'.padEnd(26)} ${'ratio (spread)'.padEnd(18)} ${'p50'.padEnd(7)} ${'p99'.padEnd(7)} ` +
      `${'peak RSS front / back'.padEnd(22)} CPU ms/exchange front / back / all`,
  ];
  for (const r of result.rows) {
    const ratio = r.ratio ? `${r.ratio.median.toFixed(2)} (${r.ratio.min.toFixed(2)}–${r.ratio.max.toFixed(2)})` : '';
    lines.push(
      `  ${r.target.padEnd(28)} ${`${r.bodyBytes / 1024} KiB`.padEnd(7)} ${spread(r.rate).padEnd(26)} ${ratio.padEnd(18)} ${`${r.p50Ms} ms`.padEnd(7)} ` +
        `${`${r.p99Ms} ms`.padEnd(7)} ${`${r.peakRssMb.consumer.toFixed(0)} / ${r.peakRssMb.provider.toFixed(0)} MB`.padEnd(22)} ${cpu(r.cpuMs.front)} / ${cpu(r.cpuMs.back)} / ${cpu(r.cpuMs.total)}`,
    );
  }
  const u = result.unloaded;
  lines.push(
    `  one connection, ${u.bodyBytes / 1024} KiB: reference p50 ${u.reference.p50Ms} ms, p99 ${u.reference.p99Ms} ms; gateways p50 ${u.gateways.p50Ms} ms, ` +
      `p99 ${u.gateways.p99Ms} ms — added p50 ${u.addedP50Ms} ms, p99 ${u.addedP99Ms} ms`,
  );
  for (const l of result.large) {
    lines.push(
      `  ${`${l.target}: ${(l.bytes / 2 ** 30).toFixed(l.bytes >= 2 ** 30 ? 0 : 2)} GiB body`.padEnd(36)} ${l.mbPerSecond.toFixed(0)} MB/s, RSS idle → peak ` +
        `front ${l.idleRssMb.consumer.toFixed(0)} → ${l.peakRssMb.consumer.toFixed(0)} MB, back ${l.idleRssMb.provider.toFixed(0)} → ${l.peakRssMb.provider.toFixed(0)} MB`,
    );
  }
  lines.push('  (front = consumer gateway or front proxy, back = provider gateway or back proxy; ratio = gateways / reference, per round;');
  lines.push('   CPU "all" adds the echo service and the load generator, which shares its process with the PKI and central)');
  for (const ours of result.rows.filter((r) => r.target === 'gateways')) {
    const ref = result.rows.find((r) => r.target === 'reference' && r.bodyBytes === ours.bodyBytes)!;
    lines.push(
      `  CPU per exchange, ${ours.bodyBytes / 1024} KiB, all processes: reference ${cpu(ref.cpuMs.total)} ms, gateways ${cpu(ours.cpuMs.total)} ms → ` +
        `${(ref.cpuMs.total / ours.cpuMs.total).toFixed(2)}; when the cores are busy in both runs the throughput ratio follows this one`,
    );
  }
  return `${lines.join('\n')}\n`;
}

async function profileSummary(dir: string): Promise<string> {
  const { concernShares, profilesIn, topSelfTime } = await import('../bench/profile.js');
  const lines = [`\nCPU profiles in ${dir} (whole run; shares of busy time):`];
  for (const file of profilesIn(dir)) {
    const { busyPercent, items } = topSelfTime(file, 12);
    lines.push(`  ${file} (busy ${busyPercent.toFixed(0)}% of the run)`);
    lines.push(
      `    by concern: ${concernShares(file)
        .map((c) => `${c.concern} ${c.percent.toFixed(0)}%`)
        .join(', ')}`,
    );
    lines.push('    top functions by self time:');
    for (const item of items) lines.push(`    ${item.selfPercent.toFixed(1).padStart(5)}%  ${item.name}`);
  }
  return `${lines.join('\n')}\n`;
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('measure throughput (what `npm run bench` runs); figures go to <state>/bench/')
    .option('--rounds <n>', 'rounds per measurement (median and spread are reported)', '3')
    .option('--seconds <n>', 'seconds per round', '3')
    .option('--connections <n>', 'concurrent HTTP connections', '32')
    .option('--only <part>', 'run one part: pki or gateway')
    .option('--warm-up <n>', 'seconds of uncounted load per target and body size before the first round', '4')
    .option('--large-mb <n>', 'size of the large streamed body, in MiB (0 skips it)', '1024')
    .option('--profile <dir>', 'write CPU profiles of the gateway processes to this directory and print where the time went')
    .action(async (opts: { rounds: string; seconds: string; connections: string; only?: string; profile?: string; largeMb: string; warmUp: string }) => {
      if (opts.only && opts.only !== 'pki' && opts.only !== 'gateway') throw new Error(`--only is pki or gateway, not '${opts.only}'`);
      const ctx = cliContext(program.opts<GlobalOptions>(), 'bench');
      const workDir = join(ctx.stateDir, 'bench');
      const settings = { rounds: parseCount(opts.rounds), seconds: parseCount(opts.seconds), connections: parseCount(opts.connections) };
      const figures: Record<string, unknown> = {};
      process.stdout.write(`${settings.rounds} rounds × ${settings.seconds} s, ${settings.connections} HTTP connections; medians with the spread over rounds\n`);
      if (!opts.only || opts.only === 'gateway') {
        process.stdout.write(
          '\nGateway pair (consumer gateway → provider gateway → echo; signing, OCSP, access rights, message log, batch timestamping all on)\n  against the ' +
            'reference: front proxy → mutual TLS → back proxy → echo, same keys, same pool size, same load\n',
        );
        const { benchGatewayPair } = await import('../bench/gateway.js');
        const result = await benchGatewayPair({
          workDir,
          ...settings,
          bodySizes: [1024, 64 * 1024],
          warmUpSeconds: parseCount(opts.warmUp, 0),
          largeBytes: parseCount(opts.largeMb, 0) * 2 ** 20,
          onProgress: (line) => process.stderr.write(`    … ${line}\n`),
          ...(opts.profile ? { profileDir: opts.profile } : {}),
        });
        process.stdout.write(gatewayTable(result));
        const { verdict, verdictTable } = await import('../bench/verdict.js');
        const judged = verdict(result);
        process.stdout.write(verdictTable(judged));
        figures.gateway = { ...result, verdict: judged };
        if (opts.profile) process.stdout.write(await profileSummary(opts.profile));
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

/** The benchmark's reference proxies run as their own processes, like the gateways they stand beside. */
export function registerReferenceProxy(program: Command): void {
  program
    .command('reference-proxy', { hidden: true })
    .description('a minimal mutual-TLS proxy: the reference npm run bench compares the gateway pair with')
    .requiredOption('--role <role>', 'front (HTTP in, mTLS out) or back (mTLS in, HTTP out)')
    .requiredOption('--target <url>', 'where to forward')
    .requiredOption('--keystore <file>', 'PKCS#12 with the TLS key (password in <file>.password)')
    .requiredOption('--ca <file>', 'PEM of the CAs to trust')
    .option('--port <port>', 'TCP port (0 picks one)', '0')
    .option('--max-sockets <n>', 'keep-alive pool size', '64')
    .action(async (o: { role: string; target: string; keystore: string; ca: string; port: string; maxSockets: string }) => {
      if (o.role !== 'front' && o.role !== 'back') throw new Error('--role is front or back');
      const { startReferenceProxy } = await import('../bench/reference-proxy.js');
      const proxy = await startReferenceProxy({ role: o.role, target: o.target, keystore: o.keystore, ca: o.ca, port: parsePort(o.port), maxSockets: parseCount(o.maxSockets) });
      process.stdout.write(`reference proxy (${o.role}) listening on http${o.role === 'back' ? 's' : ''}://127.0.0.1:${proxy.port}\n`);
      process.once('SIGTERM', () => process.exit(0));
      process.once('SIGINT', () => process.exit(0));
    });
}
