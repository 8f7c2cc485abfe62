// An independent, naive explorer: plain BFS over JSON-serialised states, sharing only the model's
// public `apply` (immer), its action list and its booted state. It must agree with the engine
// (fingerprints over the canonical encoding, the fast apply path, frontier states decoded from
// bytes) level by level. A disagreement means a lossy or non-canonical encoding, a decode that
// does not round-trip, applyFast diverging from apply, or an engine bug.
import { describe, expect, it } from 'vitest';
import { explore } from '../checker/engine/index.js';
import { wire } from '../checker/xen-model.js';
import { BACKENDS, makeUniverse, VERSIONS, type Backend } from '../model/index.js';
import { naiveExplore } from './naive-bfs.js';

const CONFIGS = VERSIONS.flatMap((version) => BACKENDS.map((backend) => ({ version, backend: backend as Backend })));

describe('the engine agrees with a naive JSON-keyed BFS (default universe, depth 3; depth 4 in test/slow)', () => {
  it.each(CONFIGS)('$version on $backend', ({ version, backend }) => {
    const u = makeUniverse({ version, backend });
    const naive = naiveExplore(u, 3);
    const r = explore(wire(u).model, { maxDepth: 3 });
    expect(r.levels.map((l) => l.distinct)).toEqual(naive.distinct);
    expect(r.levels.map((l) => l.generated)).toEqual(naive.generated);
    expect(r.distinct).toBe(naive.distinct.reduce((a, b) => a + b, 0));
    const exact = explore(wire(u).model, { maxDepth: 3, exact: true });
    expect(exact.levels).toEqual(r.levels);
    if (version === 'seed' && backend === 'ept') expect(naive.distinct).toEqual([1, 26, 291, 2035]);
    if (version === 'xen-4.5' && backend === 'ept') {
      // the xen-4.5 EPT anchor faults at depth 2: faulted states exist and are leaves
      expect(naive.faulted).toBeGreaterThan(0);
    }
  });
});

describe('preemptible teardown: the engine agrees with the naive BFS (depth 3)', () => {
  it.each(VERSIONS)('%s on ept', (version) => {
    const u = makeUniverse({ version, backend: 'ept', preemptibleTeardown: true });
    const naive = naiveExplore(u, 3);
    const r = explore(wire(u).model, { maxDepth: 3 });
    expect(r.levels.map((l) => l.distinct)).toEqual(naive.distinct);
    expect(r.levels.map((l) => l.generated)).toEqual(naive.generated);
  });
});
