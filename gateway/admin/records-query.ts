import type { GatewayContext } from '../context.js';

/**
 * `/api/v1/records?from=&to=&client=&service=&limit=` (times in ms since the epoch) on the
 * console API: the operational records, or why the query is refused.
 */
export function queryRecords(ctx: GatewayContext, params: URLSearchParams): { status: 200 | 400; body: unknown } {
  const num = (name: string, fallback: number) => {
    const v = params.get(name);
    return v === null ? fallback : Number(v);
  };
  const q = { from: num('from', 0), to: num('to', Date.now() + 60_000), limit: num('limit', 1000) };
  if (![q.from, q.to, q.limit].every(Number.isFinite) || q.limit < 1 || q.limit > 10_000) {
    return { status: 400, body: { error: 'invalid', message: 'from and to are milliseconds since the epoch; limit is 1-10000' } };
  }
  ctx.messageLog.flush();
  const client = params.get('client');
  const service = params.get('service');
  return { status: 200, body: ctx.messageLog.operationalRecords({ ...q, ...(client ? { client } : {}), ...(service ? { service } : {}) }) };
}
