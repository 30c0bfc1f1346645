import type { Command } from 'commander';
import { gatewayApi } from './gateway-api.js';

/**
 * `camdx gateway maintenance on|off|status` (X-Road's maintenance mode) and `camdx gateway server
 * address|delete-auth-cert`, through the running gateway's console API.
 */
export function registerGatewayMaintenance(gateway: Command): void {
  const maintenance = gateway.command('maintenance').description('take this server out of service with a message for callers (maintenanceModeEnable), or back in');
  const say = (line: string) => process.stdout.write(`${line}\n`);
  maintenance
    .command('on')
    .description('callers skip this server; with no other server of the provider they get Server.ClientProxy.MaintenanceMode and the message')
    .requiredOption('--config <file>', 'gateway configuration (YAML)')
    .option('--message <text>', 'what callers are told', '')
    .action(async (o: { config: string; message: string }) => {
      const a = await gatewayApi<{ server: string; requestId: number; status: string }>(o.config, 'POST', '/maintenance', { message: o.message });
      say(`${a.server}: maintenanceModeEnable ${a.requestId}, ${a.status}`);
    });
  maintenance
    .command('off')
    .description('back in service (maintenanceModeDisable)')
    .requiredOption('--config <file>', 'gateway configuration (YAML)')
    .action(async (o: { config: string }) => {
      const a = await gatewayApi<{ server: string; requestId: number; status: string }>(o.config, 'DELETE', '/maintenance');
      say(`${a.server}: maintenanceModeDisable ${a.requestId}, ${a.status}`);
    });
  maintenance
    .command('status')
    .description('whether the configuration lists this server in maintenance mode')
    .requiredOption('--config <file>', 'gateway configuration (YAML)')
    .action(async (o: { config: string }) => {
      const a = await gatewayApi<{ server: string; maintenance: boolean; message: string | null }>(o.config, 'GET', '/maintenance');
      say(a.maintenance ? `${a.server}: in maintenance mode${a.message ? `: ${a.message}` : ''}` : `${a.server}: in service`);
    });
  const server = gateway.command('server').description("this server's entry in central's registry: its address, its registered authentication certificates");
  server
    .command('address <hostPort>')
    .description('addressChange: peers connect to HOST:PORT from the next poll')
    .requiredOption('--config <file>', 'gateway configuration (YAML)')
    .action(async (address: string, o: { config: string }) => {
      const a = await gatewayApi<{ server: string; requestId: number; status: string }>(o.config, 'PUT', '/server/address', { address });
      say(`${a.server}: addressChange to ${address} ${a.requestId}, ${a.status}`);
    });
  server
    .command('delete-auth-cert <sha256>')
    .description('authCertDeletion: the registered authentication certificate with this SHA-256 (hex) is deleted; peers refuse it from the next poll')
    .requiredOption('--config <file>', 'gateway configuration (YAML)')
    .action(async (hash: string, o: { config: string }) => {
      const a = await gatewayApi<{ server: string; requestId: number; status: string }>(o.config, 'DELETE', `/token-certificates/${encodeURIComponent(hash)}`);
      say(`${a.server}: authCertDeletion ${a.requestId}, ${a.status}`);
    });
}
