// `steps` with one vCPU against the atomic model, deeper than the fast suite: from every state the
// atomic model reaches within depth 4, every hypercall run in segments returns the atomic model's
// state and return code, so the states at hypercall boundaries are the atomic ones to depth 5.
// The eight version × backend pairs take about 9 minutes on this 2-core machine: three files
// (steps-boundaries-*.test.ts) share them, so that test:slow's two workers run them side by side.
import { describe, expect, it } from 'vitest';
import { BACKENDS, VERSIONS } from '../../model/index.js';
import { boundaryEquivalence } from '../steps-helpers.js';

/** The versions of each file: together, every version once (checked below). */
export const GROUPS = { seed: ['seed'], head: ['head'], middle: ['xen-4.5', 'xen-4.19'] } as const;
const grouped = Object.values(GROUPS).flat();
if (grouped.length !== VERSIONS.length || !VERSIONS.every((v) => (grouped as readonly string[]).includes(v))) {
  throw new Error(`the steps-boundaries files cover ${grouped.join(', ')}, not every version (${VERSIONS.join(', ')})`);
}

export function boundaryTests(versions: readonly string[]): void {
  describe('steps granularity with one vCPU is the atomic model at hypercall boundaries (deep)', () => {
    for (const version of versions) {
      for (const backend of BACKENDS) {
        it(`${version} on ${backend}, from every state within depth 4`, () => {
          expect(boundaryEquivalence(version, backend, 4)).toBeGreaterThan(100_000);
        });
      }
    }
  });
}
