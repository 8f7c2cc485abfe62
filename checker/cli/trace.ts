// Counterexample traces: rebuilt by replaying the action-index path through the public, immer-based
// apply, with the cells each step changed.
import { replayPath, type Discovery } from '../engine.js';
import { actionArgs, diffStates, formatAction, formatRc, type Action, type Change, type Rc, type State } from '../../model/index.js';
import type { Wired } from './wiring.js';
import { wire } from './wiring.js';

export interface TraceStep {
  index: number;
  actionIndex: number;
  action: Action;
  text: string;
  args: Record<string, string | number>;
  rc: Rc;
  rcText: string;
  changes: Change[];
}

export interface Trace {
  property: string;
  depth: number;
  message: string | undefined;
  path: number[];
  states: State[];
  steps: TraceStep[];
}

export function buildTrace(w: Wired, d: Discovery): Trace {
  // The human-facing trace goes through immer's produce, the public route.
  const pub = wire(w.xm.u, { immer: true, xen: w.xm.ctx.xen, invariants: w.invariants });
  const { states, actions, results } = replayPath(pub.model, d.root, d.path);
  const steps = actions.map((a, k) => ({
    index: k + 1,
    actionIndex: d.path[k]!,
    action: a,
    text: formatAction(w.xm.u, a),
    args: actionArgs(w.xm.u, a),
    rc: results[k]!,
    rcText: formatRc(results[k]!),
    changes: diffStates(w.xm.u, states[k]!, states[k + 1]!),
  }));
  return { property: d.name, depth: d.depth, message: d.message, path: d.path, states, steps };
}
