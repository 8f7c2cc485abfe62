import { defineConfig } from 'vitest/config';

// npm run test:slow: exploration-sized cross-checks (the naive BFS at depth 4 and to fixpoints, the
// whole regression matrix through the CLI).
export default defineConfig({
  test: {
    include: ['test/slow/**/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
