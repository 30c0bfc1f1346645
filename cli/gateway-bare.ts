import { failCommand, parsePort, type GlobalOptions } from './context.js';
import { stopOnSignal, type RunOptions } from './gateway.js';

/** `camdx gateway run --new --dir DIR --anchor FILE` plus ports: a bare gateway, set up in its console. */
export async function runBare(globals: GlobalOptions, o: RunOptions): Promise<void> {
  if (o.config) failCommand('--new sets up a new gateway in --dir; --config runs one that is set up: give one of them', 2);
  if (!o.dir) failCommand('--new needs --dir DIR: the directory the gateway is set up in', 2);
  const missing = (['consumerPort', 'peerPort', 'adminPort', 'consolePort'] as const).filter((k) => o[k] === undefined).map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
  if (missing.length) failCommand(`--new needs ${missing.join(', ')}`, 2);
  const pollSeconds = Number(o.pollSeconds);
  if (!Number.isInteger(pollSeconds) || pollSeconds < 1) failCommand(`--poll-seconds '${o.pollSeconds}' is not a whole number of seconds ≥ 1`, 2);
  const { startBareGateway } = await import('../gateway/bare/bare-gateway.js');
  const { ConfigError } = await import('../gateway/config.js');
  const { createLogger } = await import('../common/log.js');
  const log = createLogger('gateway (set-up)', globals.logLevel ?? process.env.CAMDX_LOG_LEVEL ?? 'info');
  let bare;
  try {
    bare = await startBareGateway(
      {
        dir: o.dir,
        ...(o.anchor ? { anchorFile: o.anchor } : {}),
        host: o.host,
        consoleHost: o.consoleHost,
        pollSeconds,
        ports: { consumer: parsePort(o.consumerPort!), peer: parsePort(o.peerPort!), admin: parsePort(o.adminPort!), console: parsePort(o.consolePort!) },
      },
      log,
    );
  } catch (err) {
    if (err instanceof ConfigError) failCommand(err.message, 2);
    throw err;
  }
  const s = bare.status();
  process.stdout.write(`gateway${s.serverId ? ` ${s.serverId}` : ''} not set up yet (next: ${s.next}); admin ${o.host}:${bare.ports.admin}, console ${o.consoleHost}:${bare.ports.console}\n`);
  process.stdout.write(`admin token: ${bare.adminTokenFile}\n`);
  process.stdout.write(`set up in the browser, within 15 minutes (the link opens one session): ${bare.setupUrl}\n`);
  stopOnSignal(() => bare.stop());
  bare.running.then(
    (g) =>
      process.stdout.write(
        `gateway ${g.context.config.serverId} ready: consumer ${o.host}:${g.ports.consumer}, peer ${o.host}:${g.ports.peer}, admin ${o.host}:${g.ports.admin}, ` +
          `console ${o.consoleHost}:${g.ports.console}\n`,
      ),
    (err: Error) => {
      process.stderr.write(`camdx: the set-up gateway could not start: ${err.message}\n`);
      process.exit(1);
    },
  );
}

/**
 * `camdx gateway initialize --dir DIR --console HOST:PORT --owner ID --server-code CODE`: the
 * set-up URL's first step without a browser (X-Road's initial configuration). The next steps
 * are `camdx gateway key|csr|cert … --config DIR/gateway.yaml`.
 */
export async function initialize(o: { dir: string; console: string; owner: string; serverCode: string }): Promise<void> {
  const { readAdminToken } = await import('../gateway/admin/token.js');
  const { gatewayApiAt } = await import('./gateway-api.js');
  let token: string;
  try {
    token = readAdminToken(o.dir);
  } catch (err) {
    failCommand((err as Error).message, 2);
  }
  const status = await gatewayApiAt<{ serverId: string; next: string; warnings: string[] }>(`http://${o.console}/api/v1/initialization`, token, 'POST', { ownerId: o.owner, serverCode: o.serverCode });
  for (const w of status.warnings) process.stderr.write(`camdx: warning: ${w}\n`);
  process.stdout.write(`initialised as ${status.serverId}; next: ${status.next}\nthe key, csr and cert commands take --config ${o.dir}/gateway.yaml\n`);
}
