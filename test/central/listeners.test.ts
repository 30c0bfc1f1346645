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

  it('the console listener serves the admin API, the console, the catalogue, the dashboard, metrics and health, not the global configuration', async () => {
    expect(t.running.consoleUrl).not.toBe(t.running.url);
    expect((await fetch(`${t.running.consoleUrl}/api/members`, { headers: { authorization: `Bearer ${t.adminToken}` } })).status).toBe(200);
    // Without sign-in: the pages, the metrics, health, and the admin API's own description.
    for (const path of ['/dashboard', '/metrics', '/health', '/console', '/catalogue', '/api/openapi.json']) expect({ path, status: (await fetch(`${t.running.consoleUrl}${path}`)).status }).toEqual({ path, status: 200 });
    expect(((await (await fetch(`${t.running.consoleUrl}/api/openapi.json`)).json()) as { openapi: string }).openapi).toBe('3.1.0');
    expect((await fetch(`${t.running.consoleUrl}/globalconf`)).status).toBe(404);
  });
});
