import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { pkiLayout } from '../certs/layout.js';
import { failCommand, stateDirOf, type GlobalOptions } from './context.js';
import { simGatewayConfig } from './sim-member.js';

interface GatewayChoice {
  config?: string;
  member?: string;
}

/** Reads a time given as ISO 8601 or milliseconds since the epoch. */
function time(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const t = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(t)) failCommand(`${name} '${value}' is not an ISO 8601 time or milliseconds since the epoch`, 2);
  return t;
}

/** The gateway.yaml a command works on: `--config FILE`, or in the simulation `--member CODE` (from the state directory). */
function configFileOf(o: GatewayChoice, options: GlobalOptions): string {
  if (o.config !== undefined && o.member !== undefined) failCommand('give --config or --member, not both', 2);
  if (o.member !== undefined) return simGatewayConfig(o.member, stateDirOf(options)).config;
  if (o.config !== undefined) return o.config;
  failCommand('say which gateway: --config FILE (its gateway.yaml) or, in the simulation, --member CODE (e.g. MOI)', 2);
}

async function gatewayConfig(configFile: string) {
  const { loadGatewayConfig, ConfigError } = await import('../gateway/config.js');
  try {
    return loadGatewayConfig(configFile);
  } catch (err) {
    if (err instanceof ConfigError) failCommand(err.message, 2);
    throw err;
  }
}

async function gatewayState(configFile: string) {
  const { readFileSync, existsSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { parseAnchor } = await import('../protocol/anchor.js');
  const { verifyGlobalConf } = await import('../protocol/globalconf.js');
  const config = await gatewayConfig(configFile);
  const cached = join(config.stateDir, 'globalconf', 'globalconf.jws');
  if (!existsSync(cached)) failCommand(`no global configuration cached in ${config.stateDir} yet: start the gateway once`, 1);
  const { anchor, certificates } = parseAnchor(readFileSync(config.anchor, 'utf8'));
  const conf = await verifyGlobalConf(readFileSync(cached), anchor, certificates, { allowExpired: true });
  return { config, conf, database: join(config.stateDir, 'messagelog.db') };
}

export function registerLog(program: Command): void {
  const log = program.command('log').description("a gateway's message log: export archives, apply retention");
  const globals = () => program.opts<GlobalOptions>();
  log
    .command('export')
    .description('write an archive of the message log (metadata, signatures, timestamps, certificates, OCSP) for a time range')
    .option('--config <file>', "the gateway's configuration")
    .option('--member <code>', 'in the simulation: the gateway of this member (MOI or CAMDX/GOV/MOI), from the state directory')
    .option('--from <time>', 'start (ISO 8601 or ms since the epoch)', '0')
    .option('--to <time>', 'end (default now)')
    .option('--include-pending', 'also write records not yet timestamped (listed as pending; not marked archived)')
    .requiredOption('--out <file>', 'archive to write (.zip)')
    .action(async (o: GatewayChoice & { from: string; to?: string; out: string; includePending?: boolean }) => {
      const { config, conf, database } = await gatewayState(configFileOf(o, globals()));
      const { exportArchive } = await import('../gateway/messagelog/archive/export.js');
      const from = time(o.from, 0, '--from');
      const to = time(o.to, Date.now(), '--to');
      const result = exportArchive({ database, server: config.serverId, conf, from, to, out: o.out, includePending: o.includePending === true });
      const pending = o.includePending
        ? `${result.pending} pending records included (not yet timestamped, so not marked archived)`
        : `${result.leftOut} records left out as pending (not yet timestamped; --include-pending adds them)`;
      process.stdout.write(
        `wrote ${result.file}: ${result.records} records, ${result.signatures} signature documents, ${result.timestamps} timestamps; ${result.archived} records marked archived; ${pending}\n`,
      );
    });
  log
    .command('prune')
    .description('remove archived records older than the retention period now (the gateway also does this hourly)')
    .option('--config <file>', "the gateway's configuration")
    .option('--member <code>', 'in the simulation: the gateway of this member (MOI or CAMDX/GOV/MOI), from the state directory')
    .action(async (o: GatewayChoice) => {
      const { config, database } = await gatewayState(configFileOf(o, globals()));
      const { MessageLog } = await import('../gateway/messagelog/log.js');
      const { silentLogger } = await import('../common/log.js');
      const messageLog = new MessageLog(database, silentLogger);
      try {
        const removed = messageLog.prune(Date.now() - config.messagelog.retentionDays * 86_400_000);
        process.stdout.write(`removed ${removed} archived records older than ${config.messagelog.retentionDays} days\n`);
      } finally {
        messageLog.close();
      }
    });

  program
    .command('verify <archive>')
    .description('check a message-log archive offline: signatures, certificates, OCSP, hash chains, timestamps')
    .option('--id <x-road-id>', 'check only this exchange')
    .option('--trust <pem>', "the root CA certificate(s) you trust (default: the network's root in the state directory; never the archive's own)")
    .option('--member <code>', "in the simulation: the archive must be this member's gateway's (MOI or CAMDX/GOV/MOI)")
    .option('--openssl', 'also print the openssl command that checks each timestamp token independently')
    .action(async (file: string, o: { id?: string; trust?: string; member?: string; openssl?: boolean }) => {
      const server = o.member === undefined ? undefined : (await gatewayConfig(simGatewayConfig(o.member, stateDirOf(globals())).config)).serverId;
      const rootFile = o.trust ?? networkRoot(globals());
      const report = await verifyFile(file, rootFile, { ...(o.id ? { messageId: o.id } : {}), ...(server ? { server } : {}) });
      for (const f of report.failures) process.stdout.write(`FAIL  ${f.record}: ${f.reason}\n`);
      for (const p of report.pending) process.stdout.write(`PENDING ${p.record}: ${p.reason}\n`);
      if (report.pending.length > 0) {
        process.stdout.write('pending: signatures, certificates, OCSP and hash chains checked; without a timestamp nothing proves when they were signed (export them again once stamped)\n');
      }
      if (o.openssl) {
        for (const t of report.timestamps) {
          process.stdout.write(
            `openssl ts -verify -digest ${t.root} -token_in -in timestamps/${t.id}.tst -CAfile ${rootFile} ` +
              `${report.manifest.trust.tsas.map((f) => `-untrusted ${f}`).join(' ')} ${report.manifest.trust.cas.map((f) => `-untrusted ${f}`).join(' ')}   # after ` +
              `unzip; batch ${t.id}, ${t.genTime}\n`,
          );
        }
      }
      process.stdout.write(
        `${report.failures.length === 0 ? 'OK' : 'FAILED'}: ${report.records} records, ${report.verifiedParts} signed messages, ${report.timestamps.length} ` +
          `timestamps checked; ${report.pending.length} pending (not yet timestamped); ${report.failures.length} records failed\n`,
      );
      process.exitCode = report.failures.length === 0 ? 0 : 1;
    });
}

/** Reads the trusted roots and the archive and verifies it; what cannot be read is refused (exit 2). */
async function verifyFile(file: string, rootFile: string, options: { messageId?: string; server?: string }) {
  const { readFileSync } = await import('node:fs');
  const { X509Certificate } = await import('node:crypto');
  const { certificatesFromPem } = await import('../certs/pem.js');
  const { verifyArchive, ArchiveError } = await import('../gateway/messagelog/archive/verify.js');
  try {
    const trustedRoots = certificatesFromPem(readFileSync(rootFile, 'utf8')).map((d) => new X509Certificate(d));
    if (trustedRoots.length === 0) failCommand(`${rootFile} holds no PEM certificate`, 2);
    // Read from the file entry by entry: an archive of a busy period is larger than memory should be.
    return await verifyArchive(file, { trustedRoots, ...options });
  } catch (err) {
    if (err instanceof ArchiveError) failCommand(`${file}: ${err.message}`, 2);
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') failCommand(`cannot read ${(err as NodeJS.ErrnoException).path ?? file}`, 2);
    throw err;
  }
}

/**
 * The root to trust when none is given: the network's own, from the PKI in the state directory
 * (`--state-dir`, CAMDX_STATE_DIR, ./var). Without one there is nothing to trust: the roots an
 * archive carries are its writer's claim, so they are never used.
 */
function networkRoot(options: GlobalOptions): string {
  const stateDir = stateDirOf(options);
  const root = pkiLayout(stateDir).caCert('root-ca');
  if (!existsSync(root)) failCommand(`no trust root: pass --trust ROOT.pem (no network state directory with a root CA at ${stateDir})`, 2);
  return root;
}
