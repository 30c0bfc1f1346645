import type { Command } from 'commander';
import { gatewayApi } from './gateway-api.js';

/**
 * `camdx gateway right list|add|remove`: access rights on the services this gateway provides,
 * each a call to the running gateway's console API (`/api/v1/access-rights`), so the console and
 * the command line share one code path, its checks and its audit log.
 */

interface Right {
  readonly subject: string;
  readonly service: string;
  readonly method: string;
  readonly path: string;
  readonly origin: string;
  readonly withdrawn: boolean;
}
interface Withdrawal {
  readonly subject: string;
  readonly service: string;
  readonly method: string;
  readonly path: string;
  readonly since: string;
  readonly refused?: string;
}
type Options = { config: string; method: string; path: string; localGroup?: boolean };
const subjectTypeOf = (o: Options) => (o.localGroup ? 'LOCALGROUP' : 'SUBSYSTEM');

const say = (line: string) => process.stdout.write(`${line}\n`);
const rightLine = (r: { subject: string; service: string; method: string; path: string }) => `${r.subject} → ${r.method} ${r.path} on ${r.service}`;

export function registerGatewayRights(gateway: Command): void {
  const right = gateway.command('right').description('access rights on the services this gateway provides: grant (signed accessRightAdd), revoke (denied here at once, then accessRightRemove)');
  const withRight = (c: Command) =>
    c
      .requiredOption('--config <file>', 'gateway configuration (YAML)')
      .option('--method <method>', "an HTTP method, or '*' for all", '*')
      .option('--path <pattern>', "a path pattern ('/orders/*', '/**' for all)", '/**')
      .option('--local-group', "SUBJECT is a local group of the service's subsystem (INSTANCE/CLASS/MEMBER/SUBSYSTEM/CODE)");
  right
    .command('list')
    .description('one line per right on this gateway’s services: subject, method, path, service, origin; then the withdrawals central has not yet recorded')
    .requiredOption('--config <file>', 'gateway configuration (YAML)')
    .action(async (o: { config: string }) => {
      const { rights, withdrawals, pending } = await gatewayApi<{ rights: Right[]; withdrawals: Withdrawal[]; pending: Array<Right & { requestId: number; status: string }> }>(
        o.config,
        'GET',
        '/access-rights',
      );
      if (rights.length === 0) say('no access rights');
      for (const r of rights) say(`${rightLine(r)}  (${r.origin}${r.withdrawn ? ', withdrawn here' : ''})`);
      for (const p of pending) say(`${p.status} (accessRightAdd ${p.requestId}): ${rightLine(p)}`);
      for (const w of withdrawals) say(`withdrawn since ${w.since}: ${rightLine(w)}${w.refused ? `; central refused the removal: ${w.refused}` : '; waiting for central'}`);
    });
  withRight(right.command('add <service> <subject>').description('grant SUBJECT (a subsystem, or with --local-group a local group) a right on SERVICE: a signed accessRightAdd to central')).action(
    async (service: string, subject: string, o: Options) => {
      const answer = await gatewayApi<{ requestId: number; status: string }>(o.config, 'POST', '/access-rights', { service, subject, subjectType: subjectTypeOf(o), method: o.method, path: o.path });
      say(`${rightLine({ service, subject, method: o.method, path: o.path })}: accessRightAdd ${answer.requestId}, ${answer.status}`);
    },
  );
  withRight(
    right.command('remove <service> <subject>').description('revoke a right: denied by this gateway at once, central up or not; accessRightRemove sent now and each poll until central records it'),
  ).action(async (service: string, subject: string, o: Options) => {
    const answer = await gatewayApi<{ central: string; requestId?: number; reason?: string }>(o.config, 'DELETE', '/access-rights', {
      service,
      subject,
      subjectType: subjectTypeOf(o),
      method: o.method,
      path: o.path,
    });
    const central = answer.central === 'recorded' ? `central recorded it (request ${answer.requestId})` : `central ${answer.central}: ${answer.reason}; sent again each poll`;
    say(`${rightLine({ service, subject, method: o.method, path: o.path })}: denied here now; ${central}`);
  });
}
