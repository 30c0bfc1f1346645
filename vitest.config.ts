import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The default output, then the skipped tests with their tools and `tests: N passed, N failed, N skipped`.
    reporters: ['default', './test/support/reporter.ts'],
  },
});
