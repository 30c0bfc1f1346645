import type { Command } from 'commander';
import { cliContext, failCommand, type GlobalOptions } from './context.js';

export function registerNode(program: Command): void {
  program
    .command('node <role> [member]')
    .description(
      'run one part of the default network in this process: what each docker-compose container runs (roles: pki, central, provision, gateway <demobank|moc|moi|tsc>, camdigikey, moi, demo-bank)',
    )
    .option('--addressing <mode>', 'compose (bind 0.0.0.0, reach parts by service name) or loopback (everything on 127.0.0.1)', 'compose')
    .option('--port-offset <n>', 'add n to every default port (loopback testing)', '0')
    .action(async (role: string, member: string | undefined, o: { addressing: string; portOffset: string }) => {
      const { ROLES, runNode } = await import('../sim/nodes.js');
      const { compose, loopback } = await import('../sim/network.js');
      const { simPorts } = await import('../sim/topology.js');
      if (!(ROLES as readonly string[]).includes(role)) failCommand(`unknown role '${role}': ${ROLES.join(', ')}`, 2);
      if (o.addressing !== 'compose' && o.addressing !== 'loopback') failCommand('--addressing is compose or loopback', 2);
      const offset = Number(o.portOffset);
      if (!Number.isInteger(offset)) failCommand('--port-offset must be a whole number', 2);
      const ctx = cliContext(program.opts<GlobalOptions>(), role === 'gateway' ? `gateway-${member}` : role);
      const running = await runNode(role as (typeof ROLES)[number], {
        stateDir: ctx.stateDir,
        addressing: o.addressing === 'compose' ? compose : loopback(),
        ports: simPorts(offset),
        log: ctx.log,
        ...(member ? { member } : {}),
        // Only the one-shot provision role creates the PKI, so only it reads the root passphrase.
        ...(role === 'provision' && process.env.CAMDX_ROOT_PASSPHRASE ? { rootPassphrase: process.env.CAMDX_ROOT_PASSPHRASE } : {}),
      });
      if (!running) {
        process.stdout.write(`${role} done\n`);
        return;
      }
      process.stdout.write(`${running.ready}\n`);
      const stop = async () => {
        await running.stop();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
