import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PinnedAgent } from '../../gateway/transport/tls.js';
import { call } from '../support/http.js';
import { CLIENT, SERVICE } from '../support/network.js';
import { startOutcomeNetwork, warmUp, type OutcomeNetwork } from '../support/exchange-outcomes.js';

/**
 * A consumer gateway's pooled connection to a provider stays open while idle for less than
 * limits.idleTimeoutMs (60 s by default), as both sides are configured: the provider must not
 * hang up first (Node's default is 5 s), or every pause costs a full handshake and a request
 * sent as it hangs up fails.
 */
let n: OutcomeNetwork;
beforeAll(async () => {
  n = await startOutcomeNetwork();
  await warmUp(n);
}, 60_000);
afterAll(() => n?.close());

const exchange = async (i: number) => {
  const res = await call(`${n.consumerUrl}/r1/${SERVICE}/echo/keep-alive-${i}`, { method: 'POST', headers: [['X-Road-Client', CLIENT], ['Content-Type', 'text/plain']], body: `keep ${i}` });
  expect(res.status, String(res.headers['x-road-error'])).toBe(200);
};

describe('connections between gateways', () => {
  it('an exchange after 6 s of quiet reuses the pooled connection instead of opening another', async () => {
    const connections = vi.spyOn(PinnedAgent.prototype, 'createConnection');
    try {
      await exchange(1);
      const before = connections.mock.calls.length;
      await new Promise((resolve) => setTimeout(resolve, 6000));
      await exchange(2);
      expect(connections.mock.calls.length - before).toBe(0);
    } finally {
      connections.mockRestore();
    }
  }, 30_000);
});
