import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** What a setup code was worth when it was tried. */
export type SetupCodeAnswer = 'accepted' | 'used' | 'expired' | 'wrong';

/** As X-Road's initial configuration: the link is for the first visitor, soon after start. */
export const SETUP_CODE_MINUTES = 15;

/**
 * The one-time code of a bare gateway's setup URL (`…/console/setup#CODE`). The code rides in
 * the URL's fragment, which browsers never send, so it is in no access log; the page hands it
 * to `POST /api/v1/session` once. It opens one session, within 15 minutes of start, and is
 * kept in memory only: a restart prints a new one, and the old one opens nothing.
 */
export class SetupCode {
  readonly code = randomBytes(24).toString('base64url');
  readonly expiresAt: number;
  private readonly digest = createHash('sha256').update(this.code).digest();
  private used = false;

  constructor(private readonly clock: () => number = Date.now) {
    this.expiresAt = clock() + SETUP_CODE_MINUTES * 60_000;
  }

  /** Compared in constant time; the first right answer uses the code up. */
  redeem(given: string): SetupCodeAnswer {
    if (!timingSafeEqual(createHash('sha256').update(given).digest(), this.digest)) return 'wrong';
    if (this.used) return 'used';
    if (this.clock() > this.expiresAt) return 'expired';
    this.used = true;
    return 'accepted';
  }
}
