import { AccessOverlay } from './access/overlay.js';
import { SentRequests } from './access/pending.js';
import { startWithdrawalResender } from './access/withdrawals.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ensureDir } from '../common/files.js';
import { close, listen } from '../common/http.js';
import { limitConnections } from '../common/listen.js';
import type { Logger } from '../common/log.js';
import type { GlobalConf } from '../protocol/globalconf.js';
import { createAdminServer } from './admin/server.js';
import { createGatewayConsole } from './console/app.js';
import { gatewayListenerOptions } from './transport/listeners.js';
import { loadAdminToken } from './admin/token.js';
import type { GatewayConfig } from './config.js';
import { createConsumerServers } from './consumer/server.js';
import { ProviderPools } from './consumer/pools.js';
import { outdated, type GatewayContext } from './context.js';
import { GlobalConfClient } from './globalconf/client.js';
import { ConfView } from './globalconf/view.js';
import { internalTls } from './internal-tls.js';
import { Keyring } from './keyring.js';
import { loadGatewayKeys, type KeyAndChain } from './keys.js';
import { MessageSigner } from './message/signer.js';
import { MessageVerifier, ReplayGuard } from './message/verifier.js';
import { MessageLog } from './messagelog/log.js';
import { Timestamper } from './messagelog/timestamper.js';
import { OwnOcsp } from './ocsp/own.js';
import { GatewayMetrics } from './opmon/metrics.js';
import { createProviderServer } from './provider/server.js';
import { chainPem, MIN_TLS, peerChainPems, refuseUnapprovedPeers } from './transport/tls.js';
import { SpoolDirectory } from './transport/spool.js';
import { promoteSavedAuth } from './setup/certificate-import.js';
import { subsystemOfId } from '../protocol/identifiers.js';

export interface RunningGateway {
  readonly ports: { consumer: number; consumerTls?: number; peer: number; admin: number; console?: number };
  readonly context: GatewayContext;
  /** Problems between this gateway's configuration and the global configuration, found at start. */
  readonly warnings: readonly string[];
  stop(): Promise<void>;
}

/** Services configured here but unknown to central, and central's services here with no base URL. */
function serviceMismatches(config: GatewayConfig, conf: GlobalConf): string[] {
  const warnings: string[] = [];
  const hosted = new Set(conf.securityServers.find((s) => s.id === config.serverId)?.clients ?? []);
  for (const id of Object.keys(config.services)) {
    if (!conf.services.some((s) => s.id === id)) warnings.push(`services.${id} is configured here but central has no such service`);
  }
  for (const s of conf.services) {
    const provider = subsystemOfId(s.id);
    if (hosted.has(provider) && !config.services[s.id]) warnings.push(`central lists ${s.id} for ${provider}, a client of this server, but no base URL is configured`);
  }
  return warnings;
}

/** Makes the message signer for a signing key (at start and after a renewal), reporting its batches to the metrics. */
function signerFactory(config: GatewayConfig, metrics: GatewayMetrics) {
  return (signing: KeyAndChain) =>
    new MessageSigner(signing.key, signing.cert, {
      batching: config.signing.batching,
      onBatch: (size, ms) => {
        metrics.signBatchSize.observe(size);
        metrics.signSeconds.observe(ms / 1000);
      },
    });
}

/** Listeners already open, whose requests the gateway takes over: a bare gateway's admin and console ports as its set-up ends (gateway/bare/). */
export interface ListeningServers {
  readonly admin?: Server;
  readonly console?: Server;
}

/**
 * Gives `existing`'s requests to `replacement`'s handlers: the port stays open throughout, a
 * request under way finishes on the old handler, and the next one reaches the new.
 */
function takeOver(existing: Server, replacement: Server): number {
  const handlers = replacement.listeners('request') as Array<(...args: unknown[]) => void>;
  existing.removeAllListeners('request');
  for (const handler of handlers) existing.on('request', handler);
  return (existing.address() as AddressInfo).port;
}

/** Starts one security server: consumer port(s), peer TLS port, admin port, and its console listener when configured. */
export async function startGateway(config: GatewayConfig, log: Logger, clock: () => number = Date.now, listening: ListeningServers = {}): Promise<RunningGateway> {
  const keys = loadGatewayKeys(config);
  ensureDir(config.stateDir, 0o700);
  const adminToken = loadAdminToken(config.stateDir);
  const metrics = new GatewayMetrics({ server: config.serverId });
  const messageLog = new MessageLog(join(config.stateDir, 'messagelog.db'), log);
  const globalConf = new GlobalConfClient({ anchor: readFileSync(config.anchor, 'utf8'), cacheDir: join(config.stateDir, 'globalconf'), intervalMs: config.globalconf.pollSeconds * 1000, log, clock });
  let current: ConfView | undefined;
  const ownOcsp = new OwnOcsp(
    [
      { name: 'auth', cert: keys.auth.cert },
      { name: 'signing', cert: keys.signing.cert },
    ],
    log,
    clock,
    join(config.stateDir, 'ocsp'),
  );
  const timestamper = new Timestamper(messageLog, { acceptableFailureSeconds: config.timestamping.acceptableFailureSeconds }, log, metrics, clock);
  const replay = new ReplayGuard(10 * 60_000, clock);
  for (const { leaf, at } of messageLog.recentRequestLeaves(replay.windowMilliseconds)) replay.remember(leaf, at);
  const providerTls = () => ({
    key: keyring.keys.auth.key.export({ type: 'pkcs8', format: 'pem' }) as string,
    cert: chainPem(keyring.keys.auth),
    ca: current ? peerChainPems(current) : [],
    minVersion: MIN_TLS,
  });
  const keyring = new Keyring(keys, {
    config,
    ownOcsp,
    signerFor: signerFactory(config, metrics),
    // New TLS connections present the new authentication certificate; open ones finish their exchanges first.
    onSwitch: (changed) => {
      if (!changed.includes('auth')) return;
      provider?.setSecureContext(providerTls());
      pools.retire();
      provider?.closeIdleConnections();
      log.info({ server: config.serverId, serial: keyring.keys.auth.cert.serialNumber }, 'switched to the renewed authentication certificate');
    },
  });
  // Console edits swap in a new configuration; what is set up below from `config` (listeners, keys, limits) is not editable at run time.
  let active = config;
  const accessOverlay = new AccessOverlay(config.stateDir);
  const sentRequests = new SentRequests(config.stateDir);
  const viewOf = (conf: GlobalConf) =>
    new ConfView(conf, {
      withdrawn: (r) => r.subjectType !== 'GLOBALGROUP' && accessOverlay.withdraws(r),
      leftGroup: (group, member) => accessOverlay.withdrawsMember(group, member),
      disabledHere: (server, client) => server === config.serverId && accessOverlay.disablesClient(client),
    });
  const ctx: GatewayContext = {
    get config() {
      return active;
    },
    replaceConfig(next) {
      active = next;
    },
    get keys() {
      return keyring.keys;
    },
    log,
    clock,
    globalConf,
    ownOcsp,
    get signer() {
      return keyring.signer;
    },
    verifier: new MessageVerifier(() => current!, {
      cacheSignatures: config.verification.cacheSignatures,
      clock,
      onVerify: (ms, cached) => metrics.verifySeconds.observe({ cached: cached ? 'yes' : 'no' }, ms / 1000),
    }),
    replay,
    messageLog,
    timestamper,
    metrics,
    spools: new SpoolDirectory(config.limits.spoolQuotaBytes),
    accessOverlay,
    sentRequests,
    view(side) {
      if (!current || globalConf.outdated) throw outdated(side);
      return current;
    },
  };

  const pools = new ProviderPools(ctx);
  let provider: ReturnType<typeof createProviderServer> | undefined;
  const warnings: string[] = [];
  // A saved authentication certificate (saved-auth.ts) goes into use once the configuration lists it.
  const promoteSaved = () =>
    void promoteSavedAuth(ctx, () => keyring.reload()).then(
      (switched) => switched && log.info({ server: config.serverId }, "central's configuration lists the saved authentication certificate: in use now"),
      (err: Error) => log.warn({ server: config.serverId, reason: err.message }, 'the saved authentication certificate could not go into use; the one in use stays'),
    );
  const adopt = (conf: GlobalConf) => {
    accessOverlay.settle(conf, config.serverId);
    sentRequests.settle(conf);
    current = viewOf(conf);
    timestamper.setConf(conf);
    ownOcsp.setView(current);
    provider?.setSecureContext(providerTls());
    promoteSaved();
  };
  globalConf.on('change', adopt);
  await globalConf.start();
  // A withdrawal applies to the next exchange; a configuration without the right ends it.
  accessOverlay.on('change', () => {
    if (globalConf.current) current = viewOf(globalConf.current);
  });
  const withdrawals = startWithdrawalResender(ctx, config.globalconf.pollSeconds * 1000);
  if (globalConf.current) {
    accessOverlay.settle(globalConf.current, config.serverId);
    sentRequests.settle(globalConf.current);
    current = viewOf(globalConf.current);
    timestamper.setConf(globalConf.current);
    warnings.push(...serviceMismatches(config, globalConf.current));
    await ownOcsp.start(current);
    promoteSaved();
  } else {
    log.warn({ server: config.serverId }, 'no global configuration yet: the gateway carries no traffic until one is downloaded');
  }
  for (const w of warnings) log.warn({ server: config.serverId }, w);
  // Connections stand on the OCSP status they were opened with: after a change, peers must
  // reconnect and see the new status (a revocation ends traffic now, not when pools age out).
  ownOcsp.on('change', () => {
    pools.reset();
    provider?.closeIdleConnections();
  });
  timestamper.start();
  const prune = () => {
    const removed = messageLog.prune(clock() - config.messagelog.retentionDays * 86_400_000);
    if (removed > 0) log.info({ removed }, 'removed archived message-log records past their retention');
  };
  prune();
  const retention = setInterval(prune, 3_600_000);
  retention.unref();

  provider = createProviderServer(ctx, current ? peerChainPems(current) : []);
  refuseUnapprovedPeers(provider, () => current, clock, log);
  const consumer = createConsumerServers(ctx, pools, config.listen.consumerTls ? internalTls(config.stateDir, config.serverId) : undefined);
  const admin = createAdminServer(ctx, () => {
    const s = globalConf.status();
    metrics.confAge.set(s.ageSeconds ?? -1);
    metrics.confVersion.set(s.version ?? 0);
    metrics.confOutdated.set(s.outdated ? 1 : 0);
    metrics.logQueue.set(messageLog.queueDepth);
    const stamping = timestamper.status();
    metrics.unstamped.set(stamping.unstamped);
    metrics.unstampedAge.set(stamping.oldestAgeSeconds);
    const freshness = globalConf.current?.ocspFreshnessSeconds ?? 3600;
    for (const [name, age] of Object.entries(ownOcsp.ages())) {
      metrics.ocspAge.set({ certificate: name }, age ?? -1);
      metrics.ocspGood.set({ certificate: name }, ownOcsp.freshDer(name as 'auth' | 'signing', freshness) ? 1 : 0);
    }
  });
  const gatewayConsole = config.listen.console ? createGatewayConsole(ctx, adminToken, () => keyring.reload(), clock) : undefined;
  const started: Server[] = [];
  const open = async (server: Server, where: { host: string; port: number }, already?: Server) => {
    if (already) {
      started.push(already);
      return takeOver(already, server);
    }
    limitConnections(server, config.limits);
    const port = await listen(server, where.port, where.host);
    started.push(server);
    return port;
  };
  try {
    const ports = {
      peer: await open(provider, config.listen.peer),
      consumer: await open(consumer.http, config.listen.consumer),
      admin: await open(admin, config.listen.admin, listening.admin),
      ...(consumer.https && config.listen.consumerTls ? { consumerTls: await open(consumer.https, config.listen.consumerTls) } : {}),
      ...(gatewayConsole && config.listen.console ? { console: await open(createServer(gatewayListenerOptions(config.limits), gatewayConsole.app), config.listen.console, listening.console) } : {}),
    };
    log.info({ server: config.serverId, ports }, 'gateway started');
    return {
      ports,
      context: ctx,
      warnings,
      stop: async () => {
        clearInterval(retention);
        withdrawals.stop();
        globalConf.stop();
        timestamper.stop();
        ownOcsp.stop();
        pools.reset();
        await Promise.all(started.map((s) => close(s)));
        gatewayConsole?.close();
        messageLog.close();
        ctx.spools.close();
      },
    };
  } catch (err) {
    await Promise.all(started.map((s) => close(s)));
    gatewayConsole?.close();
    globalConf.stop();
    timestamper.stop();
    ownOcsp.stop();
    messageLog.close();
    ctx.spools.close();
    throw err;
  }
}
