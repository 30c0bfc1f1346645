import { Router, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '../common/log.js';
import type { ConfPublisher } from './globalconf/publisher.js';

/**
 * Simulated outages of the central server (`camdx fault central|expire-conf`). While down, the
 * parts gateways depend on — the global configuration and management requests — answer 503 as
 * an unreachable central would leave them without an answer; the admin API stays up so the
 * fault can be lifted.
 */
export class CentralFaults {
  private downTimer: NodeJS.Timeout | undefined;
  down = false;

  constructor(
    private readonly publisher: ConfPublisher,
    private readonly log: Logger,
  ) {}

  set(down: boolean): void {
    clearTimeout(this.downTimer);
    this.down = down;
    if (!down) {
      // Back to the normal validity at once, so gateways recover at their next poll.
      this.publisher.setValidityOverride(undefined);
      void this.publisher.publish();
    }
    this.log.warn({ down }, down ? 'central down (simulated fault)' : 'central back up');
  }

  /** Signs a configuration valid for `validitySeconds`, serves it `serveSeconds`, then goes down. */
  async expireSoon(validitySeconds: number, serveSeconds: number): Promise<number> {
    this.set(false);
    this.publisher.setValidityOverride(validitySeconds);
    await this.publisher.publish();
    this.downTimer = setTimeout(() => {
      this.down = true;
      this.log.warn({}, 'central down (simulated fault, configuration left to expire)');
    }, serveSeconds * 1000);
    this.downTimer.unref();
    return this.publisher.current.expiresAt;
  }

  stop(): void {
    clearTimeout(this.downTimer);
  }

  /** Refuses what gateways would call while central is down. */
  guard() {
    return (_req: Request, res: Response, next: NextFunction) => {
      if (!this.down) return next();
      res.status(503).json({ error: 'unavailable', message: "central is down (simulated fault; 'camdx fault central up' ends it)" });
    };
  }

  /** `GET|PUT /api/faults` {down?: boolean} or {expireInSeconds, downAfterSeconds}. */
  router(): Router {
    const router = Router();
    router.get('/faults', (_req, res) => void res.json({ down: this.down }));
    router.put('/faults', async (req: Request, res: Response) => {
      const body = (req.body ?? {}) as { down?: unknown; expireInSeconds?: unknown; downAfterSeconds?: unknown };
      const int = (v: unknown, min: number, max: number) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
      if (typeof body.down === 'boolean' && body.expireInSeconds === undefined) {
        this.set(body.down);
        return void res.json({ down: this.down });
      }
      if (body.down === undefined && int(body.expireInSeconds, 5, 86_400) && int(body.downAfterSeconds ?? 0, 0, (body.expireInSeconds as number) - 1)) {
        const expiresAt = await this.expireSoon(body.expireInSeconds as number, (body.downAfterSeconds as number | undefined) ?? 0);
        return void res.json({ down: this.down, expiresAt: new Date(expiresAt).toISOString() });
      }
      res.status(400).json({ error: 'invalid', message: 'expected {"down": true|false} or {"expireInSeconds": 5-86400, "downAfterSeconds"?: less than that}' });
    });
    return router;
  }
}
