import { createServer } from 'node:net';
import { MEMBERS, type SimPorts } from './topology.js';

/** One port the simulation will bind, and the part of the network that binds it. */
export interface PlannedPort {
  readonly port: number;
  readonly part: string;
}

/**
 * Every port `npm start` binds for `ports`, named by part (`DEMOBANK gateway admin`).
 * Prometheus and Grafana are left out: `npm start` runs neither, and one already running on its
 * default port must not stop the network.
 */
export function portPlan(ports: SimPorts): PlannedPort[] {
  return [
    { port: ports.central, part: 'central server' },
    { port: ports.centralConsole, part: 'central console' },
    { port: ports.pki, part: 'PKI' },
    { port: ports.camdigikeyHttp, part: 'CamDigiKey HTTP' },
    { port: ports.camdigikeyHttps, part: 'CamDigiKey HTTPS' },
    { port: ports.moi, part: 'MOI Open KYC' },
    { port: ports.demoBank, part: 'Demo Bank' },
    ...MEMBERS.flatMap((m) => {
      const p = ports.members[m.key];
      const gateway = `${m.key.toUpperCase()} gateway`;
      return [
        { port: p.consumer, part: `${gateway} consumer` },
        { port: p.peer, part: `${gateway} peer` },
        { port: p.admin, part: `${gateway} admin` },
        { port: p.console, part: `${gateway} console` },
      ];
    }),
  ];
}

/** The plan cannot be started: ports planned twice (overrides), out of range, or already bound. */
export class PortClashError extends Error {}

/** `9080 (DEMOBANK gateway admin)` */
const named = (p: PlannedPort) => `${p.port} (${p.part})`;

/** Problems of the plan itself, found without binding anything. */
function planProblems(plan: readonly PlannedPort[]): string[] {
  const problems = plan.filter((p) => !Number.isInteger(p.port) || p.port < 1 || p.port > 65_535).map((p) => `${named(p)} is not a TCP port`);
  const byPort = new Map<number, PlannedPort[]>();
  for (const p of plan) byPort.set(p.port, [...(byPort.get(p.port) ?? []), p]);
  for (const [port, parts] of byPort) if (parts.length > 1) problems.push(`${port} is planned for ${parts.map((p) => p.part).join(' and ')}`);
  return problems;
}

/** Why `port` cannot be bound on `host` right now (an errno code such as EADDRINUSE), or undefined if it can. */
function bindProblem(port: number, host: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    probe.listen(port, host, () => probe.close(() => resolve(undefined)));
  });
}

const WHY: Record<string, string> = {
  EADDRINUSE: 'is in use',
  EACCES: 'needs root to bind',
  EADDRNOTAVAIL: 'cannot be bound (the address is not one of this machine)',
};

/**
 * Checks every planned port with a real bind on `host` (what the services will do), all before
 * anything starts, so a clash stops `npm start` with every taken port named rather than half a
 * network dying on EADDRINUSE. Throws PortClashError.
 */
export async function checkPortPlan(planned: readonly PlannedPort[], host: string): Promise<void> {
  // Port 0 (--pki-port 0): a free port picked when the part starts, nothing to check.
  const plan = planned.filter((p) => p.port !== 0);
  const problems = planProblems(plan);
  if (problems.length) throw new PortClashError(`${problems.join('; ')}; nothing was started`);
  const why = await Promise.all(plan.map((p) => bindProblem(p.port, host)));
  const refused = plan.flatMap((p, i) => (why[i] ? [`${named(p)} ${WHY[why[i]] ?? `cannot be bound (${why[i]})`}`] : []));
  if (refused.length === 0) return;
  throw new PortClashError(
    `${refused.join(', ')} on ${host}; nothing was started. Free ${refused.length > 1 ? 'those ports' : 'that port'} (another npm start? \`ss -ltnp\` ` +
      `shows who listens), or move this network with --port-offset (the README lists offsets clear of the default network)`,
  );
}
