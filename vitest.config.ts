import { defineConfig } from 'vitest/config';

// npm test: the fast suite (under 3 minutes on a 2-core machine). The exploration-sized
// cross-checks live in test/slow/ (npm run test:slow, vitest.slow.config.ts), the tests that drive
// Chromium in test/browser/ (npm run test:browser, vitest.browser.config.ts); .ci/run runs all three.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/slow/**', 'test/browser/**', 'node_modules/**'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
