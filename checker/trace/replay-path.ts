// A replay token (`28,55`, what every report prints) re-executed on a universe given by flags, with
// no trace file: each step through the public (immer) apply, every selected invariant judged on the
// way, the first violation of each reported.
import { formatAction, formatRc, type State } from '../../model/index.js';
import { FAULT_INVARIANT, judgeStep, type Invariant } from '../../invariants/index.js';
import { wire, type Target } from '../xen-model.js';

/** A token that does not fit the universe: one line for the user. */
export class PathError extends Error {
  override name = 'PathError';
}

export interface PathReplay {
  /** One line per step: "k. action → rc". */
  steps: string[];
  /** Each invariant violated along the path, at its first step (0: the initial state), in the order of the invariants. */
  violations: { property: string; depth: number; message: string }[];
  states: State[];
}

/** Parses a replay token: action indices separated by commas (an empty token is the initial state). */
export function parsePathToken(v: string): number[] {
  const t = v.trim();
  if (t === '') return [];
  if (!/^\d+(,\d+)*$/.test(t)) throw new PathError(`--path: expected a replay token of action indices separated by commas (e.g. 28,55), got "${v}"`);
  return t.split(',').map(Number);
}

export function replayPath(target: Target, path: readonly number[], invariants: readonly Invariant[]): PathReplay {
  const w = wire(target.u, { immer: true, invariants, xen: target.xen });
  let s = w.xm.init();
  const states = [s];
  const first = new Map<string, { depth: number; message: string }>();
  for (const inv of invariants) {
    const m = inv.check && (s.fault === null || inv.name === FAULT_INVARIANT) ? inv.check(s, w.pc) : null;
    if (m !== null) first.set(inv.name, { depth: 0, message: m });
  }
  const steps: string[] = [];
  path.forEach((ai, k) => {
    const acts = w.model.actions(s);
    const a = acts[ai];
    if (a === undefined) {
      throw new PathError(
        `--path: step ${k + 1}: action index ${ai} is not enabled here (${acts.length} actions${s.fault ? ': the state is faulted' : ''}); is this the universe the token was printed for?`,
      );
    }
    const { next, rc } = w.xm.apply(s, a);
    steps.push(`${k + 1}. ${formatAction(target.u, a)} → ${formatRc(rc)}`);
    for (const inv of invariants) {
      if (first.has(inv.name)) continue;
      const m = judgeStep(inv, s, a, rc, next, w.pc);
      if (m !== null) first.set(inv.name, { depth: k + 1, message: m });
    }
    s = next;
    states.push(s);
  });
  const violations = invariants.filter((i) => first.has(i.name)).map((i) => ({ property: i.name, ...first.get(i.name)! }));
  return { steps, violations, states };
}
