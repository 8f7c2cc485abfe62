// An independent, naive explorer: plain BFS over JSON-serialised states, sharing only the model's
// public `apply` (immer), its action list and its booted state. It must agree with the engine
// (fingerprints over the canonical encoding, the fast apply path, frontier states decoded from
// bytes) level by level. A disagreement means a lossy or non-canonical encoding, a decode that
// does not round-trip, applyFast diverging from apply, or an engine bug.
import { describe, expect, it } from 'vitest';
import { explore } from '../checker/engine.js';
import { wire } from '../checker/cli/wiring.js';
import { BACKENDS, makeUniverse, makeXenModel, VERSIONS, type Backend, type State, type Universe } from '../model/index.js';

/** JSON with object keys sorted, so that two equal states serialise alike whatever their key order. */
function canonical(s: State): string {
  return JSON.stringify(s, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

interface NaiveLevels {
  distinct: number[];
  generated: number[];
  faulted: number;
}

function naiveExplore(u: Universe, depth: number): NaiveLevels {
  const xm = makeXenModel(u);
  const init = xm.init();
  const seen = new Set<string>([canonical(init)]);
  let frontier: State[] = [init];
  const distinct = [1];
  const generated = [1];
  let faulted = init.fault === null ? 0 : 1;
  for (let d = 1; d <= depth; d++) {
    const next: State[] = [];
    let gen = 0;
    for (const s of frontier) {
      if (s.fault !== null) continue; // a faulted state has no successors
      for (const a of xm.actions) {
        const { next: n } = xm.apply(s, a);
        gen += 1;
        const k = canonical(n);
        if (seen.has(k)) continue;
        seen.add(k);
        next.push(n);
        if (n.fault !== null) faulted += 1;
      }
    }
    if (next.length === 0) break;
    distinct.push(next.length);
    generated.push(gen);
    frontier = next;
  }
  return { distinct, generated, faulted };
}

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
    if (version === 'seed' && backend === 'ept') expect(naive.distinct).toEqual([1, 26, 289, 2008, 10551]);
    if (version === 'xen-4.5' && backend === 'ept') {
      // the xen-4.5 EPT anchor faults at depth 2: faulted states exist and are leaves
      expect(naive.faulted).toBeGreaterThan(0);
    }
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

describe('preemptible teardown: the engine agrees with the naive BFS (depth 3)', () => {
  it.each(VERSIONS)('%s on ept', (version) => {
    const u = makeUniverse({ version, backend: 'ept', preemptibleTeardown: true });
    const naive = naiveExplore(u, 3);
    const r = explore(wire(u).model, { maxDepth: 3 });
    expect(r.levels.map((l) => l.distinct)).toEqual(naive.distinct);
    expect(r.levels.map((l) => l.generated)).toEqual(naive.generated);
  });
});
