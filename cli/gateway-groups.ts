import type { Command } from 'commander';
import { gatewayApi } from './gateway-api.js';

/**
 * `camdx gateway group list|add|remove|member-add|member-remove`: local groups of this server's
 * clients (X-Road LOCALGROUP), each a call to the running gateway's console API
 * (`/api/v1/local-groups`), so the console and the command line share one path and one audit log.
 */

interface Group {
  readonly id: string;
  readonly description: string;
  readonly members: readonly string[];
  readonly withdrawnMembers: readonly string[];
}
interface Pending {
  readonly type: string;
  readonly requestId: number;
  readonly group: string;
  readonly member?: string;
  readonly status: string;
}
type Options = { config: string };

const say = (line: string): void => void process.stdout.write(`${line}\n`);
const sent = (what: string, answer: { requestId: number; status: string }): void => say(`${what}: request ${answer.requestId}, ${answer.status}`);

export function registerGatewayGroups(gateway: Command): void {
  const group = gateway.command('group').description("local groups of this server's clients: subjects of rights on the owning subsystem's services");
  const withConfig = (c: Command) => c.requiredOption('--config <file>', 'gateway configuration (YAML)');
  withConfig(group.command('list').description('one block per local group: id, description, members (those withdrawn here marked); then requests in progress')).action(async (o: Options) => {
    const { groups, pending } = await gatewayApi<{ groups: Group[]; pending: Pending[] }>(o.config, 'GET', '/local-groups');
    if (groups.length === 0) say('no local groups');
    for (const g of groups) {
      say(`${g.id}${g.description ? `  (${g.description})` : ''}`);
      for (const m of g.members) say(`  ${m}${g.withdrawnMembers.includes(m) ? '  (withdrawn here, waiting for central)' : ''}`);
    }
    for (const p of pending) say(`${p.status} (${p.type} ${p.requestId}): ${p.group}${p.member ? ` ← ${p.member}` : ''}`);
  });
  withConfig(group.command('add <owner> <code>').description('make local group CODE of client subsystem OWNER: a signed localGroupAdd'))
    .option('--description <text>', 'what the group is for', '')
    .action(async (owner: string, code: string, o: Options & { description: string }) =>
      sent(`${owner}/${code}`, await gatewayApi(o.config, 'POST', '/local-groups', { owner, code, description: o.description })),
    );
  withConfig(group.command('remove <group>').description('remove a local group no right names: a signed localGroupRemove')).action(async (id: string, o: Options) =>
    sent(id, await gatewayApi(o.config, 'DELETE', '/local-groups', { id })),
  );
  withConfig(group.command('member-add <group> <member>').description('add subsystem MEMBER to GROUP: a signed localGroupMemberAdd')).action(async (id: string, member: string, o: Options) =>
    sent(`${member} in ${id}`, await gatewayApi(o.config, 'POST', '/local-groups/members', { group: id, member })),
  );
  withConfig(
    group.command('member-remove <group> <member>').description('take MEMBER out of GROUP: denied here at once, localGroupMemberRemove sent now and each poll until central records it'),
  ).action(async (id: string, member: string, o: Options) => {
    const answer = await gatewayApi<{ central: string; requestId?: number; reason?: string }>(o.config, 'DELETE', '/local-groups/members', { group: id, member });
    say(
      `${member} out of ${id}: denied here now; ` +
        `${answer.central === 'recorded' ? `central recorded it (request ${answer.requestId})` : `central ${answer.central}: ${answer.reason}; sent again each poll`}`,
    );
  });
}
