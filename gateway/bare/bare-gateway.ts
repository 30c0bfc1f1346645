import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { LoginLimiter } from '../../common/console/login-limit.js';
import { SessionStore } from '../../common/console/sessions.js';
import { ensureDir, writeFileAtomic } from '../../common/files.js';
import { close, listen } from '../../common/http.js';
import { limitConnections, listenerOptions } from '../../common/listen.js';
import type { Logger } from '../../common/log.js';
import { openDatabase } from '../../common/sqlite.js';
import { parseAnchor } from '../../protocol/anchor.js';
import { ensureAdminToken, loadAdminToken } from '../admin/token.js';
import { ConfigError, loadGatewayConfig, type GatewayConfig } from '../config.js';
import { consoleApp } from '../console/app.js';
import { gatewayAuditWriter } from '../console/audit-log.js';
import { startGateway, type RunningGateway } from '../gateway.js';
import { GlobalConfClient } from '../globalconf/client.js';
import { ConfView } from '../globalconf/view.js';
import { OwnOcsp } from '../ocsp/own.js';
import { bareAdminHandler } from './admin.js';
import { bareApiRouter, type BareSetup } from './console-api.js';
import { initializationStatus, writeInitialConfig } from './initialization.js';
import { SetupCode } from './setup-code.js';
import { SetupContext } from './setup-context.js';

export interface BareGatewayOptions {
  /** The gateway directory: gateway.yaml, keystores, anchor and state, as `gateway init` lays it out. */
  readonly dir: string;
  /** The configuration anchor from central's operator; not needed when the directory holds one. */
  readonly anchorFile?: string;
  /** Address the consumer, peer and admin ports bind (and the peer address published). */
  readonly host: string;
  readonly consoleHost: string;
  readonly ports: { readonly consumer: number; readonly peer: number; readonly admin: number; readonly console: number };
  readonly pollSeconds: number;
}

export interface RunningBareGateway {
  /** `http://host:port/console/setup#CODE`: one use, 15 minutes. */
  readonly setupUrl: string;
  readonly adminTokenFile: string;
  readonly ports: { readonly admin: number; readonly console: number };
  /** Settles when the gateway carries traffic: its consumer and peer ports are open. */
  readonly running: Promise<RunningGateway>;
  /** The set-up as it stands (GET /api/v1/initialization/status). */
  status(): ReturnType<typeof initializationStatus>;
  stop(): Promise<void>;
}

/** The anchor in the directory (copied there on the first start), checked to parse. */
function anchorText(o: BareGatewayOptions): string {
  const kept = join(o.dir, 'anchor.json');
  const source = o.anchorFile ?? (existsSync(kept) ? kept : undefined);
  if (!source) throw new ConfigError('anchor', `${o.dir} holds no anchor.json yet: give --anchor FILE (camdx central anchor --out …)`);
  let text: string;
  try {
    text = readFileSync(source, 'utf8');
    parseAnchor(text);
  } catch (err) {
    throw new ConfigError('anchor', `${source}: ${(err as Error).message}`);
  }
  if (source !== kept) writeFileAtomic(kept, text);
  return text;
}

/**
 * A bare gateway (X-Road's security server before its initial configuration): the admin token
 * written before any port opens, then only the admin port (`/health` says `uninitialised`, 503)
 * and the console, where the one-time setup URL opens a session. The owner and server code
 * entered there write gateway.yaml; the keys, certificates and registration follow on the Keys
 * page (or `camdx gateway key|csr|cert`). The consumer and peer ports stay closed until the polled
 * global configuration lists this server's authentication certificate; then the whole gateway
 * starts, taking over the open admin and console ports (a request under way finishes).
 */
export async function startBareGateway(o: BareGatewayOptions, log: Logger, clock: () => number = Date.now): Promise<RunningBareGateway> {
  const configFile = join(o.dir, 'gateway.yaml');
  let config: GatewayConfig | undefined = existsSync(configFile) ? loadGatewayConfig(configFile, { inSetup: true }) : undefined;
  const anchor = anchorText(o);
  ensureDir(o.dir, 0o700);
  const adminTokenFile = ensureAdminToken(o.dir);
  const adminToken = loadAdminToken(o.dir);

  const globalConf = new GlobalConfClient({ anchor, cacheDir: join(o.dir, 'globalconf'), intervalMs: (config?.globalconf.pollSeconds ?? o.pollSeconds) * 1000, log, clock });
  const ownOcsp = new OwnOcsp([], log, clock, join(o.dir, 'ocsp'));
  let context = config ? new SetupContext(config, globalConf, ownOcsp, clock) : undefined;
  let full: RunningGateway | undefined;
  let startingFull: Promise<void> | undefined;
  let settle!: { resolve: (g: RunningGateway) => void; reject: (err: Error) => void };
  const running = new Promise<RunningGateway>((resolve, reject) => (settle = { resolve, reject }));

  const db = openDatabase(join(o.dir, 'console.db'), []);
  const audit = gatewayAuditWriter(o.dir, clock);
  const setupCode = new SetupCode(clock);
  const setup: BareSetup = {
    status: () => initializationStatus(context, globalConf.current, full !== undefined),
    get context() {
      return context;
    },
    initialize(body) {
      config = writeInitialConfig(o.dir, body, parseAnchor(anchor).anchor.instance, {
        host: o.host,
        consoleHost: o.consoleHost,
        ports: o.ports,
        extra: { globalconf: { pollSeconds: o.pollSeconds } },
      });
      context = new SetupContext(config, globalConf, ownOcsp, clock);
      const known = globalConf.current?.members.some((m) => m.id === config!.ownerId);
      log.info({ server: config.serverId }, 'bare gateway initialised: owner and server code set');
      return {
        serverId: config.serverId,
        warnings: known ? [] : [`central's global configuration lists no member ${config.ownerId} yet: its certificates can be requested once central's operator adds it`],
      };
    },
    changed: () => void whenReady(),
  };

  const admin = limitConnections(
    createServer(
      listenerOptions(),
      bareAdminHandler(() => setup.status()),
    ),
  );
  const api = bareApiRouter({ adminToken, sessions: new SessionStore(db, clock), limiter: new LoginLimiter(clock), audit, setupCode, setup });
  const consoleServer = limitConnections(createServer(listenerOptions(), consoleApp({ consoleHost: o.consoleHost, audit, log, title: 'CamDX security server (not set up yet): console', api })));
  const opened: Server[] = [];
  const stopBare = () => {
    globalConf.stop();
    ownOcsp.stop();
    db.close();
  };

  /** Once both certificates are in and central lists the auth certificate: the whole gateway, on the open admin and console ports. */
  function whenReady(): Promise<void> | undefined {
    if (full || !context?.complete || !setup.status().authCertRegistered) return startingFull;
    startingFull ??= (async () => {
      log.info({ server: context.config.serverId }, "central's configuration lists the authentication certificate: opening the consumer and peer ports");
      globalConf.stop();
      try {
        full = await startGateway(context.config, log, clock, { admin, console: consoleServer });
      } catch (err) {
        log.error({ err: { message: (err as Error).message } }, 'the set-up gateway could not start');
        settle.reject(err as Error);
        return;
      }
      ownOcsp.stop();
      db.close();
      settle.resolve(full);
    })();
    return startingFull;
  }

  try {
    const ports = { admin: await listen(admin, o.ports.admin, o.host), console: await listen(consoleServer, o.ports.console, o.consoleHost) };
    opened.push(admin, consoleServer);
    globalConf.on('change', (conf) => {
      ownOcsp.setView(new ConfView(conf));
      void whenReady();
    });
    await globalConf.start();
    if (globalConf.current) ownOcsp.setView(new ConfView(globalConf.current));
    void whenReady();
    const shownHost = o.consoleHost === '0.0.0.0' ? '127.0.0.1' : o.consoleHost.includes(':') ? `[${o.consoleHost}]` : o.consoleHost;
    return {
      setupUrl: `http://${shownHost}:${ports.console}/console/setup#${setupCode.code}`,
      adminTokenFile,
      ports,
      running,
      status: setup.status,
      stop: async () => {
        await startingFull;
        if (full) return full.stop();
        stopBare();
        await Promise.all(opened.map((s) => close(s)));
      },
    };
  } catch (err) {
    stopBare();
    await Promise.all(opened.map((s) => close(s)));
    throw err;
  }
}
