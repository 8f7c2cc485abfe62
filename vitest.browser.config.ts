import { defineConfig } from 'vitest/config';

// npm run test:browser: checker serve's page driven in Chromium (the system's, /usr/bin/chromium or
// $CHROMIUM) through playwright-core. One file at a time: one browser, one server.
export default defineConfig({
  test: {
    include: ['test/browser/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});
