import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The measured benchmarks that run under vitest (they start test networks), outside `npm test`.
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    include: ['bench/**/*.test.ts'],
    testTimeout: 60 * 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
