// Counterexample traces: rebuilt by replaying the action-index path through the public, immer-based
// apply, with the cells each step changed and the reference ledger recorded as the model runs.
import type { Discovery } from '../engine.js';
import {
  actionArgs,
  diffStates,
  formatAction,
  formatRc,
  Ledger,
  makeXenModel,
  tracedTable,
  withLedger,
  type Action,
  type Change,
  type LedgerEvent,
  type Rc,
  type State,
} from '../../model/index.js';
import type { Wired } from './wiring.js';

export interface TraceStep {
  index: number;
  actionIndex: number;
  action: Action;
  text: string;
  args: Record<string, string | number>;
  rc: Rc;
  rcText: string;
  changes: Change[];
  /** Every reference taken or dropped during the step, in order, with the Xen function. */
  ledger: LedgerEvent[];
}

export interface Trace {
  property: string;
  depth: number;
  message: string | undefined;
  path: number[];
  states: State[];
  steps: TraceStep[];
  /** The frame the violation is about, for a reference-count property (its ledger is shown). */
  frame: number | null;
}

export function buildTrace(w: Wired, d: Discovery): Trace {
  const ledger = new Ledger();
  // The human-facing trace goes through immer's produce (the public route), with every Xen function
  // of the table naming itself on the ledger's stack.
  const xm = makeXenModel(w.xm.u, tracedTable(w.xm.ctx.xen, ledger));
  const states: State[] = [xm.init()];
  const steps: TraceStep[] = [];
  d.path.forEach((ai, k) => {
    const a = xm.actions[ai];
    if (a === undefined) throw new RangeError(`step ${k + 1}: action index ${ai} does not exist`);
    ledger.stack.push(a.op);
    const { next, rc } = withLedger(ledger, () => xm.apply(states[k]!, a));
    ledger.stack.pop();
    states.push(next);
    steps.push({
      index: k + 1,
      actionIndex: ai,
      action: a,
      text: formatAction(xm.u, a),
      args: actionArgs(xm.u, a),
      rc,
      rcText: formatRc(rc),
      changes: diffStates(xm.u, states[k]!, next),
      ledger: ledger.take(),
    });
  });
  const inv = w.invariants.find((i) => i.name === d.name);
  const last = states[states.length - 1]!;
  const frame = inv?.subjectFrame ? inv.subjectFrame(last, w.pc) : null;
  return { property: d.name, depth: d.depth, message: d.message, path: d.path, states, steps, frame };
}
