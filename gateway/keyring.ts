import type { GatewayConfig } from './config.js';
import { loadGatewayKeys, type GatewayKeys, type KeyAndChain } from './keys.js';
import type { MessageSigner } from './message/signer.js';
import type { OwnOcsp, OwnStatus } from './ocsp/own.js';
import { CamdxError } from '../protocol/errors.js';

export type KeyRole = 'auth' | 'signing';

/** What a reload found for one certificate, as the admin port reports it. */
export interface ReloadedCertificate {
  readonly name: KeyRole;
  readonly serial: string;
  /** The keystore held another certificate than the one in use, and the gateway switched to it. */
  readonly changed: boolean;
  readonly ocsp: { readonly status: string; readonly thisUpdate: string } | null;
}

/** Why a reload changed nothing: the keystores on disk are unusable, or a new certificate has no good OCSP status. */
/** A key reload refused; `reason` says by what: a keystore that cannot be used, or no good OCSP status for a new certificate. */
export class KeyReloadError extends CamdxError<'Keys'> {
  constructor(
    readonly reason: 'keystore' | 'ocsp',
    message: string,
  ) {
    super('Keys', message);
  }
}

/**
 * The keys this gateway uses now, and the signer made from its signing key. `reload` reads the
 * keystores again and, for each certificate that changed, first fetches a good OCSP response,
 * then switches keys, signer and OCSP responses in one synchronous step. An exchange takes the
 * signer and the OCSP responses together when it starts, so one under way finishes on the old
 * keys; new TLS connections and new signatures use the new (`onSwitch` rebuilds the TLS side).
 * If anything fails, nothing is switched.
 */
export class Keyring {
  private active: { readonly keys: GatewayKeys; readonly signer: MessageSigner };
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    keys: GatewayKeys,
    private readonly o: {
      readonly config: GatewayConfig;
      readonly ownOcsp: OwnOcsp;
      readonly signerFor: (signing: KeyAndChain) => MessageSigner;
      readonly onSwitch: (changed: readonly KeyRole[]) => void;
    },
  ) {
    this.active = { keys, signer: o.signerFor(keys.signing) };
  }

  get keys(): GatewayKeys {
    return this.active.keys;
  }

  get signer(): MessageSigner {
    return this.active.signer;
  }

  /** One reload at a time: a second waits for the first, then sees its result on disk. */
  reload(): Promise<ReloadedCertificate[]> {
    const next = this.queue.then(() => this.reloadNow());
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async reloadNow(): Promise<ReloadedCertificate[]> {
    let keys: GatewayKeys;
    try {
      keys = loadGatewayKeys(this.o.config);
    } catch (err) {
      throw new KeyReloadError('keystore', (err as Error).message);
    }
    const roles: KeyRole[] = ['auth', 'signing'];
    const changed = roles.filter((r) => !keys[r].cert.raw.equals(this.active.keys[r].cert.raw));
    const renewed: Array<{ own: { name: KeyRole; cert: KeyAndChain['cert'] }; status: OwnStatus }> = [];
    for (const name of changed) {
      const cert = keys[name].cert;
      let status: OwnStatus;
      try {
        status = await this.o.ownOcsp.fetch(cert);
      } catch (err) {
        throw new KeyReloadError('ocsp', `no OCSP status for the new ${name} certificate (serial ${cert.serialNumber}): ${(err as Error).message}`);
      }
      if (status.facts.status !== 'good') throw new KeyReloadError('ocsp', `the new ${name} certificate (serial ${cert.serialNumber}) is ${status.facts.status} according to OCSP`);
      renewed.push({ own: { name, cert }, status });
    }
    if (changed.length > 0) {
      // One turn, no await: no exchange sees the new signer with the old OCSP responses or the reverse.
      this.o.ownOcsp.adopt(renewed);
      this.active = { keys, signer: changed.includes('signing') ? this.o.signerFor(keys.signing) : this.active.signer };
      this.o.onSwitch(changed);
    }
    return roles.map((name) => {
      const facts = this.o.ownOcsp.current(name)?.facts;
      return {
        name,
        serial: this.active.keys[name].cert.serialNumber,
        changed: changed.includes(name),
        ocsp: facts ? { status: facts.status, thisUpdate: new Date(facts.thisUpdate).toISOString() } : null,
      };
    });
  }
}
