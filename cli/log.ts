import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { pkiLayout } from '../certs/layout.js';
import { failCommand, type GlobalOptions } from './context.js';

/** Reads a time given as ISO 8601 or milliseconds since the epoch. */
function time(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const t = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(t)) failCommand(`${name} '${value}' is not an ISO 8601 time or milliseconds since the epoch`, 2);
  return t;
}

async function gatewayState(configFile: string) {
  const { loadGatewayConfig, ConfigError } = await import('../gateway/config.js');
  const { readFileSync, existsSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { parseAnchor } = await import('../protocol/anchor.js');
  const { verifyGlobalConf } = await import('../protocol/globalconf.js');
  let config;
  try {
    config = loadGatewayConfig(configFile);
  } catch (err) {
    if (err instanceof ConfigError) failCommand(err.message, 2);
    throw err;
  }
  const cached = join(config.stateDir, 'globalconf', 'globalconf.jws');
  if (!existsSync(cached)) failCommand(`no global configuration cached in ${config.stateDir} yet: start the gateway once`, 1);
  const { anchor, certificates } = parseAnchor(readFileSync(config.anchor, 'utf8'));
  const conf = await verifyGlobalConf(readFileSync(cached), anchor, certificates, { allowExpired: true });
  return { config, conf, database: join(config.stateDir, 'messagelog.db') };
}

export function registerLog(program: Command): void {
  const log = program.command('log').description("a gateway's message log: export archives, apply retention");
  log
    .command('export')
    .description('write an archive of the message log (metadata, signatures, timestamps, certificates, OCSP) for a time range')
    .requiredOption('--config <file>', "the gateway's configuration")
    .option('--from <time>', 'start (ISO 8601 or ms since the epoch)', '0')
    .option('--to <time>', 'end (default now)')
    .requiredOption('--out <file>', 'archive to write (.zip)')
    .action(async (o: { config: string; from: string; to?: string; out: string }) => {
      const { config, conf, database } = await gatewayState(o.config);
      const { exportArchive } = await import('../gateway/messagelog/archive/export.js');
      const result = exportArchive({ database, server: config.serverId, conf, from: time(o.from, 0, '--from'), to: time(o.to, Date.now(), '--to'), out: o.out });
      process.stdout.write(`wrote ${result.file}: ${result.records} records, ${result.signatures} signature documents, ${result.timestamps} timestamps; ${result.archived} records marked archived\n`);
    });
  log
    .command('prune')
    .description('remove archived records older than the retention period now (the gateway also does this hourly)')
    .requiredOption('--config <file>', "the gateway's configuration")
    .action(async (o: { config: string }) => {
      const { config, database } = await gatewayState(o.config);
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
    .option('--openssl', 'also print the openssl command that checks each timestamp token independently')
    .action(async (file: string, o: { id?: string; trust?: string; openssl?: boolean }) => {
      const { readFileSync } = await import('node:fs');
      const { X509Certificate } = await import('node:crypto');
      const { certificatesFromPem } = await import('../certs/pem.js');
      const { verifyArchive, ArchiveError } = await import('../gateway/messagelog/archive/verify.js');
      const rootFile = o.trust ?? networkRoot(program.opts<GlobalOptions>());
      let report;
      try {
        const trustedRoots = certificatesFromPem(readFileSync(rootFile, 'utf8')).map((d) => new X509Certificate(d));
        if (trustedRoots.length === 0) failCommand(`${rootFile} holds no PEM certificate`, 2);
        report = verifyArchive(readFileSync(file), { trustedRoots, ...(o.id ? { messageId: o.id } : {}) });
      } catch (err) {
        if (err instanceof ArchiveError) failCommand(err.message, 2);
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') failCommand(`cannot read ${(err as NodeJS.ErrnoException).path ?? file}`, 2);
        throw err;
      }
      for (const f of report.failures) process.stdout.write(`FAIL  ${f.record}: ${f.reason}\n`);
      if (o.openssl) {
        for (const t of report.timestamps) {
          process.stdout.write(
            `openssl ts -verify -digest ${t.root} -token_in -in timestamps/${t.id}.tst -CAfile ${rootFile} ${report.manifest.trust.tsas.map((f) => `-untrusted ${f}`).join(' ')} ${report.manifest.trust.cas.map((f) => `-untrusted ${f}`).join(' ')}   # after unzip; batch ${t.id}, ${t.genTime}\n`,
          );
        }
      }
      process.stdout.write(
        `${report.failures.length === 0 ? 'OK' : 'FAILED'}: ${report.records} records, ${report.verifiedParts} signed messages, ${report.timestamps.length} timestamps checked; ${report.failures.length} records failed\n`,
      );
      process.exitCode = report.failures.length === 0 ? 0 : 1;
    });
}

/**
 * The root to trust when none is given: the network's own, from the PKI in the state directory
 * (`--state-dir`, CAMDX_STATE_DIR, ./var). Without one there is nothing to trust: the roots an
 * archive carries are its writer's claim, so they are never used.
 */
function networkRoot(options: GlobalOptions): string {
  const stateDir = resolve(options.stateDir ?? process.env.CAMDX_STATE_DIR ?? 'var');
  const root = pkiLayout(stateDir).caCert('root-ca');
  if (!existsSync(root)) failCommand(`no trust root: pass --trust ROOT.pem (no network state directory with a root CA at ${stateDir})`, 2);
  return root;
}
