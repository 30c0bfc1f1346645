import { existsSync } from 'node:fs';
import type { GlobalConf } from '../../protocol/globalconf.js';
import type { GatewayConfig } from '../config.js';
import { outdated } from '../context.js';
import type { GlobalConfClient } from '../globalconf/client.js';
import { ConfView } from '../globalconf/view.js';
import { KeyReloadError, type KeyRole, type ReloadedCertificate } from '../keyring.js';
import { checkRoleCertificate, openKeystore, type KeyAndChain } from '../keys.js';
import type { OwnOcsp } from '../ocsp/own.js';
import type { KeyWorkflowContext } from '../setup/key-context.js';
import { KEY_ROLES } from '../setup/pending-keys.js';

/**
 * The key steps' view of a bare gateway whose owner and server code are set: the keystores
 * imported so far (none, one or both), the polled global configuration, and OCSP for the
 * certificates it imports. `reloadKeys` is the import's last step, as a running gateway's
 * keyring reload: a keystore that appeared or changed is read, its OCSP status fetched, and only
 * then is it in use here.
 */
export class SetupContext implements KeyWorkflowContext {
  private held: Partial<Record<KeyRole, KeyAndChain>> = {};

  constructor(
    readonly config: GatewayConfig,
    readonly globalConf: GlobalConfClient,
    readonly ownOcsp: OwnOcsp,
    readonly clock: () => number,
  ) {
    for (const role of this.onDisk()) this.held[role] = openKeystore(`keystores.${role}`, config.keystores[role]);
  }

  get keys(): Partial<Record<KeyRole, KeyAndChain>> {
    return this.held;
  }

  view(side: 'Server.ClientProxy'): ConfView {
    const conf: GlobalConf | undefined = this.globalConf.current;
    if (!conf || this.globalConf.outdated) throw outdated(side);
    return new ConfView(conf);
  }

  /** Both certificates are in their keystores: the gateway can sign and authenticate, once central lists it. */
  get complete(): boolean {
    return KEY_ROLES.every((role) => this.held[role] !== undefined);
  }

  private onDisk(): KeyRole[] {
    return KEY_ROLES.filter((role) => existsSync(this.config.keystores[role].file));
  }

  async reloadKeys(): Promise<ReloadedCertificate[]> {
    const found: Partial<Record<KeyRole, KeyAndChain>> = {};
    for (const role of this.onDisk()) {
      try {
        found[role] = openKeystore(`keystores.${role}`, this.config.keystores[role]);
        checkRoleCertificate(role, found[role].cert, this.config);
      } catch (err) {
        throw new KeyReloadError('keystore', (err as Error).message);
      }
    }
    const changed = KEY_ROLES.filter((role) => found[role] && !found[role].cert.raw.equals(this.held[role]?.cert.raw ?? Buffer.alloc(0)));
    const renewed = [];
    for (const name of changed) {
      const cert = found[name]!.cert;
      const status = await this.ownOcsp.fetch(cert).catch((err: Error) => {
        throw new KeyReloadError('ocsp', `no OCSP status for the ${name} certificate (serial ${cert.serialNumber}): ${err.message}`);
      });
      if (status.facts.status !== 'good') throw new KeyReloadError('ocsp', `the ${name} certificate (serial ${cert.serialNumber}) is ${status.facts.status} according to OCSP`);
      renewed.push({ own: { name, cert }, status });
    }
    this.ownOcsp.adopt(renewed);
    this.held = found;
    return KEY_ROLES.filter((role) => found[role]).map((name) => {
      const facts = this.ownOcsp.current(name)?.facts;
      return { name, serial: found[name]!.cert.serialNumber, changed: changed.includes(name), ocsp: facts ? { status: facts.status, thisUpdate: new Date(facts.thisUpdate).toISOString() } : null };
    });
  }
}
