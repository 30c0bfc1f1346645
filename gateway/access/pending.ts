import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../common/files.js';
import type { GlobalConf } from '../../protocol/globalconf.js';

const Sent = z.strictObject({
  requestId: z.number().int(),
  type: z.enum(['accessRightAdd', 'localGroupAdd', 'localGroupRemove', 'localGroupMemberAdd']),
  /** When it was sent (ISO). */
  sentAt: z.string(),
  /** `in progress` (central applied it; the next configuration carries it) or `waiting for approval`. */
  status: z.enum(['in progress', 'waiting for approval']),
  service: z.string().optional(),
  subject: z.string().optional(),
  subjectType: z.enum(['SUBSYSTEM', 'LOCALGROUP']).optional(),
  method: z.string().optional(),
  path: z.string().optional(),
  group: z.string().optional(),
  member: z.string().optional(),
  description: z.string().optional(),
});
export type SentRequest = z.infer<typeof Sent>;

/** Requests kept at most: the oldest go first (a request central never applies would otherwise stay for ever). */
const MAX_SENT = 200;

/** Whether `conf` carries what the request asked for: then the console no longer shows it "in progress". */
function carried(conf: GlobalConf, r: SentRequest): boolean {
  const group = (conf.localGroups ?? []).find((g) => g.id === r.group);
  switch (r.type) {
    case 'accessRightAdd':
      return conf.accessRights.some((x) => x.service === r.service && x.subject === r.subject && x.method === r.method && x.path === r.path);
    case 'localGroupAdd':
      return group !== undefined;
    case 'localGroupRemove':
      return group === undefined;
    case 'localGroupMemberAdd':
      return group?.members.includes(r.member!) ?? false;
  }
}

/**
 * Additions this gateway's owner sent that the polled configuration does not carry yet (X-Road's
 * "registration in progress"), kept in `<stateDir>/sent-requests.json` so a restart still shows
 * them. An entry ends when a configuration carries its change.
 */
export class SentRequests {
  private entries: SentRequest[];
  private readonly file: string;

  constructor(stateDir: string) {
    this.file = join(stateDir, 'sent-requests.json');
    this.entries = existsSync(this.file) ? z.array(Sent).parse(JSON.parse(readFileSync(this.file, 'utf8'))) : [];
  }

  list(): readonly SentRequest[] {
    return this.entries;
  }

  add(entry: SentRequest): void {
    this.save([...this.entries, entry].slice(-MAX_SENT));
  }

  /** Ends the entries `conf` carries. */
  settle(conf: GlobalConf): void {
    const rest = this.entries.filter((e) => !carried(conf, e));
    if (rest.length !== this.entries.length) this.save(rest);
  }

  private save(entries: SentRequest[]): void {
    writeFileAtomic(this.file, `${JSON.stringify(entries, null, 2)}\n`, 0o600, { durable: true });
    this.entries = entries;
  }
}
