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

/** Under a burst, at most one signing starts per this many milliseconds. */
const MIN_SIGNING_INTERVAL_MS = 1000;
/**
 * A change that follows the last one by less than this belongs to the same burst. A writer that
 * waits for each change to be published (the admin API, provisioning) leaves the registry this
 * quiet after every change, so it is answered this much later, not a second later.
 */
const BURST_GAP_MS = 50;

/**
 * Keeps a freshly signed configuration ready: signs at start, after registry changes, and again
 * when half of the validity has passed, so gateways polling every minute (or an eighth of the
 * validity, if less) never see it expire while central is up. Every signing takes a new, higher
 * version. A burst of changes (hundreds of registrations or management requests) is coalesced
 * into one signing per second: one version per change would keep the CPU busy signing and make
 * every gateway download a new configuration at each poll. A change after a quiet second is
 * signed at once; one within the second of the last signing waits until the registry has been
 * quiet for `BURST_GAP_MS` or the second has passed, whichever comes first.
 */
export class ConfPublisher {
  private published: Published | undefined;
  /** The loop signing until no change is left unsigned; `settled()` hands it out. */
  private cycle: Promise<void> | undefined;
  /** A change (or a request to re-sign) that no signing under way has yet picked up. */
  private dirty = false;
  /** When the last signing started, on the monotonic clock: the spacing is real time, whatever `clock` says. */
  private lastSigningAt = -Infinity;
  private lastChangeAt = -Infinity;
  private pause: { timer: NodeJS.Timeout; resume: () => void } | undefined;
  private stopped = false;
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

  /** Resolves once every change made before the call is in a published version (or the publisher has stopped). */
  settled(): Promise<void> {
    return this.cycle ?? Promise.resolve();
  }

  /** Stops re-signing; a change still waiting for its turn is left unsigned (the next start signs it). */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    if (this.pause) {
      clearTimeout(this.pause.timer);
      this.pause.resume();
    }
  }

  /** Signs the next versions valid only `seconds` (a simulated fault lets them expire), or normally again. */
  setValidityOverride(seconds: number | undefined): void {
    this.validityOverride = seconds;
  }

  /** Asks for a new version; resolves once one signed after the call is published (at most a second later, under a burst). */
  publish(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.dirty = true;
    this.lastChangeAt = performance.now();
    this.cycle ??= this.signWhileDirty();
    return this.cycle;
  }

  private async signWhileDirty(): Promise<void> {
    try {
      while (this.dirty && !this.stopped) {
        for (let wait = this.untilDue(); wait > 0; wait = this.untilDue()) {
          await this.waitFor(wait);
          if (this.stopped) return;
        }
        this.dirty = false;
        this.lastSigningAt = performance.now();
        await this.signOnce();
      }
    } finally {
      // Cleared in the same turn as the last `dirty` check, so a change arriving after it starts a new loop.
      this.cycle = undefined;
    }
  }

  /** Milliseconds until the next signing may start: a second after the last one, or sooner once the burst is over. */
  private untilDue(): number {
    const now = performance.now();
    return Math.min(this.lastSigningAt + MIN_SIGNING_INTERVAL_MS - now, this.lastChangeAt + BURST_GAP_MS - now);
  }

  private waitFor(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const resume = () => {
        this.pause = undefined;
        resolve();
      };
      this.pause = { timer: setTimeout(resume, ms), resume };
    });
  }

  private async signOnce(): Promise<void> {
    const now = this.clock();
    const settings = this.validityOverride === undefined ? this.settings : { ...this.settings, confExpirySeconds: this.validityOverride };
    const conf = buildGlobalConf(this.registry, settings, this.registry.nextConfVersion(), now);
    const jws = await signGlobalConf(conf, this.signing.key, this.signing.cert);
    if (jws.length > MAX_GLOBALCONF_BYTES && this.published) {
      // Every gateway would refuse it: keep serving the last one and say why, loudly.
      this.log.error({ version: conf.version, bytes: jws.length, limit: MAX_GLOBALCONF_BYTES }, 'global configuration over the size limit gateways accept; not published');
      return;
    }
    this.published = { jws, version: conf.version, expiresAt: Date.parse(conf.expiresAt) };
    this.log.info({ version: conf.version, bytes: jws.length }, 'global configuration signed');
  }
}
