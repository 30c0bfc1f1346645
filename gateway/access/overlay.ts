import { EventEmitter } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../common/files.js';
import type { GlobalConf } from '../../protocol/globalconf.js';

const Withdrawal = z.strictObject({
  service: z.string(),
  subject: z.string(),
  method: z.string(),
  path: z.string(),
  /** When the owner withdrew it (ISO). */
  since: z.string(),
  /** Central's reason, when it refused the removal: the entry stays, and keeps denying. */
  refused: z.string().optional(),
});
export type Withdrawal = z.infer<typeof Withdrawal>;
export type RightKey = Pick<Withdrawal, 'service' | 'subject' | 'method' | 'path'>;

const same = (a: RightKey, b: RightKey) => a.service === b.service && a.subject === b.subject && a.method === b.method && a.path === b.path;

/**
 * Rights this gateway's owner withdrew that the global configuration may still carry: the
 * provider denies them at once, central up or not (a revocation must not wait for an operator
 * or a poll). Kept in `<stateDir>/access-overlay.json`, written atomically, so a restart keeps
 * denying. An entry ends when a configuration no longer carries its right, or when its owner
 * drops it; emits 'change' after either.
 */
export class AccessOverlay extends EventEmitter {
  private entries: Withdrawal[];
  private readonly file: string;

  constructor(stateDir: string) {
    super();
    this.file = join(stateDir, 'access-overlay.json');
    this.entries = existsSync(this.file) ? z.array(Withdrawal).parse(JSON.parse(readFileSync(this.file, 'utf8'))) : [];
  }

  list(): readonly Withdrawal[] {
    return this.entries;
  }

  withdraws(right: RightKey): boolean {
    return this.entries.some((e) => same(e, right));
  }

  /** Denies `right` from now on; returns the entry (the existing one if it was withdrawn already). */
  withdraw(right: RightKey, now: number): Withdrawal {
    const known = this.entries.find((e) => same(e, right));
    if (known) return known;
    const entry = { service: right.service, subject: right.subject, method: right.method, path: right.path, since: new Date(now).toISOString() };
    this.save([...this.entries, entry]);
    return entry;
  }

  /** Central refused the removal: the entry stays and says why. */
  markRefused(right: RightKey, reason: string): void {
    this.save(this.entries.map((e) => (same(e, right) ? { ...e, refused: reason } : e)));
  }

  /** The owner drops the entry: the configuration's rights apply again. */
  drop(right: RightKey): boolean {
    const rest = this.entries.filter((e) => !same(e, right));
    if (rest.length === this.entries.length) return false;
    this.save(rest);
    return true;
  }

  /** Ends the entries whose right `conf` no longer carries: central has recorded their removal. */
  settle(conf: GlobalConf): void {
    const rest = this.entries.filter((e) => conf.accessRights.some((r) => r.subjectType === 'SUBSYSTEM' && same(r, e)));
    if (rest.length !== this.entries.length) this.save(rest);
  }

  private save(entries: Withdrawal[]): void {
    writeFileAtomic(this.file, `${JSON.stringify(entries, null, 2)}\n`, 0o600, { durable: true });
    this.entries = entries;
    this.emit('change');
  }
}
