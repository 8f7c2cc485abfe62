// The exploration-sized cross-checks (npm run test:slow, run by .ci/run): the engine against the
// naive JSON-keyed BFS (test/naive-bfs.ts) on every version × backend at depth 4 and to the fixpoint
// of a smaller universe.
import { describe, expect, it } from 'vitest';
import { explore } from '../../checker/engine/index.js';
import { wire } from '../../checker/xen-model.js';
import { BACKENDS, makeUniverse, VERSIONS, type Backend } from '../../model/index.js';
import { naiveExplore } from '../naive-bfs.js';

const CONFIGS = VERSIONS.flatMap((version) => BACKENDS.map((backend) => ({ version, backend: backend as Backend })));

describe('the engine agrees with a naive JSON-keyed BFS (default universe, depth 4)', () => {
  it.each(CONFIGS)('$version on $backend', ({ version, backend }) => {
    const u = makeUniverse({ version, backend });
    const naive = naiveExplore(u, 4);
    const r = explore(wire(u).model, { maxDepth: 4 });
    expect(r.levels.map((l) => l.distinct)).toEqual(naive.distinct);
    expect(r.levels.map((l) => l.generated)).toEqual(naive.generated);
    expect(r.distinct).toBe(naive.distinct.reduce((a, b) => a + b, 0));
    const exact = explore(wire(u).model, { maxDepth: 4, exact: true });
    expect(exact.levels).toEqual(r.levels);
    if (version === 'seed' && backend === 'ept') expect(naive.distinct).toEqual([1, 26, 291, 2035, 10743]);
    if (version === 'xen-4.5' && backend === 'ept') {
      // the xen-4.5 EPT anchor faults at depth 2: faulted states exist and are leaves
      expect(naive.faulted).toBeGreaterThan(0);
    }
  });
});

describe('the engine agrees with the naive BFS on a smaller universe, to the fixpoint', () => {
  // 1 gfn per domain, no spare frame: small enough to exhaust.
  it.each(CONFIGS)('$version on $backend, gfns 1, spare 0', ({ version, backend }) => {
    const u = makeUniverse({ version, backend, gfns: 1, spareFrames: 0 });
    const naive = naiveExplore(u, 50);
    const r = explore(wire(u).model, { maxDepth: Infinity });
    expect(r.fixpoint).toBe(true);
    expect(naive.distinct.length).toBeLessThan(50); // the naive BFS reached its fixpoint too
    expect(r.levels.map((l) => l.distinct)).toEqual(naive.distinct);
    expect(r.levels.map((l) => l.generated)).toEqual(naive.generated);
  });
});

describe('the immer route and the fast route explore the same graph', () => {
  it.each(CONFIGS)('$version on $backend, depth 3', ({ version, backend }) => {
    const u = makeUniverse({ version, backend });
    const fast = explore(wire(u).model, { maxDepth: 3 });
    const immer = explore(wire(u, { immer: true }).model, { maxDepth: 3 });
    expect(immer.levels).toEqual(fast.levels);
    expect(immer.violations).toEqual(fast.violations);
    expect(immer.witnesses).toEqual(fast.witnesses);
  });
});
