import type { Command } from 'commander';
import { failCommand, stateDirOf, type GlobalOptions } from './context.js';

const SWITCH = ['down', 'up'] as const;

/** Where the running network's PKI and central are, and their admin tokens (from the state directory). */
async function services(stateDir: string) {
  const { readFileSync } = await import('node:fs');
  const { centralLayout, readCentralSettings } = await import('../central/settings.js');
  const layout = centralLayout(stateDir);
  try {
    const settings = readCentralSettings(layout.settings);
    if (!settings.pki) throw new Error('central does not know its PKI');
    return {
      central: { url: settings.consoleUrl, token: readFileSync(layout.adminToken, 'utf8').trim() },
      pki: { url: settings.pki.url, token: readFileSync(settings.pki.adminTokenFile, 'utf8').trim() },
    };
  } catch (err) {
    failCommand(`no simulated network in ${stateDir} (${(err as Error).message}); start one with npm start`);
  }
}

async function call(url: string, token: string, method: string, body?: unknown): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  } catch (err) {
    failCommand(`${new URL(url).origin} is not reachable (${(err as Error).message}); is the network running?`);
  }
  const answer = (await res.json().catch(() => ({}))) as { message?: string };
  if (!res.ok) failCommand(`${method} ${url} answered ${res.status}: ${answer.message ?? ''}`);
  return answer;
}

/**
 * Asks each gateway of the running simulation (network.json) to fetch its OCSP responses now
 * (`POST /api/v1/ocsp/refresh` on its console, with its admin token), rather than at its next retry (up to 30 s away
 * after a long outage). One line per gateway; a gateway that fails is named, not fatal.
 */
async function refreshGatewaysOcsp(stateDir: string): Promise<string[]> {
  const { readNetworkFile } = await import('../sim/network-file.js');
  const { loadGatewayConfig } = await import('../gateway/config.js');
  const { readAdminToken } = await import('../gateway/admin/token.js');
  const { gatewayApiUrl } = await import('../gateway/admin/reload-client.js');
  const network = readNetworkFile(stateDir);
  if (!network) return ['no running simulation in this state directory: gateways fetch fresh OCSP responses at their next retry (within 30 s)'];
  return Promise.all(
    Object.entries(network.gateways).map(async ([key, g]) => {
      try {
        const config = loadGatewayConfig(g.config);
        const token = readAdminToken(config.stateDir);
        const res = await fetch(g.consoleUrl ? `${g.consoleUrl}/api/v1/ocsp/refresh` : gatewayApiUrl(config, '/ocsp/refresh'), {
          method: 'POST',
          headers: { authorization: `Bearer ${token}` },
          signal: AbortSignal.timeout(15_000),
        });
        const answer = (await res.json().catch(() => ({}))) as { message?: string };
        return res.ok ? `gateway ${key}: fresh OCSP responses` : `gateway ${key}: no fresh OCSP responses yet (HTTP ${res.status}: ${answer.message ?? ''}); it keeps retrying`;
      } catch (err) {
        return `gateway ${key}: not asked to refresh (${(err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message}); it fetches fresh OCSP responses at its next retry`;
      }
    }),
  );
}

function onOff(value: string): boolean {
  if (!(SWITCH as readonly string[]).includes(value)) failCommand(`'${value}': say down or up`, 2);
  return value === 'down';
}

export function registerFault(program: Command): void {
  const fault = program
    .command('fault')
    .description('inject faults into the running network to see what your systems get (X-Road error types)')
    .addHelpText(
      'after',
      `
What gateways do (the times are npm start's; the README's Faults section lists its settings):
  tsa down        traffic continues; signatures wait unstamped; services marked timestampSynchronously
                  fail at once, all traffic once a record has waited timestamping.acceptableFailureSeconds
                  (30 s) (TimestampingFailed); after 'up', the next batch (every 10 s) lets traffic through
  ocsp down       gateways keep their last OCSP responses (on disk too, so a restart keeps them); once
                  older than ocspFreshnessSeconds (30 s), exchanges fail with CertValidation; 'up' asks
                  each running gateway to refresh at once (they also retry on their own, within 30 s)
  central down    gateways keep their global configuration until it expires (within 40 s), then
                  OutdatedGlobalConf; after 'up', a fresh one at their next poll (5 s)
  expire-conf     central signs a configuration valid only --in seconds, serves it briefly, then goes
                  down: OutdatedGlobalConf within about --in seconds ('fault central up' ends it)
  revoke MEMBER   revokes a member gateway's certificate: exchanges with it fail, SslAuthenticationFailed
                  (TLS certificate) or CertValidation (signing certificate), naming the revocation`,
    );
  // Faults act on a running network: never create a state directory, say where none was found.
  const ctx = () => ({ stateDir: stateDirOf(program.opts<GlobalOptions>()) });

  fault
    .command('tsa <down|up>')
    .description('stop or restart the timestamping authority (optionally slow instead)')
    .option('--delay-ms <ms>', 'with up: answer, but this much later', '0')
    .action(async (state: string, o: { delayMs: string }) => {
      const s = await services(ctx().stateDir);
      const delayMs = Number(o.delayMs);
      if (!Number.isInteger(delayMs) || delayMs < 0 || delayMs > 600_000) failCommand('--delay-ms must be 0-600000', 2);
      await call(`${s.pki.url}/admin/faults/tsa`, s.pki.token, 'PUT', { down: onOff(state), delayMs });
      process.stdout.write(`TSA is ${state}${delayMs ? `, answering ${delayMs} ms late` : ''}\n`);
    });

  fault
    .command('ocsp <down|up>')
    .description('stop or restart the OCSP responder')
    .action(async (state: string) => {
      const s = await services(ctx().stateDir);
      const down = onOff(state);
      await call(`${s.pki.url}/admin/faults/ocsp`, s.pki.token, 'PUT', { down });
      process.stdout.write(`OCSP responder is ${state}\n`);
      if (!down) for (const line of await refreshGatewaysOcsp(ctx().stateDir)) process.stdout.write(`${line}\n`);
    });

  fault
    .command('central <down|up>')
    .description('take the central server off the network (global configuration, management requests) or bring it back')
    .action(async (state: string) => {
      const s = await services(ctx().stateDir);
      await call(`${s.central.url}/api/faults`, s.central.token, 'PUT', { down: onOff(state) });
      process.stdout.write(`central is ${state}${state === 'up' ? '; gateways pick up a fresh configuration at their next poll' : ''}\n`);
    });

  fault
    .command('expire-conf')
    .description('let the global configuration expire soon: sign one valid only briefly, then take central down')
    .option('--in <seconds>', 'validity of the last configuration', '20')
    .option('--serve-for <seconds>', 'how long central serves it before going down (gateways must poll in that time)', '10')
    .action(async (o: { in: string; serveFor: string }) => {
      const s = await services(ctx().stateDir);
      const [validity, serve] = [Number(o.in), Number(o.serveFor)];
      if (!Number.isInteger(validity) || validity < 5 || validity > 86_400) failCommand('--in must be 5-86400 seconds', 2);
      if (!Number.isInteger(serve) || serve < 0 || serve >= validity) failCommand('--serve-for must be 0 or more and less than --in', 2);
      const answer = (await call(`${s.central.url}/api/faults`, s.central.token, 'PUT', { expireInSeconds: validity, downAfterSeconds: serve })) as { expiresAt?: string };
      process.stdout.write(`central signed a configuration valid until ${answer.expiresAt}; it goes down in ${serve} s ('camdx fault central up' to end)\n`);
    });

  fault
    .command('revoke <gateway>')
    .description("revoke a gateway's certificate: a simulated member (demobank, moc, moi, tsc) or a gateway.yaml")
    .option('--certificate <which>', 'auth (TLS) or signing', 'auth')
    .action(async (gateway: string, o: { certificate: string }) => {
      const { join } = await import('node:path');
      const { existsSync } = await import('node:fs');
      const { loadGatewayConfig } = await import('../gateway/config.js');
      const { loadGatewayKeys } = await import('../gateway/keys.js');
      if (!['auth', 'signing'].includes(o.certificate)) failCommand('--certificate is auth or signing', 2);
      const stateDir = ctx().stateDir;
      const file = gateway.endsWith('.yaml') ? gateway : join(stateDir, 'sim', gateway, 'gateway.yaml');
      if (!existsSync(file)) failCommand(`no gateway '${gateway}': give a simulated member (demobank, moc, moi, tsc) or a gateway.yaml`, 2);
      const config = loadGatewayConfig(file);
      const cert = loadGatewayKeys(config)[o.certificate === 'auth' ? 'auth' : 'signing'].cert;
      const s = await services(stateDir);
      await call(`${s.pki.url}/admin/revocations`, s.pki.token, 'POST', { serial: cert.serialNumber, reason: 'keyCompromise' });
      process.stdout.write(`revoked the ${o.certificate} certificate of ${config.serverId} (serial ${cert.serialNumber})\n`);
      // The gateway would notice at its next scheduled OCSP refresh (minutes); ask for one now.
      const { readAdminToken } = await import('../gateway/admin/token.js');
      const { gatewayApiUrl } = await import('../gateway/admin/reload-client.js');
      let token: string;
      let url: string;
      try {
        token = readAdminToken(config.stateDir);
        url = gatewayApiUrl(config, '/ocsp/refresh');
      } catch (err) {
        failCommand(`${(err as Error).message}; the gateway would find out at its next OCSP refresh`);
      }
      const refreshed = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}` } }).catch(() => undefined);
      if (refreshed?.status === 401) failCommand(`the gateway at ${url} refused the admin token in ${config.stateDir}; it would find out at its next OCSP refresh`);
      process.stdout.write(
        refreshed?.ok
          ? 'its gateway now holds the revoked status: exchanges with it fail (SslAuthenticationFailed for a TLS certificate, CertValidation for a signing one)\n'
          : 'its gateway is not running; it will find out when it starts\n',
      );
      process.stdout.write(`to recover: camdx gateway renew --config ${file} --certificate ${o.certificate}\n`);
    });

  fault
    .command('status')
    .description('show which faults are on')
    .action(async () => {
      const s = await services(ctx().stateDir);
      const pki = await call(`${s.pki.url}/admin/faults`, s.pki.token, 'GET');
      const central = await call(`${s.central.url}/api/faults`, s.central.token, 'GET');
      process.stdout.write(`${JSON.stringify({ pki, central }, null, 2)}\n`);
    });
}
