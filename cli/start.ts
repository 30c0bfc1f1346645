import type { Command } from 'commander';
import { cliContext, parsePort, type GlobalOptions } from './context.js';

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('start the simulated CamDX network on this machine (what `npm start` runs)')
    .option('--host <address>', 'address to bind every service to', '127.0.0.1')
    .option('--port-offset <n>', 'add n to every default port (run a second network beside the first)', '0')
    .option('--pki-port <port>', 'PKI service port (default 4100 + offset)')
    .option('--central-port <port>', 'central server port (default 4000 + offset)')
    .action(async (opts: { host: string; portOffset: string; pkiPort?: string; centralPort?: string }) => {
      const ctx = cliContext(program.opts<GlobalOptions>(), 'sim', true);
      const started = Date.now();
      const offset = Number(opts.portOffset);
      if (!Number.isInteger(offset) || offset < -4000 || offset > 50_000) throw new Error(`--port-offset '${opts.portOffset}' must be an integer between -4000 and 50000`);
      const { startSimulation } = await import('../sim/simulation.js');
      process.stdout.write(`starting camdx-sim (state in ${ctx.stateDir}) …\n`);
      const sim = await startSimulation({
        stateDir: ctx.stateDir,
        host: opts.host,
        portOffset: offset,
        ...(opts.pkiPort ? { pkiPort: parsePort(opts.pkiPort) } : {}),
        ...(opts.centralPort ? { centralPort: parsePort(opts.centralPort) } : {}),
        log: ctx.log,
        ...(process.env.CAMDX_ROOT_PASSPHRASE ? { rootPassphrase: process.env.CAMDX_ROOT_PASSPHRASE } : {}),
      });
      const width = Math.max(...sim.endpoints.map((e) => e.name.length));
      const lines = [
        `camdx-sim is up in ${((Date.now() - started) / 1000).toFixed(1)} s`,
        '',
        ...sim.endpoints.map((e) => `  ${e.name.padEnd(width)}  ${e.url}`),
        '',
        ...sim.notes.map((n) => `  ${n}`),
        `  logs: ${ctx.logFile} and beside it one file per process`,
        '',
        'Try it:',
        ...sim.examples.map((e) => `  ${e}`),
        '',
        'Press Ctrl-C to stop.',
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
      let stopping = false;
      const stop = async () => {
        if (stopping) return;
        stopping = true;
        await sim.stop();
        process.stdout.write('camdx-sim stopped.\n');
        process.exit(0);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
}
