import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, errorOf } from '../support/http.js';
import { CLIENT, startTestNetwork, type TestNetwork } from '../support/network.js';

let n: TestNetwork;
beforeAll(async () => {
  n = await startTestNetwork({ confExpirySeconds: 10 });
}, 120_000);
afterAll(() => n?.close());

const health = async (url: string) => (await (await fetch(`${url}/health`)).json()) as { status: string; globalConf: { outdated: boolean; expiresAt: string; version: number } };

describe('an expired global configuration', () => {
  it('stops traffic with OutdatedGlobalConf while central is away, and traffic resumes when it returns', async () => {
    const send = () => call(`${n.serviceUrl}/echo/x`, { method: 'POST', headers: [['X-Road-Client', CLIENT]], body: 'x' });
    expect((await send()).status).toBe(200);
    await n.central.stop();
    const { globalConf } = await health(n.consumer.adminUrl);
    // Central is down: the cached copy keeps working until it expires...
    expect((await send()).status).toBe(200);
    await new Promise((r) => setTimeout(r, Date.parse(globalConf.expiresAt) - Date.now() + 200));
    const refused = await send();
    expect(refused.status).toBe(500);
    expect(errorOf(refused).type).toBe('Server.ClientProxy.OutdatedGlobalConf');
    const h = await fetch(`${n.consumer.adminUrl}/health`);
    expect(h.status).toBe(503);
    expect(((await h.json()) as { globalConf: { outdated: boolean } }).globalConf.outdated).toBe(true);
    // ...and when central is back, the next poll brings a fresh copy.
    await n.central.restart();
    for (let i = 0; i < 50 && (await health(n.consumer.adminUrl)).globalConf.outdated; i++) await new Promise((r) => setTimeout(r, 200));
    for (let i = 0; i < 50 && (await health(n.provider.adminUrl)).globalConf.outdated; i++) await new Promise((r) => setTimeout(r, 200));
    expect((await send()).status).toBe(200);
  }, 60_000);
});
