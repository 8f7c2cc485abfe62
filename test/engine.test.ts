// The generic engine (checker/engine.ts) on toy models whose state graphs are computed by hand:
// per-level counts, the fixpoint, shortest traces with the smallest-action-index-path tie break,
// witnesses, transition invariants, stopAtFirst, maxStates and exact mode.
import { describe, expect, it } from 'vitest';
import { explore, replayPath, type ExploreOptions, type ExploreResult } from '../checker/engine/index.js';
import type { EngineInvariant, EngineWitness, Model } from '../checker/engine/index.js';

// ---------------------------------------------------------------------------------------------
// Toy 1: an explicit graph. A state is a node number (encoded in 2 bytes, little-endian); the
// actions of node n are the indices 0..k-1 of its adjacency list; the result of a step is "n->m".
//
//   0: [1, 2, 3]
//   1: [4, 5]
//   2: [5, 6]
//   3: [6, 1]      (3 -1-> 1 goes back to a depth-1 state)
//   4: [7]
//   5: [7, 8]
//   6: [0]         (back edge to the initial state)
//   7: []          (terminal)
//   8: [8]         (self-loop)
//
// By hand, BFS from 0 expanding states in discovery order and actions in index order:
//   depth 0: {0}                    distinct 1, generated 1 (one initial state)
//   depth 1: 0→1,2,3                distinct 3, generated 3
//   depth 2: 1→4*,5*  2→5,6*  3→6,1 distinct 3, generated 6
//   depth 3: 4→7*  5→7,8*  6→0      distinct 2, generated 4
//   depth 4: 7→(none)  8→8          distinct 0, generated 1  → fixpoint; 4 levels (0..3)
// Smallest action-index paths: 1 [0], 2 [1], 3 [2], 4 [0,0], 5 [0,1] (also [1,0]),
// 6 [1,1] (also [2,0]), 7 [0,0,0] (also [0,1,0]), 8 [0,1,1].
// ---------------------------------------------------------------------------------------------

const GRAPH: readonly (readonly number[])[] = [[1, 2, 3], [4, 5], [5, 6], [6, 1], [7], [7, 8], [0], [], [8]];

type Node = { n: number };

interface GraphOptions {
  invariants?: EngineInvariant<Node, number, string>[];
  witnesses?: EngineWitness<Node, number, string>[];
  init?: number[];
  graph?: readonly (readonly number[])[];
}

function graphModel(o: GraphOptions = {}): Model<Node, number, string> & { stepped: number } {
  const g = o.graph ?? GRAPH;
  const m = {
    stepped: 0,
    init: () => (o.init ?? [0]).map((n) => ({ n })),
    actions: (s: Node) => g[s.n]!.map((_, i) => i),
    step(s: Node, a: number) {
      m.stepped += 1;
      const to = g[s.n]![a]!;
      return { next: { n: to }, result: `${s.n}->${to}` };
    },
    encodedSize: 2,
    encode: (s: Node, out: Uint8Array) => {
      out[0] = s.n & 0xff;
      out[1] = (s.n >> 8) & 0xff;
    },
    decode: (b: Uint8Array) => ({ n: b[0]! | (b[1]! << 8) }),
    invariants: o.invariants ?? [],
    witnesses: o.witnesses ?? [],
  };
  return m;
}

const notIn = (name: string, bad: number[]): EngineInvariant<Node, number, string> => ({
  name,
  state: (s) => (bad.includes(s.n) ? `reached ${s.n}` : null),
});

const reach = (name: string, target: number): EngineWitness<Node, number, string> => ({
  name,
  state: (s) => s.n === target,
});

const run = <S, A, R>(m: Model<S, A, R>, o: Partial<ExploreOptions> = {}): ExploreResult =>
  explore(m, { maxDepth: Infinity, ...o });

const distincts = (r: ExploreResult) => r.levels.map((l) => l.distinct);
const generateds = (r: ExploreResult) => r.levels.map((l) => l.generated);

describe('engine on a hand-computed graph', () => {
  it('per-level distinct and generated counts, totals and the fixpoint', () => {
    const m = graphModel();
    const r = run(m);
    expect(distincts(r)).toEqual([1, 3, 3, 2]);
    expect(generateds(r)).toEqual([1, 3, 6, 4]);
    expect(r.levels.map((l) => l.depth)).toEqual([0, 1, 2, 3]);
    expect(r.levels.every((l) => l.complete)).toBe(true);
    expect(r.distinct).toBe(9);
    // the last, empty level still generated one successor (8's self-loop)
    expect(r.generated).toBe(1 + 3 + 6 + 4 + 1);
    expect(m.stepped).toBe(3 + 6 + 4 + 1);
    expect(r.fixpoint).toBe(true);
    expect(r.stopped).toBeNull();
    expect(r.violations).toEqual([]);
    expect(r.collisionProbability).toBeGreaterThanOrEqual(0);
    expect(r.visitedBytes).toBeGreaterThan(0);
    expect(r.peakRssBytes).toBeGreaterThan(0);
  });

  it('a depth bound cuts the levels and is not a fixpoint', () => {
    const r = run(graphModel(), { maxDepth: 2 });
    expect(distincts(r)).toEqual([1, 3, 3]);
    expect(generateds(r)).toEqual([1, 3, 6]);
    expect(r.distinct).toBe(7);
    expect(r.fixpoint).toBe(false);
    expect(r.stopped).toBeNull();
    const r0 = run(graphModel(), { maxDepth: 0 });
    expect(distincts(r0)).toEqual([1]);
    expect(r0.fixpoint).toBe(false);
  });

  it('the bound equal to the last non-empty level: fixpoint only detected one level later', () => {
    // Depth 3 is the last level with new states; at maxDepth 3 the engine cannot know yet
    // whether depth 4 adds states unless the frontier is empty.
    const r = run(graphModel(), { maxDepth: 3 });
    expect(distincts(r)).toEqual([1, 3, 3, 2]);
    const r4 = run(graphModel(), { maxDepth: 4 });
    expect(distincts(r4)).toEqual([1, 3, 3, 2]);
    expect(r4.fixpoint).toBe(true);
  });

  it('a terminal state (no actions) has no successors', () => {
    // Only the terminal node 7 from the start: one level, fixpoint at once, nothing generated.
    const m = graphModel({ init: [7] });
    const r = run(m);
    expect(distincts(r)).toEqual([1]);
    expect(r.generated).toBe(1);
    expect(m.stepped).toBe(0);
    expect(r.fixpoint).toBe(true);
    // 4 → 7 → (nothing): two levels, and expanding 7 generated nothing
    const m2 = graphModel({ init: [4] });
    const r2 = run(m2);
    expect(distincts(r2)).toEqual([1, 1]);
    expect(generateds(r2)).toEqual([1, 1]);
    expect(r2.generated).toBe(2);
    expect(m2.stepped).toBe(1);
    expect(r2.fixpoint).toBe(true);
  });

  it('a self-loop counts as generated but adds no state', () => {
    const r = run(graphModel({ init: [8] }));
    expect(distincts(r)).toEqual([1]);
    expect(r.generated).toBe(2);
    expect(r.fixpoint).toBe(true);
  });

  it('shortest traces: depth and the smallest action-index path', () => {
    const r = run(
      graphModel({
        invariants: [notIn('not-4', [4]), notIn('not-5', [5]), notIn('not-6', [6]), notIn('not-7', [7]), notIn('not-8', [8])],
      }),
    );
    const v = Object.fromEntries(r.violations.map((d) => [d.name, d]));
    expect(v['not-4']).toMatchObject({ depth: 2, path: [0, 0], root: 0, message: 'reached 4' });
    // two shortest paths reach 5: [0,1] and [1,0]
    expect(v['not-5']).toMatchObject({ depth: 2, path: [0, 1], root: 0 });
    // [1,1] and [2,0]
    expect(v['not-6']).toMatchObject({ depth: 2, path: [1, 1], root: 0 });
    // [0,0,0] and [0,1,0]
    expect(v['not-7']).toMatchObject({ depth: 3, path: [0, 0, 0], root: 0 });
    expect(v['not-8']).toMatchObject({ depth: 3, path: [0, 1, 1], root: 0 });
    // violations are listed in the model's invariant order
    expect(r.violations.map((d) => d.name)).toEqual(['not-4', 'not-5', 'not-6', 'not-7', 'not-8']);
  });

  it('two bad states at the same depth: the one with the smaller path is reported', () => {
    // 6 [1,1] and 5 [0,1] are both bad at depth 2; 4 [0,0] is not. Listing 6 first in the
    // invariant does not matter: [0,1] < [1,1].
    const r = run(graphModel({ invariants: [notIn('not-6-or-5', [6, 5])] }));
    expect(r.violations).toHaveLength(1);
    expect(r.violations[0]).toMatchObject({ name: 'not-6-or-5', depth: 2, path: [0, 1], message: 'reached 5' });
  });

  it('the reported bad state follows action order, not state numbering', () => {
    // 0: [1, 2]; 1: [3]; 2: [3, 4]; 3: bad; 4: bad.
    // Depth 2: 3 via [0,0] (and [1,0]), 4 via [1,1].
    const g = [[1, 2], [3], [3, 4], [], []];
    const r = run(graphModel({ graph: g, invariants: [notIn('bad', [4, 3])] }));
    expect(r.violations[0]).toMatchObject({ depth: 2, path: [0, 0], message: 'reached 3' });
    // Swapping the root's actions swaps the answer: the smallest path now goes through 2.
    const g2 = [[2, 1], [3], [4, 3], [], []];
    const r2 = run(graphModel({ graph: g2, invariants: [notIn('bad', [3, 4])] }));
    expect(r2.violations[0]).toMatchObject({ depth: 2, path: [0, 0], message: 'reached 4' });
  });

  it('a shallower violation beats a smaller path at a greater depth', () => {
    // 0: [1, 2]; 1: [3]; 2: []; 3: [] ; bad = {2, 3}: 2 is at depth 1 via [1], 3 at depth 2 via [0,0]
    const g = [[1, 2], [3], [], []];
    const r = run(graphModel({ graph: g, invariants: [notIn('bad', [3, 2])] }));
    expect(r.violations[0]).toMatchObject({ depth: 1, path: [1] });
  });

  it('an initial state can violate: depth 0, empty path, its init index as root', () => {
    const r = run(graphModel({ init: [1, 2], invariants: [notIn('not-2', [2]), notIn('not-7', [7])] }));
    // {1,2}; {4,5,6}; {7,8,0}; {3}; then nothing new
    expect(distincts(r)).toEqual([2, 3, 3, 1]);
    const v = Object.fromEntries(r.violations.map((d) => [d.name, d]));
    expect(v['not-2']).toMatchObject({ depth: 0, path: [], root: 1 });
    expect(v['not-7']).toMatchObject({ depth: 2, path: [0, 0], root: 0 });
  });

  it('the root of a trace is the initial state it descends from', () => {
    // init [3, 4]: 7 is reached from 4 (root 1) at depth 1, from 3 only at depth 3 (3→6→0→...).
    const r = run(graphModel({ init: [3, 4], invariants: [notIn('not-7', [7])] }));
    expect(r.violations[0]).toMatchObject({ depth: 1, root: 1, path: [0] });
    const replay = replayPath(graphModel({ init: [3, 4] }), 1, [0]);
    expect(replay.states.map((s) => s.n)).toEqual([4, 7]);
  });

  it('duplicate initial states are stored once', () => {
    const r = run(graphModel({ init: [0, 0] }));
    expect(r.levels[0]).toMatchObject({ distinct: 1, generated: 2 });
    expect(r.distinct).toBe(9);
  });

  it('witnesses are reported with the depth and path where first reached', () => {
    const r = run(
      graphModel({
        witnesses: [
          reach('reach-0', 0),
          reach('reach-8', 8),
          reach('reach-99', 99),
          { name: 'action-1-from-2', transition: (pre, a) => pre.n === 2 && a === 1 },
          { name: 'into-1', transition: (_pre, _a, res) => res.endsWith('->1') },
        ],
      }),
    );
    const w = Object.fromEntries(r.witnesses.map((d) => [d.name, d]));
    expect(w['reach-0']).toMatchObject({ depth: 0, path: [], root: 0 });
    expect(w['reach-8']).toMatchObject({ depth: 3, path: [0, 1, 1] });
    expect(w['action-1-from-2']).toMatchObject({ depth: 2, path: [1, 1] });
    // 0 -0-> 1 at depth 1 is the first transition into 1
    expect(w['into-1']).toMatchObject({ depth: 1, path: [0] });
    expect(w['reach-99']).toBeUndefined();
    expect(r.witnesses.map((d) => d.name)).toEqual(['reach-0', 'reach-8', 'action-1-from-2', 'into-1']);
    expect(r.witnesses.every((d) => d.message === undefined)).toBe(true);
  });

  it('a transition invariant is checked on transitions into already-visited states too', () => {
    // Back edges: 3 -1-> 1 (depth 2, path [2,1]) and 6 -0-> 0 (depth 3, path [1,1,0]); neither
    // leads to a new state.
    const backEdge: EngineInvariant<Node, number, string> = {
      name: 'no-back-edge',
      transition: (pre, _a, res, post) => (post.n < pre.n ? `back edge ${res}` : null),
    };
    const toInit: EngineInvariant<Node, number, string> = {
      name: 'never-back-to-0',
      transition: (_pre, _a, res, post) => (post.n === 0 ? `back to the start: ${res}` : null),
    };
    const r = run(graphModel({ invariants: [backEdge, toInit] }));
    const v = Object.fromEntries(r.violations.map((d) => [d.name, d]));
    expect(v['no-back-edge']).toMatchObject({ depth: 2, path: [2, 1], message: 'back edge 3->1' });
    expect(v['never-back-to-0']).toMatchObject({ depth: 3, path: [1, 1, 0], message: 'back to the start: 6->0' });
    // the counts do not change with invariants
    expect(distincts(r)).toEqual([1, 3, 3, 2]);
  });

  it('a transition invariant sees self-loops (depth counts the steps)', () => {
    const noSelf: EngineInvariant<Node, number, string> = {
      name: 'no-self-loop',
      transition: (pre, _a, _r, post) => (pre.n === post.n ? `self-loop at ${pre.n}` : null),
    };
    const r = run(graphModel({ invariants: [noSelf] }));
    expect(r.violations[0]).toMatchObject({ depth: 4, path: [0, 1, 1, 0], message: 'self-loop at 8' });
    // With the bound at 3 the self-loop is never taken.
    expect(run(graphModel({ invariants: [noSelf] }), { maxDepth: 3 }).violations).toEqual([]);
  });

  it('an invariant with both a state and a transition part reports the first violation of either', () => {
    const both: EngineInvariant<Node, number, string> = {
      name: 'both',
      state: (s) => (s.n === 8 ? 'state 8' : null), // depth 3
      transition: (pre, _a, _r, post) => (post.n < pre.n ? 'back edge' : null), // depth 2
    };
    const r = run(graphModel({ invariants: [both] }));
    expect(r.violations).toEqual([{ name: 'both', depth: 2, root: 0, path: [2, 1], message: 'back edge' }]);
  });

  it('stopAtFirst ends at the level of the first violation', () => {
    const r = run(graphModel({ invariants: [notIn('not-5', [5]), notIn('not-8', [8])] }), { stopAtFirst: true });
    expect(r.stopped).toBe('stop-at-first');
    expect(r.fixpoint).toBe(false);
    expect(r.levels.length - 1).toBe(2);
    expect(r.violations.map((d) => [d.name, d.depth])).toEqual([['not-5', 2]]);
    expect(distincts(r)).toEqual([1, 3, 3]);
    // the level of the violation is finished: every bad state of that level is considered
    expect(r.levels.every((l) => l.complete)).toBe(true);
  });

  it('stopAtFirst with a violating initial state stops after depth 0', () => {
    const r = run(graphModel({ invariants: [notIn('not-0', [0])] }), { stopAtFirst: true });
    expect(r.stopped).toBe('stop-at-first');
    expect(r.levels).toHaveLength(1);
    expect(r.violations[0]).toMatchObject({ depth: 0, path: [] });
  });

  it('stopAtFirst without violations runs to the fixpoint', () => {
    const r = run(graphModel({ invariants: [notIn('not-99', [99])] }), { stopAtFirst: true });
    expect(r.stopped).toBeNull();
    expect(r.fixpoint).toBe(true);
    expect(distincts(r)).toEqual([1, 3, 3, 2]);
  });

  it('maxStates stops between levels with stopped: max-states', () => {
    const r = run(graphModel(), { maxStates: 4 });
    expect(r.stopped).toBe('max-states');
    expect(r.fixpoint).toBe(false);
    expect(distincts(r)).toEqual([1, 3]);
    expect(r.distinct).toBe(4);
    // a limit above the reachable count changes nothing
    const r2 = run(graphModel(), { maxStates: 100 });
    expect(r2.stopped).toBeNull();
    expect(r2.fixpoint).toBe(true);
  });

  it('exact mode gives the same counts and paths, and no collision estimate', () => {
    const invs = [notIn('not-5', [5]), notIn('not-7', [7])];
    const a = run(graphModel({ invariants: invs }));
    const b = run(graphModel({ invariants: invs }), { exact: true });
    expect(b.levels).toEqual(a.levels);
    expect(b.violations).toEqual(a.violations);
    expect(b.collisionProbability).toBe(0);
    expect(a.collisionProbability).toBeGreaterThan(0); // 9 distinct × 6 duplicates / 2^64
  });
});

// ---------------------------------------------------------------------------------------------
// Toy 2: a saturating 2-counter. State (x, y) with 0 ≤ x ≤ X, 0 ≤ y ≤ Y, one byte each; actions
// [incX, incY] always enabled; at the border the step is a self-loop. Level k holds the (x, y) with
// x + y = k; every state generates 2 successors. Fixpoint after depth X + Y.
// ---------------------------------------------------------------------------------------------

type XY = readonly [number, number];

function counterModel(X: number, Y: number, invariants: EngineInvariant<XY, 'x' | 'y', null>[] = []): Model<XY, 'x' | 'y', null> {
  const acts = ['x', 'y'] as const;
  return {
    init: () => [[0, 0]],
    actions: () => acts,
    step: ([x, y], a) => ({ next: a === 'x' ? [Math.min(X, x + 1), y] : [x, Math.min(Y, y + 1)], result: null }),
    encodedSize: 2,
    encode: ([x, y], out) => {
      out[0] = x;
      out[1] = y;
    },
    decode: (b) => [b[0]!, b[1]!],
    invariants,
    witnesses: [],
  };
}

function diagonal(X: number, Y: number, k: number): number {
  let c = 0;
  for (let x = 0; x <= X; x++) if (k - x >= 0 && k - x <= Y) c += 1;
  return c;
}

describe('engine on a saturating counter', () => {
  it('level k holds the diagonal x + y = k; 2 successors per state; fixpoint after X + Y levels', () => {
    const X = 3;
    const Y = 2;
    const r = explore(counterModel(X, Y), { maxDepth: Infinity });
    expect(distincts(r)).toEqual([1, 2, 3, 3, 2, 1]);
    expect(distincts(r)).toEqual(Array.from({ length: X + Y + 1 }, (_, k) => diagonal(X, Y, k)));
    expect(generateds(r)).toEqual([1, 2, 4, 6, 6, 4]);
    expect(r.fixpoint).toBe(true);
    expect(r.levels).toHaveLength(X + Y + 1);
    expect(r.distinct).toBe((X + 1) * (Y + 1));
    // the expansion of the corner (3,2) is the last generated step: 1 state × 2 actions
    expect(r.generated).toBe(1 + 2 + 4 + 6 + 6 + 4 + 2);
  });

  it('a bad state reachable along many shortest paths gets the smallest one (x before y)', () => {
    const bad: EngineInvariant<XY, 'x' | 'y', null> = {
      name: 'not-(2,2)',
      state: ([x, y]) => (x === 2 && y === 2 ? 'at (2,2)' : null),
    };
    // six shortest paths of length 4; the smallest action-index sequence is x,x,y,y = [0,0,1,1]
    const r = explore(counterModel(3, 2, [bad]), { maxDepth: Infinity });
    expect(r.violations[0]).toMatchObject({ depth: 4, path: [0, 0, 1, 1] });
    const replay = replayPath(counterModel(3, 2), 0, r.violations[0]!.path);
    expect(replay.states.map((s) => [...s])).toEqual([[0, 0], [1, 0], [2, 0], [2, 1], [2, 2]]);
    expect(replay.actions).toEqual(['x', 'x', 'y', 'y']);
  });

  it('exact mode gives the same counts on a larger grid', () => {
    const a = explore(counterModel(40, 30), { maxDepth: Infinity });
    const b = explore(counterModel(40, 30), { maxDepth: Infinity, exact: true });
    expect(a.distinct).toBe(41 * 31);
    expect(b.levels).toEqual(a.levels);
    expect(b.fixpoint).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// Toy 3: a binary tree (state n, 4 bytes; children 2n+1, 2n+2): level k has 2^k states. Large
// enough to stop maxStates in the middle of a level.
// ---------------------------------------------------------------------------------------------

function treeModel(): Model<number, 0 | 1, null> {
  const acts = [0, 1] as const;
  return {
    init: () => [0],
    actions: () => acts,
    step: (n, a) => ({ next: 2 * n + 1 + a, result: null }),
    encodedSize: 4,
    encode: (n, out) => new DataView(out.buffer, out.byteOffset, 4).setUint32(0, n, true),
    decode: (b) => new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true),
    invariants: [],
    witnesses: [],
  };
}

describe('engine on a binary tree', () => {
  it('level k has 2^k states, generated 2^k', () => {
    const r = explore(treeModel(), { maxDepth: 10 });
    expect(distincts(r)).toEqual(Array.from({ length: 11 }, (_, k) => 2 ** k));
    expect(generateds(r)).toEqual([1, ...Array.from({ length: 10 }, (_, k) => 2 ** (k + 1))]);
    expect(r.fixpoint).toBe(false);
  });

  it('maxStates can stop in the middle of a level: the level is marked incomplete', () => {
    // Through depth 9: 1023 states. Expanding depth 9's 512 states, the limit (1500) is checked
    // after every 256 parents: after 256 parents 1023 + 512 = 1535 ≥ 1500 → stop.
    const r = explore(treeModel(), { maxDepth: 20, maxStates: 1500 });
    expect(r.stopped).toBe('max-states');
    expect(r.fixpoint).toBe(false);
    expect(r.levels).toHaveLength(11);
    expect(r.levels[10]).toEqual({ depth: 10, distinct: 512, generated: 512, complete: false });
    expect(r.levels.slice(0, 10).every((l) => l.complete)).toBe(true);
    expect(r.distinct).toBe(1535);
    expect(r.distinct).toBeGreaterThanOrEqual(1500);
  });

  it('exact mode gives the same counts', () => {
    const a = explore(treeModel(), { maxDepth: 12 });
    const b = explore(treeModel(), { maxDepth: 12, exact: true });
    expect(b.levels).toEqual(a.levels);
    expect(b.distinct).toBe(2 ** 13 - 1);
  });

  it('shouldStop interrupts with a partial report', () => {
    let polls = 0;
    const r = explore(treeModel(), { maxDepth: 20, shouldStop: () => ++polls > 2 });
    expect(r.stopped).toBe('interrupted');
    expect(r.levels.at(-1)!.complete).toBe(false);
  });
});

describe('replayPath', () => {
  it('returns the states, actions and results along a path', () => {
    const r = replayPath(graphModel(), 0, [1, 1, 0]);
    expect(r.states.map((s) => s.n)).toEqual([0, 2, 6, 0]);
    expect(r.actions).toEqual([1, 1, 0]);
    expect(r.results).toEqual(['0->2', '2->6', '6->0']);
  });

  it('refuses an action index that is not enabled, naming the step', () => {
    expect(() => replayPath(graphModel(), 0, [0, 0, 0, 0])).toThrow(/step 4: action index 0 is not enabled \(0 actions\)/);
    expect(() => replayPath(graphModel(), 0, [5])).toThrow(RangeError);
    expect(() => replayPath(graphModel(), 3, [])).toThrow(/no initial state 3/);
  });
});
