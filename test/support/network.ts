import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnCamdx, type ChildService } from '../../common/child.js';
import { freePort } from '../../common/ports.js';
import { centralLayout } from '../../central/settings.js';
import { readAdminToken } from '../../gateway/admin/token.js';
import type { RawGatewayConfig } from '../../gateway/config.js';
import { provisionGateway, type GatewaySpec } from '../../sim/provision.js';
import { startTestCentral, type TestCentral } from './central.js';
import { startEcho, type EchoService } from './echo.js';

export const CLIENT = 'CAMDX/COM/DEMOBANK/ONBOARDING';
export const SERVICE = 'CAMDX/GOV/MOI/KYC/echo';

export interface TestGateway {
  readonly dir: string;
  readonly config: string;
  readonly spec: GatewaySpec;
  child: ChildService;
  readonly consumerUrl: string;
  readonly adminUrl: string;
  /** The console listener: `${consoleUrl}/api/v1/…`. */
  readonly consoleUrl: string;
  /** GET (or `init`) on the console API `/api/v1` with the gateway's admin token: `/records`, `/ocsp/refresh`, `/keys/reload`. */
  admin(path: string, init?: RequestInit): Promise<Response>;
  restart(): Promise<void>;
}

export interface TestNetwork {
  readonly central: TestCentral;
  readonly echo: EchoService;
  readonly consumer: TestGateway;
  readonly provider: TestGateway;
  /** Gateways of `extraProviders`, by member id. */
  readonly providers: Readonly<Record<string, TestGateway>>;
  /** `http://…/r1/CAMDX/GOV/MOI/KYC/echo` on the consumer gateway. */
  readonly serviceUrl: string;
  close(): Promise<void>;
}

async function spec(member: string, name: string, subsystems: string[], services?: GatewaySpec['services'], extraConfig?: Partial<RawGatewayConfig>): Promise<GatewaySpec> {
  return {
    member,
    name,
    serverCode: 'SS1',
    subsystems,
    host: '127.0.0.1',
    ports: { consumer: await freePort(), peer: await freePort(), admin: await freePort(), console: await freePort() },
    ...(services ? { services } : {}),
    ...(extraConfig ? { extraConfig } : {}),
  };
}

/** Starts a provisioned gateway as its own process (`camdx gateway run`). */
export async function runGateway(config: string): Promise<ChildService> {
  return spawnCamdx(['--log-level', 'warn', 'gateway', 'run', '--config', config], /gateway \S+ ready/);
}

/**
 * PKI + central + two gateway processes + an echo service: DEMOBANK/ONBOARDING may call
 * GET and POST /echo/** on MOI/KYC's echo service (and nothing else).
 */
export async function startTestNetwork(
  options: {
    consumerConfig?: Partial<RawGatewayConfig>;
    providerConfig?: Partial<RawGatewayConfig>;
    confExpirySeconds?: number;
    timestampingIntervalSeconds?: number;
    /** More services on the provider (id → base URL, or 'echo'), each open to the test client for any method and path. */
    extraServices?: Record<string, string>;
    /** More providing members, each with its own gateway; the test client may call their services (any method and path). */
    extraProviders?: ReadonlyArray<{ member: string; name: string; subsystems: string[]; services: Record<string, string> }>;
  } = {},
): Promise<TestNetwork> {
  const central = await startTestCentral({
    autoApprove: true,
    timestampingIntervalSeconds: options.timestampingIntervalSeconds ?? 60,
    ...(options.confExpirySeconds ? { confExpirySeconds: options.confExpirySeconds } : {}),
  });
  const echo = await startEcho();
  const ctx = { central: central.admin, centralUrl: central.running.url, pkiUrl: central.pki.url, anchorFile: centralLayout(central.stateDir).anchor };
  const providerSpec = await spec(
    'CAMDX/GOV/MOI',
    'Ministry of Interior',
    ['KYC'],
    {
      [SERVICE]: { url: echo.url, endpoints: [{ method: 'POST', path: '/echo/**' }, { method: 'GET', path: '/echo/**' }, { method: 'GET', path: '/admin/**' }], openApi: '{"openapi":"3.0.3","info":{"title":"echo","version":"1"},"paths":{}}' },
      ...Object.fromEntries(Object.entries(options.extraServices ?? {}).map(([id, url]) => [id, { url: url === 'echo' ? echo.url : url, endpoints: [{ method: '*', path: '/**' }] }])),
    },
    { globalconf: { pollSeconds: 1 }, ...options.providerConfig },
  );
  // The bank's systems are demo clients (plain HTTP); the provider's own subsystems keep the HTTPS default.
  const consumerSpec = { ...(await spec('CAMDX/COM/DEMOBANK', 'Demo Bank Plc', ['ONBOARDING', 'OTHER'], undefined, { globalconf: { pollSeconds: 1 }, ...options.consumerConfig })), plainHttpClients: true };
  const gateway = async (s: GatewaySpec): Promise<TestGateway> => {
    const dir = join(central.stateDir, 'gateways', s.member.split('/')[2]!);
    mkdirSync(dir, { recursive: true });
    const config = await provisionGateway(ctx, s, dir);
    // A test may move the console elsewhere with its own listen.console.
    const consolePort = (s.extraConfig?.listen as { console?: { port: number } } | undefined)?.console?.port ?? s.ports.console!;
    const consoleUrl = `http://127.0.0.1:${consolePort}`;
    const g: TestGateway = {
      dir,
      config,
      spec: s,
      child: undefined as unknown as ChildService,
      consumerUrl: `http://127.0.0.1:${s.ports.consumer}`,
      adminUrl: `http://127.0.0.1:${s.ports.admin}`,
      consoleUrl,
      admin: (path, init = {}) => fetch(`${consoleUrl}/api/v1${path}`, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${readAdminToken(dir)}` } }),
      restart: async () => {
        await g.child.stop();
        g.child = await runGateway(config);
      },
    };
    return g;
  };
  const provider = await gateway(providerSpec);
  const consumer = await gateway(consumerSpec);
  const providers: Record<string, TestGateway> = {};
  for (const p of options.extraProviders ?? []) {
    const services = Object.fromEntries(Object.entries(p.services).map(([id, url]) => [id, { url, endpoints: [{ method: '*', path: '/**' }] }]));
    providers[p.member] = await gateway(await spec(p.member, p.name, p.subsystems, services, { globalconf: { pollSeconds: 1 } }));
  }
  await central.admin.call('POST', '/access-rights', { subject: `${CLIENT}`, service: SERVICE, method: 'POST', path: '/echo/**' });
  await central.admin.call('POST', '/access-rights', { subject: `${CLIENT}`, service: SERVICE, method: 'GET', path: '/echo/**' });
  const extraIds = [...Object.keys(options.extraServices ?? {}), ...(options.extraProviders ?? []).flatMap((p) => Object.keys(p.services))];
  for (const id of extraIds) await central.admin.call('POST', '/access-rights', { subject: CLIENT, service: id });
  const all = [provider, consumer, ...Object.values(providers)];
  await Promise.all(all.map(async (g) => (g.child = await runGateway(g.config))));
  return {
    central,
    echo,
    consumer,
    provider,
    providers,
    serviceUrl: `${consumer.consumerUrl}/r1/${SERVICE}`,
    close: async () => {
      await Promise.all(all.map((g) => g.child?.stop()));
      await echo.close();
      await central.close();
    },
  };
}
