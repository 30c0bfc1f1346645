import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { PORTS } from '../sim/topology.js';
import { cliContext, failCommand, parsePort, type GlobalOptions } from './context.js';

export const DEFAULT_CAMDIGIKEY_PORTS = { http: PORTS.camdigikeyHttp, https: PORTS.camdigikeyHttps } as const;

interface PkiOptions {
  pkiUrl?: string;
  pkiTokenFile?: string;
}

/** The PKI the service enrols with: from the options, else the state directory's own PKI. */
async function pkiAccess(stateDir: string, o: PkiOptions) {
  const { pkiLayout } = await import('../certs/layout.js');
  const { readSettings } = await import('../certs/settings.js');
  const layout = pkiLayout(stateDir);
  try {
    return {
      url: o.pkiUrl ?? readSettings(layout.settings).publicUrl,
      adminToken: (process.env.CAMDX_PKI_TOKEN ?? readFileSync(o.pkiTokenFile ?? layout.adminToken, 'utf8')).trim(),
    };
  } catch (err) {
    failCommand(`cannot find the PKI (${(err as Error).message}); run 'camdx pki init' first or pass --pki-url and --pki-token-file`);
  }
}

const hostsOf = (host: string) => (/^[\d.]+$|:/.test(host) ? { dns: ['localhost'], ip: [host] } : { dns: [host, 'localhost'], ip: ['127.0.0.1'] });

export function registerCamdigikey(program: Command): void {
  const cdk = program.command('camdigikey').description('the CamDigiKey national digital-ID provider (v3 API, login pages, service accounts)');
  const globals = () => program.opts<GlobalOptions>();
  const withPki = (c: Command) => c.option('--pki-url <url>', 'PKI service URL (default: from the state directory)').option('--pki-token-file <file>', 'PKI admin token file (or env CAMDX_PKI_TOKEN)');

  withPki(cdk.command('init'))
    .description('obtain the HTTPS certificate, the P-521 token signer and trust anchors from the PKI (once)')
    .option('--host <name>', 'host name or address the HTTPS certificate is for', '127.0.0.1')
    .action(async (o: PkiOptions & { host: string }) => {
      const ctx = cliContext(globals());
      const { initCamdigikey } = await import('../members/camdigikey/setup.js');
      const created = await initCamdigikey(ctx.stateDir, await pkiAccess(ctx.stateDir, o), hostsOf(o.host));
      process.stdout.write(created.length ? `CamDigiKey initialised: ${created.join(', ')}\n` : 'CamDigiKey was already initialised\n');
    });

  withPki(cdk.command('serve'))
    .description('run the service: login pages and API on HTTP (for gateways), API on HTTPS with client certificates (for the official client)')
    .option('--host <address>', 'address to bind', '127.0.0.1')
    .option('--http-port <port>', 'HTTP port (0 picks one)', String(DEFAULT_CAMDIGIKEY_PORTS.http))
    .option('--https-port <port>', 'HTTPS port (0 picks one)', String(DEFAULT_CAMDIGIKEY_PORTS.https))
    .option('--web-url <url>', 'public base URL of the login pages (default: the HTTP listener)')
    .action(async (o: PkiOptions & { host: string; httpPort: string; httpsPort: string; webUrl?: string }) => {
      const ctx = cliContext(globals(), 'camdigikey');
      const { initCamdigikey } = await import('../members/camdigikey/setup.js');
      const { startCamdigikey } = await import('../members/camdigikey/server.js');
      const { renderFace } = await import('../members/population/face.js');
      await initCamdigikey(ctx.stateDir, await pkiAccess(ctx.stateDir, o), hostsOf(o.host));
      const running = await startCamdigikey({
        stateDir: ctx.stateDir,
        host: o.host,
        httpPort: parsePort(o.httpPort),
        httpsPort: parsePort(o.httpsPort),
        ...(o.webUrl ? { webBaseUrl: o.webUrl } : {}),
        renderFace: (p) => renderFace(p),
        log: ctx.log,
      });
      process.stdout.write(`CamDigiKey ready: web and gateway API ${running.httpUrl}, relying-party API ${running.httpsUrl}\n`);
      const stop = async () => {
        await running.stop();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });

  const account = cdk.command('account').description('service accounts of relying parties');
  withPki(account.command('create'))
    .description("register a relying party and print the official client's CAMDIGIKEY_* environment")
    .requiredOption('--client-id <id>', 'service account id (3-64 of A-Z a-z 0-9 . _ -)')
    .requiredOption('--domain <host>', "the relying party's domain (success return URLs must be on it)")
    .option('--server-url <url>', 'CamDigiKey URL the client calls', `https://127.0.0.1:${DEFAULT_CAMDIGIKEY_PORTS.https}`)
    .option('--app-id <scheme>', 'mobile app id: approvals also answer <app-id>://camdigikey_login_callback?authToken=…')
    .option('--callback-url <url>', 'where a successful web login returns (default https://<domain>/callback)')
    .option('--fallback-url <url>', 'where a rejected or expired login returns (default https://<domain>/fallback)')
    .action(async (o: PkiOptions & { clientId: string; domain: string; serverUrl: string; appId?: string; callbackUrl?: string; fallbackUrl?: string }) => {
      const ctx = cliContext(globals());
      const { createServiceAccount } = await import('../members/camdigikey/setup.js');
      try {
        const { env, envFile } = await createServiceAccount(ctx.stateDir, await pkiAccess(ctx.stateDir, o), {
          clientId: o.clientId,
          domain: o.domain,
          serverBaseUrl: o.serverUrl,
          ...(o.appId ? { appId: o.appId } : {}),
          ...(o.callbackUrl ? { callbackUrl: o.callbackUrl } : {}),
          ...(o.fallbackUrl ? { fallbackUrl: o.fallbackUrl } : {}),
        });
        process.stdout.write(
          `${Object.entries(env)
            .map(([k, v]) => `${k}=${v}`)
            .join('\n')}\n`,
        );
        process.stderr.write(`(also written to ${envFile}, readable only by you)\n`);
      } catch (err) {
        failCommand((err as Error).message);
      }
    });

  account
    .command('list')
    .description('list service accounts (no keys)')
    .action(async () => {
      const ctx = cliContext(globals());
      const { camdigikeyLayout } = await import('../members/camdigikey/setup.js');
      const { CamdigikeyStore } = await import('../members/camdigikey/store.js');
      const store = new CamdigikeyStore(camdigikeyLayout(ctx.stateDir).database);
      const rows = store.accounts();
      store.close();
      process.stdout.write(rows.length ? `${rows.map((a) => `${a.clientId}\t${a.domain}${a.appId ? `\tapp ${a.appId}` : ''}`).join('\n')}\n` : '(none)\n');
    });

  cdk
    .command('users')
    .description('show test users of the synthetic population (personal codes to log in with)')
    .option('--count <n>', 'how many', '10')
    .option('--status <status>', 'ENABLED, DISABLED, EXPIRED or DELETED', 'ENABLED')
    .action(async (o: { count: string; status: string }) => {
      const ctx = cliContext(globals());
      const { camdigikeyLayout } = await import('../members/camdigikey/setup.js');
      const { PopulationStore } = await import('../members/population/store.js');
      const people = new PopulationStore(camdigikeyLayout(ctx.stateDir).population);
      const wanted = Math.max(1, Math.min(1000, Number(o.count) || 10));
      const found = [];
      for (let i = 0; i < people.size && found.length < wanted; i++) {
        const p = people.byIndex(i);
        if (p && p.accountStatus === o.status.toUpperCase()) found.push(p);
      }
      people.close();
      process.stdout.write(found.length ? `${found.map((p) => `${p.idNumber}\t${p.firstNameEn} ${p.lastNameEn}\t${p.lastNameKh} ${p.firstNameKh}\t${p.gender}\t${p.dob}`).join('\n')}\n` : '(none)\n');
    });
}
