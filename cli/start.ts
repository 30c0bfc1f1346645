import type { Command } from 'commander';
import { DEFAULT_PKI_PORT } from '../certs/settings.js';
import { DEFAULT_CENTRAL_PORT } from '../central/settings.js';
import { cliContext, parsePort, type GlobalOptions } from './context.js';

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('start the simulated CamDX network on this machine (what `npm start` runs)')
    .option('--host <address>', 'address to bind every service to', '127.0.0.1')
    .option('--pki-port <port>', 'PKI service port', String(DEFAULT_PKI_PORT))
    .option('--central-port <port>', 'central server port', String(DEFAULT_CENTRAL_PORT))
    .action(async (opts: { host: string; pkiPort: string; centralPort: string }) => {
      const ctx = cliContext(program.opts<GlobalOptions>(), 'sim', true);
      const started = Date.now();
      const { startSimulation } = await import('../sim/simulation.js');
      const sim = await startSimulation({
        stateDir: ctx.stateDir,
        host: opts.host,
        pkiPort: parsePort(opts.pkiPort),
        centralPort: parsePort(opts.centralPort),
        log: ctx.log,
        ...(process.env.CAMDX_ROOT_PASSPHRASE ? { rootPassphrase: process.env.CAMDX_ROOT_PASSPHRASE } : {}),
      });
      const width = Math.max(...sim.endpoints.map((e) => e.name.length));
      const lines = [
        `camdx-sim is up in ${((Date.now() - started) / 1000).toFixed(1)} s (state in ${ctx.stateDir})`,
        '',
        ...sim.endpoints.map((e) => `  ${e.name.padEnd(width)}  ${e.url}`),
        '',
        ...sim.notes.map((n) => `  ${n}`),
        `  logs: ${ctx.logFile}`,
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
