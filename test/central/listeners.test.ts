import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCentral, type TestCentral } from '../support/central.js';

let t: TestCentral;
beforeAll(async () => {
  t = await startTestCentral();
});
afterAll(() => t.close());

describe('central listeners', () => {
  it('the public port serves the global configuration and management requests, and nothing of the console', async () => {
    expect((await fetch(`${t.running.url}/globalconf`)).status).toBe(200);
    for (const path of ['/api', '/api/members', '/console', '/dashboard', '/metrics', '/health', '/catalogue']) {
      const res = await fetch(`${t.running.url}${path}`, { headers: { authorization: `Bearer ${t.adminToken}` } });
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
    }
  });

  it('the console listener serves the admin API, the dashboard, metrics and health, not the global configuration', async () => {
    expect(t.running.consoleUrl).not.toBe(t.running.url);
    expect((await fetch(`${t.running.consoleUrl}/api/members`, { headers: { authorization: `Bearer ${t.adminToken}` } })).status).toBe(200);
    for (const path of ['/dashboard', '/metrics', '/health']) expect({ path, status: (await fetch(`${t.running.consoleUrl}${path}`)).status }).toEqual({ path, status: 200 });
    expect((await fetch(`${t.running.consoleUrl}/globalconf`)).status).toBe(404);
  });
});
