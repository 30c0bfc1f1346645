import { describe, expect, it } from 'vitest';
import { seededRandom as prng } from '../../members/population/random.js';
import { FUZZ_CATEGORIES, fuzzCorpus } from '../../sim/chaos/fuzz.js';
import type { Attempt } from '../../sim/chaos/load.js';
import { matchRecords, type SideRecord } from '../../sim/chaos/records.js';
import { failures, renderReport, type ChaosSummary } from '../../sim/chaos/report.js';
import { parseAnswerHead } from '../../sim/chaos/wire.js';

/** The chaos suite's pure parts: its fuzz corpus, its record matching and its verdict. The run itself is `npm run chaos`. */

describe('the fuzz corpus', () => {
  it('is the same bytes for the same seed, other bytes for another, and covers every category', () => {
    const a = fuzzCorpus(7, 1000, 'f');
    const b = fuzzCorpus(7, 1000, 'f');
    expect(a.map((c) => c.bytes.toString('base64'))).toEqual(b.map((c) => c.bytes.toString('base64')));
    const other = fuzzCorpus(8, 1000, 'f');
    expect(other.filter((c, i) => !c.bytes.equals(a[i]!.bytes)).length).toBeGreaterThan(500);
    expect(new Set(a.map((c) => c.category))).toEqual(new Set(FUZZ_CATEGORIES));
    expect(new Set(a.map((c) => c.mutation)).size).toBeGreaterThan(40);
    expect(a.some((c) => c.clientMistake) && a.some((c) => !c.clientMistake)).toBe(true);
  });

  it('gives each case its own X-Road-Id, so records can be told apart', () => {
    const ids = fuzzCorpus(1, 500, 'run1-fuzz').flatMap((c) => [.../X-Road-Id: (run1-fuzz-\d+)\r\n/.exec(c.bytes.toString('latin1'))?.slice(1, 2) ?? []]);
    expect(ids.length).toBeGreaterThan(300);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('draws from a seeded generator in [0, 1)', () => {
    const r = prng(42);
    const values = Array.from({ length: 1000 }, r);
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(prng(42)()).toBe(values[0]);
    expect(new Set(values).size).toBeGreaterThan(990);
  });
});

const attempt = (id: string, over: Partial<Attempt> = {}): Attempt => ({
  id,
  route: 'DEMOBANK→MOI',
  consumer: 'demobank',
  provider: 'moi',
  startedAt: 1000,
  endedAt: 1100,
  status: 200,
  type: null,
  answered: true,
  requestId: `r-${id}`,
  error: null,
  hang: false,
  ...over,
});
const rec = (side: 'Client' | 'Producer', id: string, succeeded = true, requestId = `r-${id}`): SideRecord => ({ gateway: side === 'Client' ? 'demobank' : 'moi', side, messageId: id, requestId, succeeded });

describe('record matching', () => {
  it('tells matched, lost, duplicated and in-doubt exchanges apart, in doubt by kill window', () => {
    const attempts = [
      attempt('ok'),
      attempt('no-provider-record'),
      attempt('wrong-request-id'),
      attempt('twice'),
      attempt('done-at-provider-during-kill', { answered: false, status: null, requestId: null, error: 'ECONNRESET', startedAt: 5000, endedAt: 5050 }),
      attempt('done-at-provider-later', { answered: false, status: 500, type: 'Server.ClientProxy.NetworkError', requestId: null, startedAt: 9000, endedAt: 9050 }),
      attempt('failed-everywhere', { answered: false, status: 500, type: 'Server.ClientProxy.CertValidation', requestId: null }),
    ];
    const records = [
      rec('Client', 'ok'),
      rec('Producer', 'ok'),
      rec('Client', 'no-provider-record'),
      rec('Client', 'wrong-request-id'),
      rec('Producer', 'wrong-request-id', true, 'r-other'),
      rec('Client', 'twice'),
      rec('Producer', 'twice'),
      rec('Producer', 'twice'),
      rec('Producer', 'done-at-provider-during-kill'),
      rec('Client', 'done-at-provider-later', false, 'r-x'),
      rec('Producer', 'done-at-provider-later', true, 'r-x'),
      rec('Client', 'failed-everywhere', false, 'none'),
    ];
    const m = matchRecords(attempts, records, [{ gateway: 'demobank', from: 4900, to: 6000 }, { gateway: 'tsc', from: 8900, to: 9100 }]);
    expect(m.matched).toBe(2);
    expect(m.lost).toEqual(['no-provider-record', 'wrong-request-id']);
    expect(m.duplicated).toEqual(['twice']);
    expect(m.inDoubtInKillWindow).toBe(1);
    // A kill of a gateway not on the exchange's route explains nothing.
    expect(m.inDoubtOther).toEqual(['done-at-provider-later']);
  });
});

const passing: ChaosSummary = {
  mode: 'short',
  seed: 1,
  seconds: 95,
  attempts: [attempt('a'), attempt('b', { answered: false, status: null, error: 'ECONNREFUSED', requestId: null })],
  fuzz: [{ mutation: 'path: dot segment', clientMistake: true, answer: { status: 400, type: 'Client.InvalidRequest', closed: false, hang: false, ms: 3 } }],
  truncated: [{ status: null, type: null, closed: true, hang: false, ms: 20 }],
  slowHeaders: [{ ms: 10_300, cut: true, served: false }],
  hostileTls: [{ name: 'TLS without a client certificate', cut: { ms: 12, cut: true, served: false } }],
  cutBoundMs: 20_000,
  crashes: [],
  matching: { matched: 1, lost: [], duplicated: [], inDoubtInKillWindow: 2, inDoubtOther: [] },
  records: { consumer: 1, provider: 1 },
  integrity: [{ gateway: 'moi', result: 'ok' }],
  rss: [{ gateway: 'moi', beforeMb: 150, afterMb: 170 }],
  faults: [{ name: 'ocsp down 4 s, up', boundMs: 11_000, recoveryMs: 400 }],
};

describe('the chaos report', () => {
  it('prints one table and passes a clean run', () => {
    const text = renderReport(passing);
    expect(failures(passing)).toEqual([]);
    expect(text).toMatch(/load: by status and X-Road type +200: 1; no answer \(ECONNREFUSED\): 1/);
    expect(text).toMatch(/records: in doubt \(kill window \/ other\) +2 \/ 0/);
    expect(text).toMatch(/recovery: ocsp down 4 s, up +0\.4 s \(bound 11\.0 s\)\n/);
    expect(text.trimEnd().endsWith('chaos: passed')).toBe(true);
  });

  it('fails on a crash, a hang, a lost or duplicated record, a client mistake blamed on a server, a bad log, a slow recovery', () => {
    const bad: ChaosSummary = {
      ...passing,
      attempts: [...passing.attempts, attempt('h', { answered: false, status: null, hang: true, error: 'timeout' })],
      fuzz: [...passing.fuzz, { mutation: 'path: encoded separator', clientMistake: true, answer: { status: 500, type: 'Server.ServerProxy.InvalidRequest', closed: false, hang: false, ms: 9 } }, { mutation: 'method: another method', clientMistake: false, answer: { status: 500, type: 'Server.ServerProxy.AccessDenied', closed: false, hang: false, ms: 9 } }],
      crashes: [{ part: 'gateway-moi', at: 1, code: 1, signal: null }],
      matching: { ...passing.matching, lost: ['x'], duplicated: ['y'] },
      integrity: [{ gateway: 'moi', result: 'row 3 missing from index' }],
      faults: [...passing.faults, { name: 'central down 4 s, up', boundMs: 8000, recoveryMs: 9000 }, { name: 'tsa down 4 s, up', boundMs: 23_000, recoveryMs: null }],
    };
    const why = failures(bad).join('\n');
    expect(why).toContain('gateway-moi exited by itself (code 1)');
    expect(why).toContain('1 calls got no answer within 10 s');
    expect(why).toContain('1 answered calls without a record on a side (first: x)');
    expect(why).toContain('1 ids recorded more than once on a side (first: y)');
    // Only the client mistake counts; AccessDenied for a method the right does not cover is no mistake of the caller's syntax.
    expect(why).toContain('1 client mistakes answered with a 5xx Server.* type: path: encoded separator → 500 Server.ServerProxy.InvalidRequest: 1');
    expect(why).toContain('message log of moi: row 3 missing from index');
    expect(why).toContain('central down 4 s, up: recovered after 9.0 s, bound 8.0 s');
    expect(why).toContain('tsa down 4 s, up: no answered call, bound 23.0 s');
    expect(failures(bad)).toHaveLength(8);
    expect(renderReport(bad)).toMatch(/chaos: FAILED\n {2}- gateway-moi/);
  });

  it('reads the status and X-Road type of an answer head, and nothing from a partial one', () => {
    expect(parseAnswerHead('HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nX-Road-Error: Client.InvalidRequest\r\n\r\n{')).toEqual({ status: 400, type: 'Client.InvalidRequest' });
    expect(parseAnswerHead('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')).toEqual({ status: 200, type: null });
    expect(parseAnswerHead('HTTP/1.1 200 OK\r\nContent-Len')).toBeUndefined();
    expect(parseAnswerHead('garbage\r\n\r\n')).toBeUndefined();
  });
});
