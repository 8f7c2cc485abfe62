// A run of the checker on a target: the exploration (on this thread or on workers), then each
// counterexample rebuilt for a person. The command line, the regression matrix and any other front
// end start here.
import { exploreAsync, exploreParallel, type ExploreOptions, type ExploreResult } from './engine/index.js';
import type { Invariant } from '../invariants/index.js';
import { buildTrace, realizePath, type Trace } from './trace/build.js';
import { specFor, wire, type Target, type TargetFlags, type Wired } from './xen-model.js';

export interface CheckOptions extends ExploreOptions {
  invariants: readonly Invariant[];
  /** Worker threads (1: this thread). */
  workers: number;
  /** For workers: how they resolve the same target again. */
  flags: TargetFlags;
}

export interface Checked {
  w: Wired;
  result: ExploreResult;
  /** One per violation, in the order of the result's violations. */
  traces: Trace[];
}

export async function check(target: Target, o: CheckOptions): Promise<Checked> {
  const w = wire(target.u, { invariants: o.invariants, xen: target.xen, symmetry: o.symmetry === true });
  const result =
    o.workers > 1
      ? await exploreParallel(
          w.model,
          specFor({ target: { ...o.flags, variant: target.variant ?? o.flags.variant }, invariants: o.invariants.map((i) => i.name), symmetry: o.symmetry === true }),
          o.workers,
          o,
        )
      : await exploreAsync(w.model, o);
  const traces = result.violations.map((v) => buildTrace(w, v));
  // With symmetry the explorer judged representatives: the paths and messages a person reads are
  // those of the real run the trace rebuilt.
  if (w.symmetric) {
    result.violations.forEach((v, i) => {
      v.path = traces[i]!.path;
      v.message = traces[i]!.message;
    });
    for (const wt of result.witnesses) wt.path = realizePath(w, wt.path);
  }
  return { w, result, traces };
}
