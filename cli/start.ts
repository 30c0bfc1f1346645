import type { Command } from 'commander';
import { cliContext, failCommand, parsePort, type GlobalOptions } from './context.js';

/** The offsets that keep every port `npm start` binds between 1 and 65535. */
async function offsetRange(): Promise<[number, number]> {
  const { portPlan } = await import('../sim/port-plan.js');
  const { simPorts } = await import('../sim/topology.js');
  const ports = portPlan(simPorts(0)).map((p) => p.port);
  return [1 - Math.min(...ports), 65_535 - Math.max(...ports)];
}

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('start the simulated CamDX network on this machine (what `npm start` runs)')
    .option('--host <address>', 'address to bind every service to', '127.0.0.1')
    .option('--port-offset <n>', 'add n to every default port: a second network beside the first, with its own state directory (the README lists offsets clear of the default ports)', '0')
    .option('--pki-port <port>', 'PKI service port (default 4100 + offset)')
    .option('--central-port <port>', 'central server port (default 4000 + offset)')
    .action(async (opts: { host: string; portOffset: string; pkiPort?: string; centralPort?: string }) => {
      const started = Date.now();
      const offset = Number(opts.portOffset);
      const [low, high] = await offsetRange();
      if (!Number.isInteger(offset) || offset < low || offset > high)
        failCommand(`--port-offset '${opts.portOffset}' must be a whole number from ${low} to ${high} (every port stays between 1 and 65535)`, 2);
      const ctx = cliContext(program.opts<GlobalOptions>(), 'sim', true);
      const { AlreadyRunningError, startSimulation } = await import('../sim/simulation.js');
      const { PortClashError } = await import('../sim/port-plan.js');
      process.stdout.write(`starting camdx-sim (state in ${ctx.stateDir}) …\n`);
      const sim = await startSimulation({
        stateDir: ctx.stateDir,
        host: opts.host,
        portOffset: offset,
        ...(opts.pkiPort ? { pkiPort: parsePort(opts.pkiPort) } : {}),
        ...(opts.centralPort ? { centralPort: parsePort(opts.centralPort) } : {}),
        log: ctx.log,
        ...(process.env.CAMDX_ROOT_PASSPHRASE ? { rootPassphrase: process.env.CAMDX_ROOT_PASSPHRASE } : {}),
      }).catch((err: Error) => (err instanceof PortClashError || err instanceof AlreadyRunningError ? failCommand(err.message) : Promise.reject(err)));
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
