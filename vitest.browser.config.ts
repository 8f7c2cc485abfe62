import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that need xen-4.19's race (found by the half-minute exploration the global setup starts)
 * run last, so that the others run while it explores.
 */
class RaceLast extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => ['serve', 'links', 'screens', 'race'].findIndex((n) => f.moduleId.endsWith(`/${n}.test.ts`));
    return [...files].sort((a, b) => rank(a) - rank(b) || a.moduleId.localeCompare(b.moduleId));
  }
}

// npm run test:browser: checker serve's page driven in Chromium (the system's, /usr/bin/chromium or
// $CHROMIUM) through playwright-core. One file at a time: one browser, one server.
export default defineConfig({
  test: {
    include: ['test/browser/**/*.test.ts'],
    globalSetup: ['test/browser/global-setup.ts'],
    testTimeout: 360_000,
    hookTimeout: 360_000,
    pool: 'forks',
    maxWorkers: 1,
    sequence: { sequencer: RaceLast },
  },
});
