import { readFileSync } from 'node:fs';
import { CentralAdminClient } from '../central/admin-client.js';
import { centralLayout, readCentralSettings } from '../central/settings.js';
import type { KeyRole } from '../gateway/keyring.js';
import { RenewalError, renewCertificate } from '../gateway/setup/renew.js';
import { failCommand, stateDirOf, type GlobalOptions } from './context.js';

/**
 * Central's admin API and the PKI's URL for the network in the state directory: the simulation's
 * operator renews on the member's behalf. Refused, naming where it looked, when there is none.
 */
function operatorOf(stateDir: string): { central: CentralAdminClient; pkiUrl: string } {
  const layout = centralLayout(stateDir);
  try {
    const settings = readCentralSettings(layout.settings);
    if (!settings.pki) throw new Error(`${layout.settings} names no PKI`);
    return { central: new CentralAdminClient(settings.consoleUrl, readFileSync(layout.adminToken, 'utf8').trim(), 'gateway-renew'), pkiUrl: settings.pki.url };
  } catch (err) {
    failCommand(`no network to renew from in the state directory ${stateDir} (${(err as Error).message}); point CAMDX_STATE_DIR / --state-dir at the state directory of the running network`, 2);
  }
}

/** `camdx gateway renew`: one line per step on stdout; a failure names its step and cause, exit 1. */
export async function renew(globals: GlobalOptions, o: { config: string; certificate: string }): Promise<void> {
  if (o.certificate !== 'auth' && o.certificate !== 'signing') failCommand(`--certificate is auth or signing, not '${o.certificate}'`, 2);
  const operator = operatorOf(stateDirOf(globals));
  try {
    await renewCertificate({ configFile: o.config, certificate: o.certificate as KeyRole, ...operator, say: (line) => process.stdout.write(`${line}\n`) });
  } catch (err) {
    if (err instanceof RenewalError) failCommand(`gateway renew stopped at step '${err.step}': ${err.message}; the gateway's keystores are unchanged`);
    throw err;
  }
}
