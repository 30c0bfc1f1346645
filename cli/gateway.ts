import { dirname } from 'node:path';
import type { Command } from 'commander';
import { failCommand, parsePort, type GlobalOptions } from './context.js';
import { registerGatewayClients } from './gateway-clients.js';
import { registerGatewayRights } from './gateway-rights.js';
import { registerGatewayGroups } from './gateway-groups.js';
import { registerGatewayMaintenance } from './gateway-maintenance.js';
import { registerGatewayKeys } from './gateway-keys.js';
import { registerGatewayServices } from './gateway-services.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

export interface RunOptions {
  config?: string;
  new?: boolean;
  dir?: string;
  anchor?: string;
  host: string;
  consumerPort?: string;
  peerPort?: string;
  adminPort?: string;
  consolePort?: string;
  consoleHost: string;
  pollSeconds: string;
}

/** `camdx gateway run --config FILE`: the gateway of a configuration, until SIGINT or SIGTERM. */
async function runConfigured(globals: GlobalOptions, file: string): Promise<void> {
  const { loadGatewayConfig, ConfigError } = await import('../gateway/config.js');
  const { startGateway } = await import('../gateway/gateway.js');
  const { createLogger } = await import('../common/log.js');
  let config;
  try {
    config = loadGatewayConfig(file);
  } catch (err) {
    // A bare gateway's gateway.yaml exists before its keystores do.
    const inSetup = err instanceof ConfigError && err.field.startsWith('keystores.') && /does not exist/.test(err.message);
    if (err instanceof ConfigError) failCommand(inSetup ? `${err.message}; a gateway still being set up runs with camdx gateway run --new --dir ${dirname(file)}` : err.message, 2);
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
  process.stdout.write(
    `gateway ${config.serverId} ready: consumer ${config.listen.consumer.host}:${ports.consumer}, peer ${config.listen.peer.host}:${ports.peer}, admin ` +
      `${config.listen.admin.host}:${ports.admin}${config.listen.console && ports.console ? `, console ${config.listen.console.host}:${ports.console}` : ''}\n`,
  );
  stopOnSignal(() => running.stop());
}

/** SIGINT or SIGTERM: stop, then exit 0. */
export function stopOnSignal(stop: () => Promise<void>): void {
  const handler = async () => {
    await stop();
    process.exit(0);
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}

export function registerGateway(program: Command): void {
  const gateway = program.command('gateway').description("a member's security server");
  gateway
    .command('run')
    .description('run one gateway (consumer, peer TLS, admin and console ports) from its configuration file; with --new, a bare gateway to set up in its console')
    .option('--config <file>', 'gateway configuration (YAML)')
    .option('--new', 'a bare gateway in --dir: writes its admin token, prints a one-time setup URL, and opens the consumer and peer ports once set up and registered')
    .option('--dir <dir>', 'with --new: the gateway directory (created; a set-up under way resumes)')
    .option('--anchor <file>', 'with --new: the configuration anchor (camdx central anchor --out …)')
    .option('--host <address>', 'with --new: address to bind and to publish for other gateways', '127.0.0.1')
    .option('--consumer-port <port>', 'with --new: plain HTTP port for your information systems')
    .option('--peer-port <port>', 'with --new: mutual-TLS port for other gateways')
    .option('--admin-port <port>', 'with --new: /metrics and /health')
    .option('--console-port <port>', 'with --new: the console and its API (/console, /api/v1)')
    .option('--console-host <address>', 'with --new: address the console binds to', '127.0.0.1')
    .option('--poll-seconds <n>', "with --new: how often to download central's global configuration", '60')
    .action(async (o: RunOptions) => {
      if (o.new) return (await import('./gateway-bare.js')).runBare(program.opts<GlobalOptions>(), o);
      if (!o.config) failCommand('say which gateway: --config FILE, or --new --dir DIR … for a bare gateway to set up', 2);
      (await import('../gateway/heap.js')).tuneGatewayHeap();
      await runConfigured(program.opts<GlobalOptions>(), o.config);
    });

  gateway
    .command('initialize')
    .description("a bare gateway's owner and server code (camdx gateway run --new), as its setup URL's first step")
    .requiredOption('--dir <dir>', 'the bare gateway directory (holding admin-token)')
    .requiredOption('--console <host:port>', "the bare gateway's console (--console-host:--console-port)")
    .requiredOption('--owner <member>', 'member id, e.g. CAMDX/COM/ACME')
    .requiredOption('--server-code <code>', 'security server code, e.g. SS1')
    .action(async (o: { dir: string; console: string; owner: string; serverCode: string }) => (await import('./gateway-bare.js')).initialize(o));

  gateway
    .command('init')
    .description("set up a gateway directory from the member's own keys and certificates (bring your own member)")
    .requiredOption('--dir <dir>', 'directory for the keystores, anchor, message log and gateway.yaml')
    .requiredOption('--owner <member>', 'member id, e.g. CAMDX/COM/ACME')
    .option('--server-code <code>', 'security server code', 'SS1')
    .requiredOption('--sign-key <file>', 'signing key (PEM)')
    .requiredOption('--sign-cert <file>', 'signing certificate from the RA (PEM, chain may follow)')
    .requiredOption('--auth-key <file>', 'authentication (TLS) key (PEM)')
    .requiredOption('--auth-cert <file>', 'authentication certificate from the RA (PEM, chain may follow)')
    .requiredOption('--anchor <file>', 'the configuration anchor (camdx central anchor --out …)')
    .option('--host <address>', 'address to bind and to publish for other gateways', '127.0.0.1')
    .requiredOption('--consumer-port <port>', 'plain HTTP port for your information systems')
    .requiredOption('--peer-port <port>', 'mutual-TLS port for other gateways')
    .requiredOption('--admin-port <port>', 'admin port: /metrics and /health, open for Prometheus and central')
    .requiredOption('--console-port <port>', 'console API (/api/v1: records, OCSP refresh, key reload, settings) with the admin token (<dir>/admin-token)')
    .option('--console-host <address>', 'address the console API binds to', '127.0.0.1')
    .option('--service <id=url>', 'a service you provide and the base URL of its API (repeatable)', collect, [])
    .option(
      '--http-client <subsystem>',
      'a client subsystem whose information systems call over plain HTTP, for a demo (repeatable); other clients get HTTPS with a pinned IS certificate, as in X-Road',
      collect,
      [],
    )
    .action(
      async (o: {
        dir: string;
        owner: string;
        serverCode: string;
        signKey: string;
        signCert: string;
        authKey: string;
        authCert: string;
        anchor: string;
        host: string;
        consumerPort: string;
        peerPort: string;
        adminPort: string;
        consolePort: string;
        consoleHost: string;
        service: string[];
        httpClient: string[];
      }) => {
        const { initGatewayDir } = await import('../gateway/setup/init.js');
        try {
          const services = Object.fromEntries(
            o.service.map((pair) => {
              const eq = pair.indexOf('=');
              if (eq < 1) throw new Error(`--service '${pair}' must look like CAMDX/COM/ACME/SHOP/orders=http://127.0.0.1:7000`);
              return [pair.slice(0, eq), pair.slice(eq + 1)];
            }),
          );
          const file = initGatewayDir({
            dir: o.dir,
            owner: o.owner,
            serverCode: o.serverCode,
            host: o.host,
            ports: { consumer: parsePort(o.consumerPort), peer: parsePort(o.peerPort), admin: parsePort(o.adminPort), console: parsePort(o.consolePort) },
            consoleHost: o.consoleHost,
            services,
            signing: { keyFile: o.signKey, certFile: o.signCert },
            auth: { keyFile: o.authKey, certFile: o.authCert },
            anchorFile: o.anchor,
            httpClients: o.httpClient,
          });
          const { join } = await import('node:path');
          process.stdout.write(
            `gateway configuration written to ${file}\nadmin token (Authorization: Bearer for the console API, /api/v1 on port ${o.consolePort}): ` +
              `${join(o.dir, 'admin-token')}\nnext: camdx gateway register --config ${file} --client <your subsystem>\n`,
          );
        } catch (err) {
          failCommand((err as Error).message, 2);
        }
      },
    );

  gateway
    .command('register')
    .description("register the gateway's authentication certificate and client subsystems with central (signed management requests)")
    .requiredOption('--config <file>', 'gateway configuration (YAML)')
    .option('--client <subsystem>', 'a client subsystem this server serves (repeatable)', collect, [])
    .option('--address <host:port>', 'address other gateways use to reach this one (default: listen.peer)')
    .action(async (o: { config: string; client: string[]; address?: string }) => {
      const { loadGatewayConfig } = await import('../gateway/config.js');
      const { loadGatewayKeys } = await import('../gateway/keys.js');
      const { registerServer } = await import('../gateway/setup/register.js');
      const { parseAnchor } = await import('../protocol/anchor.js');
      const { readFileSync } = await import('node:fs');
      try {
        const config = loadGatewayConfig(o.config);
        const keys = loadGatewayKeys(config);
        const { anchor } = parseAnchor(readFileSync(config.anchor, 'utf8'));
        const results = await registerServer(anchor.centralUrl, {
          serverId: config.serverId,
          address: o.address ?? `${config.listen.peer.host}:${config.listen.peer.port}`,
          clients: o.client,
          keys: { sign: keys.signing, auth: keys.auth },
        });
        for (const r of results) process.stdout.write(`${r.request}: ${r.outcome}\n`);
        if (results.some((r) => r.outcome === 'submitted')) process.stdout.write("waiting for central's operator to approve (camdx central request list / approve)\n");
      } catch (err) {
        failCommand((err as Error).message, 1);
      }
    });

  gateway
    .command('renew')
    .description(
      'replace a revoked (or expiring) certificate: new key, enrolment token from central, CSR, certificate from the RA, registerAuthCert for auth, keystore ' +
        'swap; a running gateway switches without a restart',
    )
    .requiredOption('--config <file>', 'gateway configuration (YAML)')
    .requiredOption('--certificate <which>', 'auth (TLS) or signing')
    .action(async (o: { config: string; certificate: string }) => (await import('./gateway-renew.js')).renew(program.opts<GlobalOptions>(), o));

  gateway
    .command('doctor')
    .description(
      "connection tests, as X-Road's diagnostics: central, the global configuration's version and age, OCSP responders, TSAs, callable peers' TLS pins, own " +
        "services' base URLs; one line each, exit 1 on any failure",
    )
    .option('--config <file>', 'gateway configuration (YAML)')
    .option('--dir <dir>', 'gateway directory holding gateway.yaml')
    .option('--member <code>', 'in the simulation: the gateway of this member (MOI or CAMDX/GOV/MOI), from the state directory')
    .action(async (o: { config?: string; dir?: string; member?: string }) => (await import('./gateway-doctor.js')).doctor(program.opts<GlobalOptions>(), o));
  registerGatewayKeys(gateway);
  registerGatewayClients(gateway);
  registerGatewayRights(gateway);
  registerGatewayGroups(gateway);
  registerGatewayMaintenance(gateway);
  registerGatewayServices(gateway);
}
