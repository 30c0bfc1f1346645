import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GlobalConfClient } from '../../gateway/globalconf/client.js';
import { startTestCentral, type TestCentral } from '../support/central.js';
import { capturingLogger } from '../support/pki.js';
import { tempDir } from '../support/tmp.js';

let t: TestCentral;
const cache = tempDir();
beforeAll(async () => {
  // A short validity, as the simulation's 40 s: an eighth of it is 2 s.
  t = await startTestCentral({ confExpirySeconds: 16 });
});
afterAll(async () => {
  await t.close();
  cache.cleanup();
});

describe("a gateway's configuration polls", () => {
  it('come at least every eighth of a short validity, whatever the configured interval', async () => {
    const client = new GlobalConfClient({ anchor: t.anchor, cacheDir: cache.path, intervalMs: 60_000, log: capturingLogger().log });
    await client.start();
    try {
      const first = client.current!.version;
      await t.admin.call('POST', '/members', { id: 'CAMDX/GOV/POLL', name: 'Poll Ministry' });
      const end = Date.now() + 5_000;
      while (client.current!.version === first && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
      // The minute configured would have left it at the first version.
      expect(client.current!.version).toBeGreaterThan(first);
      expect(client.current!.members.map((m) => m.id)).toContain('CAMDX/GOV/POLL');
    } finally {
      client.stop();
    }
  });
});
