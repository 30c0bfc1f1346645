import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CentralAdminClient } from '../../central/admin-client.js';
import { Registry, type AuditRecord } from '../../central/registry/registry.js';
import { failure, startTestCentral, type TestCentral } from '../support/central.js';

/** The audit log as the console reads it: who (admin-token, admin-token:NAME, a user), filtered, paged, newest first. */

describe('Registry.auditPage', () => {
  let now = Date.parse('2026-09-02T10:00:00Z');
  const registry = new Registry(':memory:', 'CAMDX', ['GOV'], () => now);
  // Ten records a minute apart: alice and bob alternate, every third one a sign-in.
  for (let i = 0; i < 10; i++) {
    registry.core.record(i % 2 ? 'bob' : 'alice', i % 3 ? 'member.add' : 'session.start', `T${i}`);
    now += 60_000;
  }
  const targets = (r: { records: AuditRecord[] }) => r.records.map((x) => x.target);
  afterAll(() => registry.close());

  it('pages newest first and counts the whole selection', () => {
    expect(registry.auditPage({}, 1, 4)).toMatchObject({ total: 10 });
    expect(targets(registry.auditPage({}, 1, 4))).toEqual(['T9', 'T8', 'T7', 'T6']);
    expect(targets(registry.auditPage({}, 3, 4))).toEqual(['T1', 'T0']);
    expect(targets(registry.auditPage({}, 4, 4))).toEqual([]);
  });

  it('filters by exact actor and action, and by time (both ends included), together', () => {
    expect(targets(registry.auditPage({ actor: 'bob' }, 1, 50))).toEqual(['T9', 'T7', 'T5', 'T3', 'T1']);
    expect(registry.auditPage({ actor: 'bo' }, 1, 50).total).toBe(0);
    expect(targets(registry.auditPage({ action: 'session.start' }, 1, 50))).toEqual(['T9', 'T6', 'T3', 'T0']);
    const from = Date.parse('2026-09-02T10:02:00Z');
    const to = Date.parse('2026-09-02T10:06:00Z');
    expect(targets(registry.auditPage({ from, to }, 1, 50))).toEqual(['T6', 'T5', 'T4', 'T3', 'T2']);
    expect(registry.auditPage({ actor: 'alice', action: 'member.add', from, to }, 1, 50)).toMatchObject({ total: 2, records: [{ target: 'T4', at: '2026-09-02T10:04:00.000Z' }, { target: 'T2' }] });
  });
});

type Page = { records: AuditRecord[]; total: number; page: number; pageSize: number };

describe('GET /api/audit', () => {
  let t: TestCentral;
  let all: AuditRecord[];
  beforeAll(async () => {
    t = await startTestCentral({}, { approvePki: false });
    await t.admin.call('POST', '/groups', { code: 'G1', description: 'by the token' });
    await new CentralAdminClient(t.running.consoleUrl, t.adminToken, 'alice').call('POST', '/groups', { code: 'G2', description: 'by the token, naming alice' });
    await t.admin.call('POST', '/users', { name: 'carol', role: 'administrator', password: 'carol-secret' });
    const carol = await CentralAdminClient.signIn(t.running.consoleUrl, 'carol', 'carol-secret');
    await carol.call('POST', '/groups', { code: 'G3', description: 'by a signed-in user' });
    all = await t.admin.call<AuditRecord[]>('GET', '/audit');
  }, 60_000);
  afterAll(() => t?.close());

  it('audits the admin token as admin-token (admin-token:NAME with X-CamDX-Actor) and a signed-in user by name', () => {
    const byTarget = (target: string) => all.find((r) => r.action === 'group.add' && r.target === target)?.actor;
    expect([byTarget('CAMDX/G1'), byTarget('CAMDX/G2'), byTarget('CAMDX/G3')]).toEqual(['admin-token', 'admin-token:alice', 'carol']);
  });

  it('answers a filtered page, newest first, with the total', async () => {
    const page = await t.admin.call<Page>('GET', '/audit?action=group.add&pageSize=2');
    expect(page).toMatchObject({ total: 3, page: 1, pageSize: 2 });
    expect(page.records.map((r) => r.target)).toEqual(['CAMDX/G3', 'CAMDX/G2']);
    expect((await t.admin.call<Page>('GET', '/audit?action=group.add&pageSize=2&page=2')).records.map((r) => r.target)).toEqual(['CAMDX/G1']);
    const carols = await t.admin.call<Page>('GET', '/audit?actor=carol&action=&from=&to=');
    expect(carols.records.map((r) => r.action)).toEqual(['group.add', 'session.start']);
    const since = all.find((r) => r.target === 'CAMDX/G3')!.at;
    const later = await t.admin.call<Page>('GET', `/audit?from=${encodeURIComponent(since)}`);
    expect(later.records.map((r) => r.id)).toEqual(all.filter((r) => r.at >= since).map((r) => r.id).reverse());
  });

  it('keeps the older array for no parameters and for after/limit (camdx central audit)', async () => {
    expect(all.map((r) => r.id)).toEqual([...all.map((r) => r.id)].sort((a, b) => a - b));
    const after = await t.admin.call<AuditRecord[]>('GET', `/audit?after=${all[0]!.id}&limit=2`);
    expect(after.map((r) => r.id)).toEqual(all.slice(1, 3).map((r) => r.id));
  });

  it('refuses a bad time, page or limit with 400 naming the parameter', async () => {
    expect(await failure(t.admin.call('GET', '/audit?from=yesterday'))).toMatchObject({ status: 400, field: 'from', message: expect.stringMatching(/ISO 8601/) });
    expect(await failure(t.admin.call('GET', '/audit?to=2026-09-02'))).toMatchObject({ status: 400, field: 'to' });
    expect(await failure(t.admin.call('GET', '/audit?page=0'))).toMatchObject({ status: 400, field: 'page' });
    expect(await failure(t.admin.call('GET', '/audit?pageSize=501'))).toMatchObject({ status: 400, field: 'pageSize' });
    expect(await failure(t.admin.call('GET', '/audit?limit=x'))).toMatchObject({ status: 400, field: 'limit' });
  });
});
