import { defineConfig } from 'vitest/config';

// npm test: the fast suite (under 3 minutes on a 2-core machine). The exploration-sized
// cross-checks live in test/slow/ (npm run test:slow, vitest.slow.config.ts); .ci/run runs both.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/slow/**', 'node_modules/**'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
