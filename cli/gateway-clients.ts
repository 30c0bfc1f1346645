import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { failCommand } from './context.js';
import { gatewayApi } from './gateway-api.js';

/**
 * `camdx gateway client list|add|register|disable|enable|delete`: the owner's subsystems as clients of this server,
 * each a call to the running gateway's console API (`/api/v1/clients` at its `listen.console`,
 * with `<stateDir>/admin-token`), so the console and the command line share one code path, its
 * checks and its audit log.
 */

interface Client {
  readonly id: string;
  readonly connection: string;
  readonly certificates: number;
  readonly registered: boolean;
}
interface Registration {
  readonly id: string;
  readonly connection: string;
  readonly registration: 'approved' | 'submitted' | 'already registered';
}

const say = (line: string) => process.stdout.write(`${line}\n`);
const idPath = (id: string) => `/clients/${encodeURIComponent(id)}`;

function printRegistration(r: Registration): void {
  say(
    r.registration === 'submitted'
      ? `${r.id} (${r.connection}): registerClient waits for central's operator (camdx central request list / approve)`
      : `${r.id} (${r.connection}): registerClient ${r.registration}`,
  );
}

function readPems(files: readonly string[]): string[] {
  return files.map((file) => {
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      failCommand(`cannot read ${file}: ${(err as Error).message}`, 2);
    }
  });
}

const collect = (value: string, previous: string[]) => [...previous, value];
const REQUEST_OF = { disable: 'clientDisable', enable: 'clientEnable', delete: 'clientDeletion' } as const;

export function registerGatewayClients(gateway: Command): void {
  const client = gateway.command('client').description("the owner's subsystems as clients of this server: connection type, pinned IS certificates, registerClient");
  client
    .command('list')
    .description('one line per client: id, connection type, pinned IS certificates, registered here (the global configuration lists it on this server)')
    .requiredOption('--config <file>', 'gateway configuration (YAML)')
    .action(async (o: { config: string }) => {
      const rows = await gatewayApi<Client[]>(o.config, 'GET', '/clients');
      if (rows.length === 0) say('no clients');
      const width = Math.max(0, ...rows.map((c) => c.id.length));
      for (const c of rows)
        say(`${c.id.padEnd(width)}  ${c.connection.padEnd(13)}  ${c.certificates} ${c.certificates === 1 ? 'certificate ' : 'certificates'}  registered ${c.registered ? 'yes' : 'no'}`);
    });
  client
    .command('add <subsystemId>')
    .description('add a subsystem of the owner (INSTANCE/CLASS/MEMBER/SUBSYSTEM) to gateway.yaml and send registerClient to central; undone if central refuses')
    .requiredOption('--config <file>', 'gateway configuration (YAML)')
    .option('--connection <type>', 'HTTP, HTTPS (a pinned IS certificate required) or HTTPS_NO_AUTH', 'HTTPS')
    .option('--certificate <file>', "an information system's certificate (PEM) to pin, for HTTPS (repeatable)", collect, [])
    .action(async (subsystemId: string, o: { config: string; connection: string; certificate: string[] }) => {
      const certificates = readPems(o.certificate);
      printRegistration(await gatewayApi<Registration>(o.config, 'POST', '/clients', { id: subsystemId, connection: o.connection, ...(certificates.length ? { certificates } : {}) }));
    });
  for (const [verb, description] of [
    ['disable', 'clientDisable: the client stays registered but can neither call nor be called; this gateway applies it at once, central up or not, and central at once when it hears of it'],
    ['enable', 'clientEnable: a disabled client back in service'],
    ['delete', 'clientDeletion: the client leaves this server in central’s registry'],
  ] as const) {
    client
      .command(`${verb} <subsystemId>`)
      .description(description)
      .requiredOption('--config <file>', 'gateway configuration (YAML)')
      .action(async (subsystemId: string, o: { config: string }) => {
        const a = await gatewayApi<{ requestId?: number; status: string }>(o.config, verb === 'delete' ? 'DELETE' : 'POST', verb === 'delete' ? idPath(subsystemId) : `${idPath(subsystemId)}/${verb}`);
        say(`${subsystemId}: ${REQUEST_OF[verb]}${a.requestId === undefined ? '' : ` ${a.requestId}`}, ${a.status}`);
      });
  }
  client
    .command('register <subsystemId>')
    .description('send registerClient to central again for a client of this gateway')
    .requiredOption('--config <file>', 'gateway configuration (YAML)')
    .action(async (subsystemId: string, o: { config: string }) => {
      printRegistration(await gatewayApi<Registration>(o.config, 'POST', `${idPath(subsystemId)}/register`));
    });
}
