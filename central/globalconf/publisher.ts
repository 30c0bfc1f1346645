import type { Logger } from '../../common/log.js';
import { MAX_GLOBALCONF_BYTES, signGlobalConf } from '../../protocol/globalconf.js';
import type { Registry } from '../registry/registry.js';
import type { CentralSettings } from '../settings.js';
import type { SigningKey } from './signing-key.js';
import { buildGlobalConf } from './snapshot.js';

export interface Published {
  readonly jws: string;
  readonly version: number;
  readonly expiresAt: number;
}

/**
 * Keeps a freshly signed configuration ready: signs at start, at once after every registry
 * change, and again when half of the validity has passed, so gateways polling every minute (or
 * an eighth of the validity, if less) never see it expire while central is up. Every signing
 * takes a new, higher version.
 */
export class ConfPublisher {
  private published: Published | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private validityOverride: number | undefined;

  constructor(
    private readonly registry: Registry,
    private readonly settings: CentralSettings,
    private readonly signing: SigningKey,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {
    registry.onChange(() => void this.publish());
  }

  get current(): Published {
    if (!this.published) throw new Error('the configuration has not been published yet');
    return this.published;
  }

  async start(): Promise<void> {
    await this.publish();
    // A tenth of the validity (at most a minute): a short validity (the simulation's 40 s) is
    // still re-signed with 40% of it left, room for gateways polling every few seconds.
    const checkEvery = Math.max(1000, Math.min(60_000, (this.settings.confExpirySeconds * 1000) / 10));
    this.timer = setInterval(() => {
      if (this.validityOverride !== undefined) return;
      const left = (this.published?.expiresAt ?? 0) - this.clock();
      if (left < (this.settings.confExpirySeconds * 1000) / 2) void this.publish();
    }, checkEvery);
    this.timer.unref();
  }

  /** Resolves once any signing already under way (say, for a change just made) has finished. */
  settled(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Signs the next versions valid only `seconds` (a simulated fault lets them expire), or normally again. */
  setValidityOverride(seconds: number | undefined): void {
    this.validityOverride = seconds;
  }

  /** Signs a new version; concurrent calls coalesce into one more run after the current one. */
  publish(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        const now = this.clock();
        const settings = this.validityOverride === undefined ? this.settings : { ...this.settings, confExpirySeconds: this.validityOverride };
        const conf = buildGlobalConf(this.registry, settings, this.registry.nextConfVersion(), now);
        const jws = await signGlobalConf(conf, this.signing.key, this.signing.cert);
        if (jws.length > MAX_GLOBALCONF_BYTES && this.published) {
          // Every gateway would refuse it: keep serving the last one and say why, loudly.
          this.log.error({ version: conf.version, bytes: jws.length, limit: MAX_GLOBALCONF_BYTES }, 'global configuration over the size limit gateways accept; not published');
          continue;
        }
        this.published = { jws, version: conf.version, expiresAt: Date.parse(conf.expiresAt) };
        this.log.info({ version: conf.version, bytes: jws.length }, 'global configuration signed');
      } while (this.again);
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }
}
