import type { Command } from 'commander';
import { failCommand, type GlobalOptions } from './context.js';

export function registerGateway(program: Command): void {
  const gateway = program.command('gateway').description("a member's security server");
  gateway
    .command('run')
    .description('run one gateway (consumer, peer TLS and admin ports) from its configuration file')
    .requiredOption('--config <file>', 'gateway configuration (YAML)')
    .action(async (o: { config: string }) => {
      const { loadGatewayConfig, ConfigError } = await import('../gateway/config.js');
      const { startGateway } = await import('../gateway/gateway.js');
      const { createLogger } = await import('../common/log.js');
      const globals = program.opts<GlobalOptions>();
      let config;
      try {
        config = loadGatewayConfig(o.config);
      } catch (err) {
        if (err instanceof ConfigError) failCommand(err.message, 2);
        throw err;
      }
      const log = createLogger(`gateway ${config.serverId}`, globals.logLevel ?? process.env.CAMDX_LOG_LEVEL ?? config.log.level);
      let running;
      try {
        running = await startGateway(config, log);
      } catch (err) {
        if (err instanceof ConfigError) failCommand(err.message, 2);
        throw err;
      }
      for (const w of running.warnings) process.stderr.write(`camdx: warning: ${w}\n`);
      const { ports } = running;
      process.stdout.write(`gateway ${config.serverId} ready: consumer ${config.listen.consumer.host}:${ports.consumer}, peer ${config.listen.peer.host}:${ports.peer}, admin ${config.listen.admin.host}:${ports.admin}\n`);
      const stop = async () => {
        await running.stop();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
