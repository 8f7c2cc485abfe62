// Random walks: the core of `checker simulate`, generic over the engine's Model.
//
// A walk is a list of action indices. It is replayed from the first initial state through the
// model's `step`, judging every property as the explorer does (transition parts, then the state part
// of the successor) and stopping at the first violation or at a state with no actions. It is
// deterministic in the walk, which is what lets fast-check shrink it and replay it from (seed, path).
import fc from 'fast-check';
import { enabledActions, ModelStepError, sameBytes } from './expand.js';
import { fingerprint } from './fingerprint.js';
import type { EngineInvariant, Model } from './model.js';
import { TALLY_DISTINCT, TALLY_SHRINKING, TALLY_STEPS, TALLY_WALKS } from './tally.js';
import { VisitedSet } from './visited.js';

/** The first invariant a walk violates. */
export interface WalkViolation {
  property: string;
  message: string;
  /** Operations up to and including the one after which it fails (0: the initial state). */
  at: number;
}

export interface WalkResult {
  /** Operations executed (a walk stops at a state without actions or at the first violation). */
  executed: number;
  violation: WalkViolation | null;
}

export type Walker = (path: readonly number[], visited: VisitedSet | null) => WalkResult;

/**
 * The walker over a model: `walk(path, visited)` replays the action indices from the first initial
 * state and returns the first violation. States are fingerprinted into `visited` when one is given.
 */
export function makeWalker<S, A, R>(model: Model<S, A, R>): Walker {
  const stride = model.encodedSize;
  type Inv = EngineInvariant<S, A, R>;
  const stateInv: Inv[] = model.invariants.filter((i) => i.state);
  const transInv: Inv[] = model.invariants.filter((i) => i.transition);
  let pre = new Uint8Array(stride);
  let post = new Uint8Array(stride);
  const fp = new Uint32Array(2);
  const see = (visited: VisitedSet | null, enc: Uint8Array) => {
    if (!visited) return;
    fingerprint(enc, stride, fp);
    visited.insert(fp[0]!, fp[1]!, -1, 0, null);
  };
  const checkState = (s: S, at: number): WalkViolation | null => {
    for (const inv of stateInv) {
      const msg = inv.state!(s);
      if (msg !== null) return { property: inv.name, message: msg, at };
    }
    return null;
  };
  return (path, visited) => {
    let s = model.init()[0]!;
    model.encode(s, pre);
    see(visited, pre);
    const v0 = checkState(s, 0);
    if (v0) return { executed: 0, violation: v0 };
    let executed = 0;
    for (let k = 0; k < path.length; k++) {
      const acts = enabledActions(model, s);
      if (acts.length === 0) break; // e.g. a faulted state has no successors
      const a = acts[path[k]!];
      if (a === undefined) throw new RangeError(`step ${k + 1}: action index ${path[k]} out of range (${acts.length} actions)`);
      // a model may hand back a scratch state: read it before the next step
      let next: S;
      let result: R;
      try {
        ({ next, result } = model.step(s, a));
        model.encode(next, post);
      } catch (e) {
        // the model's code threw (a user's variant): which walk led to it travels with the error
        const err = e instanceof Error ? e : null;
        throw new ModelStepError({ path: path.slice(0, k + 1), root: 0, inAction: true, name: err?.name ?? 'Error', message: err?.message ?? String(e), stack: err?.stack ?? String(e) });
      }
      executed += 1;
      const unchanged = sameBytes(pre, post, stride);
      for (const inv of transInv) {
        const msg = inv.transition!(s, a, result, next, unchanged);
        if (msg !== null) {
          see(visited, post);
          return { executed, violation: { property: inv.name, message: msg, at: k + 1 } };
        }
      }
      const v = checkState(next, k + 1);
      see(visited, post);
      if (v) return { executed, violation: v };
      // a state of our own, rebuilt from its encoding (the explorer's own route)
      s = model.decode(post) as typeof s;
      [pre, post] = [post, pre];
    }
    return { executed, violation: null };
  };
}

export interface WalkOptions {
  /** Actions per state (walks draw indices below it). */
  actions: number;
  /** Maximum operations per walk. */
  maxSteps: number;
  /** Walks to try. */
  runs: number;
  seed: number;
  /** fast-check's counterexample path: replays one failure exactly. */
  path?: string;
  /** Polled between walks: true ends the run (Ctrl-C); the walks so far are reported. */
  shouldStop?: () => boolean;
  /**
   * Shared memory kept up to date after each walk (TALLY_*), so that another thread can report the
   * walks so far if this one has to be ended.
   */
  tally?: Float64Array;
}

export { TALLY_DISTINCT, TALLY_SHRINKING, TALLY_SLOTS, TALLY_STEPS, TALLY_WALKS } from './tally.js';

export interface WalkReport {
  seed: number;
  /** Walks generated (up to and including the first failing one). */
  runs: number;
  steps: number;
  distinct: number;
  interrupted: boolean;
  /** The shrunk failing walk and what it violates, or null. */
  failure: {
    walk: number[];
    violation: WalkViolation;
    /** The run and length of the walk first found failing, before shrinking. */
    original: { run: number; length: number; property: string };
    shrinks: number;
    shrinkWalks: number;
    shrinkSteps: number;
    /** fast-check's path to the shrunk counterexample (with `seed`, replays it). */
    replayPath: string;
  } | null;
}

/** Thrown when `path` names no walk of `seed` under these options. */
export class WalkPathError extends Error {
  override name = 'WalkPathError';
}

/**
 * Random walks with fast-check: the first failing walk is shrunk (fewer operations, smaller
 * indices) to a short one. Coverage counts the walks fast-check generated, up to and including the
 * first failing one; those tried while shrinking are counted apart.
 */
export function randomWalks<S, A, R>(model: Model<S, A, R>, o: WalkOptions): WalkReport {
  const walk = makeWalker(model);
  const visited = new VisitedSet(model.encodedSize, false);
  let shrinking = false;
  let steps = 0;
  let walks = 0;
  let stoppedEarly = false;
  let original: { run: number; length: number; property: string } | null = null;
  let shrinkWalks = 0;
  let shrinkSteps = 0;
  // size 'max': walk lengths spread over 0..maxSteps (fast-check's default size, "small", would keep
  // every walk to at most 10 operations whatever maxSteps says)
  const arb = fc.array(fc.integer({ min: 0, max: o.actions - 1 }), { maxLength: o.maxSteps, size: 'max' });
  const property = fc.property(arb, (p: number[]) => {
    if (shrinking) {
      const r = walk(p, null);
      shrinkWalks += 1;
      shrinkSteps += r.executed;
      return r.violation === null;
    }
    if (o.shouldStop?.()) {
      stoppedEarly = true;
      return true;
    }
    const r = walk(p, visited);
    walks += 1;
    steps += r.executed;
    if (r.violation !== null) {
      shrinking = true;
      original = { run: walks, length: p.length, property: r.violation.property };
    }
    const t = o.tally;
    if (t !== undefined) {
      t[TALLY_WALKS] = walks;
      t[TALLY_STEPS] = steps;
      t[TALLY_DISTINCT] = visited.size;
      t[TALLY_SHRINKING] = shrinking ? 1 : 0;
    }
    return r.violation === null;
  });
  let details: fc.RunDetails<[number[]]>;
  try {
    details = fc.check(property, { numRuns: o.runs, seed: o.seed, path: o.path, endOnFailure: false });
  } catch (e) {
    // fast-check throws only on its parameters (a failing walk is a result): here, a path that does
    // not exist for this seed and these options
    if (o.path !== undefined && /replay/i.test((e as Error).message)) throw new WalkPathError(`--path ${o.path} is not a counterexample path of seed ${o.seed}`);
    throw e;
  }
  // fast-check checks a path only as far as it needs to: one whose last step is past the end of its
  // shrink list replays nothing at all
  if (o.path !== undefined && details.numRuns === 0) throw new WalkPathError(`--path ${o.path} replays no walk of seed ${o.seed}`);
  let failure: WalkReport['failure'] = null;
  if (details.failed) {
    if (details.counterexample === null) throw new Error(`fast-check stopped without a counterexample (interrupted: ${details.interrupted})`);
    const [shrunk] = details.counterexample;
    // the property is deterministic: the shrunk walk fails again, here, where we can see how
    const r = walk(shrunk, null);
    if (r.violation === null) {
      // not a violation: the model threw (an internal error), or the walk is not deterministic
      if (details.errorInstance instanceof Error && !/Property failed by returning false/.test(details.errorInstance.message)) throw details.errorInstance;
      throw new Error(`the shrunk walk ${shrunk.join(',')} no longer fails: the property is not deterministic`);
    }
    failure = {
      walk: shrunk.slice(0, r.violation.at),
      violation: r.violation,
      original: original ?? { run: details.numRuns, length: shrunk.length, property: r.violation.property },
      shrinks: details.numShrinks,
      shrinkWalks,
      shrinkSteps,
      replayPath: details.counterexamplePath ?? '',
    };
  }
  return { seed: details.seed, runs: stoppedEarly ? walks : details.numRuns, steps, distinct: visited.size, interrupted: stoppedEarly, failure };
}
