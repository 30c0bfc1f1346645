import Database from 'better-sqlite3';
import type { Attempt } from './load.js';
import type { GatewayKey } from './network.js';

/** One message-log row, as far as matching needs it. */
export interface SideRecord {
  readonly gateway: GatewayKey;
  readonly side: 'Client' | 'Producer';
  readonly messageId: string;
  readonly requestId: string;
  readonly succeeded: boolean;
}

/** From a gateway's kill to the moment its restarted process was ready. */
export interface KillWindow {
  readonly gateway: GatewayKey;
  readonly from: number;
  readonly to: number;
}

export interface Matching {
  /** Answered calls (X-Road-Request-Id returned) with one success record on each side. */
  readonly matched: number;
  /** Answered calls missing a success record (with that request id) on a side. */
  readonly lost: readonly string[];
  /** Ids with more than one record on one side. */
  readonly duplicated: readonly string[];
  /** Calls without an answer that a side recorded as done, during a kill of one of their gateways. */
  readonly inDoubtInKillWindow: number;
  /** The same, outside every kill window (a client that gave up, a timeout between the gateways). */
  readonly inDoubtOther: readonly string[];
}

const overlaps = (a: Attempt, w: KillWindow) => (w.gateway === a.consumer || w.gateway === a.provider) && a.startedAt <= w.to && a.endedAt >= w.from;

/**
 * Holds every call against the records both gateways wrote for it (by X-Road-Id = message_id).
 * An answered call must have exactly one success record on each side with the request id it was
 * told; a call without an answer that a side recorded as done is in doubt (docs/architecture.md,
 * "Crashes") — expected only around a kill of one of its gateways.
 */
export function matchRecords(attempts: readonly Attempt[], records: readonly SideRecord[], kills: readonly KillWindow[]): Matching {
  const bySide = new Map<string, SideRecord[]>();
  for (const r of records) {
    const key = `${r.gateway}|${r.side}|${r.messageId}`;
    bySide.set(key, [...(bySide.get(key) ?? []), r]);
  }
  const duplicated = new Set<string>();
  for (const [key, list] of bySide) if (list.length > 1) duplicated.add(key.split('|')[2]!);
  let matched = 0;
  let inDoubtInKillWindow = 0;
  const lost: string[] = [];
  const inDoubtOther: string[] = [];
  for (const a of attempts) {
    const consumer = bySide.get(`${a.consumer}|Client|${a.id}`) ?? [];
    const provider = bySide.get(`${a.provider}|Producer|${a.id}`) ?? [];
    if (a.answered) {
      const done = (list: SideRecord[]) => list.some((r) => r.succeeded && r.requestId === a.requestId);
      if (done(consumer) && done(provider)) matched++;
      else lost.push(a.id);
    } else if (consumer.some((r) => r.succeeded) || provider.some((r) => r.succeeded)) {
      if (kills.some((w) => overlaps(a, w))) inDoubtInKillWindow++;
      else inDoubtOther.push(a.id);
    }
  }
  return { matched, lost, duplicated: [...duplicated], inDoubtInKillWindow, inDoubtOther };
}

/** A gateway's message log, opened read-only beside the running gateway: its records with ids under `prefixes`, and SQLite's own checks. */
export function readMessageLog(gateway: GatewayKey, path: string, prefixes: readonly string[]): { records: SideRecord[]; integrity: string } {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const rows = db
      .prepare(`SELECT message_id AS messageId, request_id AS requestId, side, succeeded FROM records WHERE ${prefixes.map(() => 'message_id LIKE ?').join(' OR ')}`)
      .all(...prefixes.map((p) => `${p}-%`)) as Array<{ messageId: string; requestId: string; side: 'Client' | 'Producer'; succeeded: number }>;
    const integrity = (db.pragma('integrity_check', { simple: true }) as string) ?? 'no answer';
    const foreign = db.pragma('foreign_key_check') as unknown[];
    return {
      records: rows.map((r) => ({ gateway, side: r.side, messageId: r.messageId, requestId: r.requestId, succeeded: r.succeeded === 1 })),
      integrity: foreign.length ? `${integrity}; ${foreign.length} foreign-key violations` : integrity,
    };
  } finally {
    db.close();
  }
}
