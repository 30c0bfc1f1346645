import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../common/ports.js';
import { centralLayout } from '../../central/settings.js';
import { readAdminToken } from '../../gateway/admin/token.js';
import { provisionGateway, type GatewaySpec } from '../../sim/provision.js';
import { runGateway, type TestGateway, type TestNetwork } from './network.js';

/**
 * Another security server of a member already in `n` (as README's "Bring your own member" adds
 * one): registered with central, hosting `subsystems` and serving `services` from its own
 * backends, started as its own process. The caller stops it (`child.stop()`) before `n.close()`.
 */
export async function startSecondServer(
  n: TestNetwork,
  o: { member: string; name: string; serverCode: string; subsystems: string[]; services: NonNullable<GatewaySpec['services']> },
): Promise<TestGateway> {
  const ports = { consumer: await freePort(), peer: await freePort(), admin: await freePort(), console: await freePort() };
  const spec: GatewaySpec = { member: o.member, name: o.name, serverCode: o.serverCode, subsystems: o.subsystems, host: '127.0.0.1', ports, services: o.services, extraConfig: { globalconf: { pollSeconds: 1 } } };
  const dir = join(n.central.stateDir, 'gateways', `${o.member.split('/')[2]}-${o.serverCode}`);
  mkdirSync(dir, { recursive: true });
  const ctx = { central: n.central.admin, centralUrl: n.central.running.url, pkiUrl: n.central.pki.url, anchorFile: centralLayout(n.central.stateDir).anchor };
  const config = await provisionGateway(ctx, spec, dir);
  const consoleUrl = `http://127.0.0.1:${ports.console}`;
  const g: TestGateway = {
    dir,
    config,
    spec,
    child: await runGateway(config),
    consumerUrl: `http://127.0.0.1:${ports.consumer}`,
    adminUrl: `http://127.0.0.1:${ports.admin}`,
    consoleUrl,
    admin: (path, init = {}) => fetch(`${consoleUrl}/api/v1${path}`, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${readAdminToken(dir)}` } }),
    restart: async () => {
      await g.child.stop();
      g.child = await runGateway(config);
    },
  };
  return g;
}
