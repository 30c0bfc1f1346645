import { EventEmitter } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../common/files.js';
import type { GlobalConf } from '../../protocol/globalconf.js';

const Withdrawal = z.strictObject({
  service: z.string(),
  subject: z.string(),
  /** A subsystem, or a local group of the service's subsystem (its full id). */
  subjectType: z.enum(['SUBSYSTEM', 'LOCALGROUP']).default('SUBSYSTEM'),
  method: z.string(),
  path: z.string(),
  /** When the owner withdrew it (ISO). */
  since: z.string(),
  /** Central's reason, when it refused the removal: the entry stays, and keeps denying. */
  refused: z.string().optional(),
});
/** A subsystem taken out of one of the owner's local groups (localGroupMemberRemove). */
const MemberWithdrawal = z.strictObject({ group: z.string(), member: z.string(), since: z.string(), refused: z.string().optional() });
/** A client of this server its member disabled (clientDisable): neither calling nor called from now on. */
const ClientWithdrawal = z.strictObject({
  client: z.string(),
  since: z.string(),
  refused: z.string().optional(),
  /** Central recorded the clientDisable (its configuration may not say so yet). */ recorded: z.boolean().optional(),
});
const OverlayFile = z.union([
  z.array(Withdrawal).transform((rights) => ({ rights, members: [] as MemberWithdrawal[], clients: [] as ClientWithdrawal[] })),
  z.strictObject({ rights: z.array(Withdrawal), members: z.array(MemberWithdrawal), clients: z.array(ClientWithdrawal).default([]) }),
]);
export type Withdrawal = z.infer<typeof Withdrawal>;
export type MemberWithdrawal = z.infer<typeof MemberWithdrawal>;
export type ClientWithdrawal = z.infer<typeof ClientWithdrawal>;
export type RightKey = Pick<Withdrawal, 'service' | 'subject' | 'method' | 'path'> & { readonly subjectType?: Withdrawal['subjectType'] | 'GLOBALGROUP' };
export type MemberKey = Pick<MemberWithdrawal, 'group' | 'member'>;

const same = (a: RightKey, b: RightKey) =>
  a.service === b.service && a.subject === b.subject && a.method === b.method && a.path === b.path && (a.subjectType ?? 'SUBSYSTEM') === (b.subjectType ?? 'SUBSYSTEM');
const sameMember = (a: MemberKey, b: MemberKey) => a.group === b.group && a.member === b.member;

/**
 * Rights this gateway's owner withdrew, and members it took out of its local groups, that the
 * global configuration may still carry: the provider denies them at once, central up or not (a
 * revocation must not wait for an operator or a poll). Kept in `<stateDir>/access-overlay.json`,
 * written atomically, so a restart keeps denying. An entry ends when a configuration no longer
 * carries what it withdrew, or when its owner drops it; emits 'change' after either.
 */
export class AccessOverlay extends EventEmitter {
  private entries: Withdrawal[];
  private memberEntries: MemberWithdrawal[];
  private clientEntries: ClientWithdrawal[];
  private readonly file: string;

  constructor(stateDir: string) {
    super();
    this.file = join(stateDir, 'access-overlay.json');
    const saved = existsSync(this.file) ? OverlayFile.parse(JSON.parse(readFileSync(this.file, 'utf8'))) : { rights: [], members: [], clients: [] };
    this.entries = saved.rights;
    this.memberEntries = saved.members;
    this.clientEntries = saved.clients;
  }

  listClients(): readonly ClientWithdrawal[] {
    return this.clientEntries;
  }

  /** Whether this gateway's owner disabled `client` here (on this server only). */
  disablesClient(client: string): boolean {
    return this.clientEntries.some((e) => e.client === client);
  }

  disableClient(client: string, now: number): ClientWithdrawal {
    const known = this.clientEntries.find((e) => e.client === client);
    if (known) return known;
    const entry = { client, since: new Date(now).toISOString() };
    this.write({ clients: [...this.clientEntries, entry] });
    return entry;
  }

  markClientRecorded(client: string): void {
    this.write({ clients: this.clientEntries.map((e) => (e.client === client ? { ...e, recorded: true } : e)) });
  }

  markClientRefused(client: string, reason: string): void {
    this.write({ clients: this.clientEntries.map((e) => (e.client === client ? { ...e, refused: reason } : e)) });
  }

  /** Ends the local disable; returns the entry it ended, if there was one. */
  dropClient(client: string): ClientWithdrawal | undefined {
    const entry = this.clientEntries.find((e) => e.client === client);
    if (entry) this.write({ clients: this.clientEntries.filter((e) => e !== entry) });
    return entry;
  }

  listMembers(): readonly MemberWithdrawal[] {
    return this.memberEntries;
  }

  /** Whether the owner took `member` out of local group `group` here. */
  withdrawsMember(group: string, member: string): boolean {
    return this.memberEntries.some((e) => e.group === group && e.member === member);
  }

  withdrawMember(key: MemberKey, now: number): MemberWithdrawal {
    const known = this.memberEntries.find((e) => sameMember(e, key));
    if (known) return known;
    const entry = { group: key.group, member: key.member, since: new Date(now).toISOString() };
    this.save(this.entries, [...this.memberEntries, entry]);
    return entry;
  }

  markMemberRefused(key: MemberKey, reason: string): void {
    this.save(
      this.entries,
      this.memberEntries.map((e) => (sameMember(e, key) ? { ...e, refused: reason } : e)),
    );
  }

  dropMember(key: MemberKey): boolean {
    const rest = this.memberEntries.filter((e) => !sameMember(e, key));
    if (rest.length === this.memberEntries.length) return false;
    this.save(this.entries, rest);
    return true;
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
    const subjectType = right.subjectType === 'LOCALGROUP' ? 'LOCALGROUP' : 'SUBSYSTEM';
    const entry = { service: right.service, subject: right.subject, subjectType, method: right.method, path: right.path, since: new Date(now).toISOString() } as const;
    this.save([...this.entries, entry], this.memberEntries);
    return entry;
  }

  /** Central refused the removal: the entry stays and says why. */
  markRefused(right: RightKey, reason: string): void {
    this.save(
      this.entries.map((e) => (same(e, right) ? { ...e, refused: reason } : e)),
      this.memberEntries,
    );
  }

  /** The owner drops the entry: the configuration's rights apply again. */
  drop(right: RightKey): boolean {
    const rest = this.entries.filter((e) => !same(e, right));
    if (rest.length === this.entries.length) return false;
    this.save(rest, this.memberEntries);
    return true;
  }

  /**
   * Ends the entries `conf` makes needless: a right or membership it no longer carries, a client
   * it lists disabled on `serverId` (or no longer as its client): central has recorded them.
   */
  settle(conf: GlobalConf, serverId: string): void {
    const rights = this.entries.filter((e) => conf.accessRights.some((r) => same(r, e)));
    const members = this.memberEntries.filter((e) => (conf.localGroups ?? []).some((g) => g.id === e.group && g.members.includes(e.member)));
    const here = conf.securityServers.find((s) => s.id === serverId);
    const clients = this.clientEntries.filter((e) => here?.clients.includes(e.client) && !here.disabledClients?.includes(e.client));
    if (rights.length !== this.entries.length || members.length !== this.memberEntries.length || clients.length !== this.clientEntries.length) this.write({ rights, members, clients });
  }

  private save(rights: Withdrawal[], members: MemberWithdrawal[]): void {
    this.write({ rights, members });
  }

  private write(next: { rights?: Withdrawal[]; members?: MemberWithdrawal[]; clients?: ClientWithdrawal[] }): void {
    const state = { rights: next.rights ?? this.entries, members: next.members ?? this.memberEntries, clients: next.clients ?? this.clientEntries };
    writeFileAtomic(this.file, `${JSON.stringify(state, null, 2)}\n`, 0o600, { durable: true });
    this.entries = state.rights;
    this.memberEntries = state.members;
    this.clientEntries = state.clients;
    this.emit('change');
  }
}
