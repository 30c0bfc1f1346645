import type { Command } from 'commander';
import { CentralAdminClient, CentralApiError } from '../central/admin-client.js';
import { failCommand } from './context.js';

interface User {
  readonly name: string;
  readonly role: string;
  readonly createdAt: string;
}

/** Reads `count` lines from stdin: passwords never go on the command line, where `ps` and shell history would keep them. */
async function passwordsFromStdin(count: number, what: string): Promise<string[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const lines = Buffer.concat(chunks).toString('utf8').split(/\r?\n/);
  const passwords = lines.slice(0, count);
  if (passwords.length < count || passwords.some((p) => p === '')) failCommand(`give ${what} on stdin, one per line (e.g. printf '%s\\n' … | camdx central user …)`, 2);
  return passwords;
}

/**
 * `camdx central user …`: the console's named users. The admin token creates the first user
 * only; after that an administrator acts, signed in with `--as NAME` (its password first on stdin).
 */
export function registerCentralUsers(central: Command, client: () => CentralAdminClient): void {
  const user = central.command('user').description("the console's users (administrator, observer)");
  const asOption = ['--as <name>', 'act as this administrator (its password is the first line on stdin)'] as const;

  /** The token client, or one signed in as `as` with the first stdin password; the rest of the lines are returned. */
  async function acting(as: string | undefined, more: number, what: string): Promise<{ api: CentralAdminClient; rest: string[] }> {
    const lines = await passwordsFromStdin((as ? 1 : 0) + more, as ? `the password of ${as}${more ? ` then ${what}` : ''}` : what);
    const api = as ? await CentralAdminClient.signIn(client().url, as, lines[0]!) : client();
    return { api, rest: lines.slice(as ? 1 : 0) };
  }

  const run = (fn: () => Promise<string>) => async () => {
    try {
      process.stdout.write(`${await fn()}\n`);
    } catch (err) {
      if (err instanceof CentralApiError) failCommand(`${err.message}${err.status ? ` (HTTP ${err.status} ${err.error}${err.field ? `, field ${err.field}` : ''})` : ''}`);
      throw err;
    }
  };

  user
    .command('add <name>')
    .description("add a user; the new user's password is read from stdin (after --as's)")
    .requiredOption('--role <role>', 'administrator or observer')
    .option(...asOption)
    .action((name: string, o: { role: string; as?: string }) =>
      run(async () => {
        const { api, rest } = await acting(o.as, 1, `the new user's password`);
        const made = await api.call<User>('POST', '/users', { name, role: o.role, password: rest[0] });
        return `added ${made.role} ${made.name}`;
      })(),
    );
  user
    .command('list')
    .option(...asOption)
    .action((o: { as?: string }) =>
      run(async () => {
        const { api } = o.as ? await acting(o.as, 0, '') : { api: client() };
        const users = await api.call<User[]>('GET', '/users');
        return users.map((u) => `${u.name}  ${u.role}  since ${u.createdAt}`).join('\n') || '(no users)';
      })(),
    );
  user
    .command('remove <name>')
    .requiredOption(...asOption)
    .action((name: string, o: { as: string }) =>
      run(async () => {
        const { api } = await acting(o.as, 0, '');
        await api.call('DELETE', `/users/${encodeURIComponent(name)}`);
        return `removed ${name} (its sessions ended)`;
      })(),
    );
  user
    .command('passwd <name>')
    .description("set a user's password (the new one on stdin after --as's); ends that user's sessions")
    .requiredOption(...asOption)
    .action((name: string, o: { as: string }) =>
      run(async () => {
        const { api, rest } = await acting(o.as, 1, 'the new password');
        await api.call('PUT', `/users/${encodeURIComponent(name)}/password`, { password: rest[0] });
        return `changed the password of ${name}; its sessions ended`;
      })(),
    );
}
