// Counterexample traces: rebuilt by replaying the action-index path through the public, immer-based
// apply, with the cells each step changed and the reference ledger recorded as the model runs.
import type { Discovery } from '../engine/index.js';
import {
  actionArgs,
  canonicalEncode,
  diffStates,
  domainPermutations,
  invertPerm,
  permuteAction,
  formatAction,
  formatRc,
  Ledger,
  makeXenModel,
  tracedTable,
  withLedger,
  describeAt,
  IN_FLIGHT,
  type Action,
  type Change,
  type LedgerEvent,
  type Rc,
  type State,
  type Universe,
} from '../../model/index.js';
import type { Wired } from '../xen-model.js';
import { judgeStep } from '../../invariants/index.js';

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

/**
 * With symmetry reduction the explorer's path applies each action to the representative of the
 * state's class. This maps it back to the actions a real run takes from the booted state: at each
 * step, the representative is sigma(r) for the real state r, and the action a on it is
 * sigma⁻¹(a) on r.
 */
export function realizePath(w: Wired, path: readonly number[]): number[] {
  if (!w.symmetric) return [...path];
  const xm = w.xm;
  const perms = domainPermutations(xm.u);
  const out = new Uint8Array(xm.encodedSize);
  const scratch = new Uint8Array(xm.encodedSize);
  const index = new Map(xm.actions.map((a, i) => [JSON.stringify(a), i]));
  let r = xm.init();
  return path.map((ai) => {
    const sigma = canonicalEncode(r, perms, out, scratch);
    const real = permuteAction(xm.actions[ai]!, invertPerm(sigma));
    r = xm.applyFast(r, real).next;
    return index.get(JSON.stringify(real))!;
  });
}

/**
 * A step as the reports name it: the call, and with steps granularity where a segment that does not
 * end its call stopped ("vcpu0: decrease_reservation(dom1, gfn=0) ▸ stops in guestRemovePage: before
 * put_page(frame 2)").
 */
export function stepText(u: Universe, a: Action, rc: Rc, next: State): string {
  if (next.steps === undefined || rc !== IN_FLIGHT) return formatAction(u, a);
  return `${formatAction(u, a)} ▸ stops in ${describeAt(u, next.steps.vcpus[a.vcpu!]!.at)}`;
}

export function buildTrace(w: Wired, discovery: Discovery): Trace {
  const path = realizePath(w, discovery.path);
  const d: Discovery = { ...discovery, path };
  const ledger = new Ledger();
  // The human-facing trace goes through immer's produce (the public route), with every Xen function
  // of the table naming itself on the ledger's stack.
  const xm = makeXenModel(w.xm.u, tracedTable(w.xm.ctx.xen, ledger));
  const states: State[] = [xm.init()];
  const steps: TraceStep[] = [];
  d.path.forEach((ai, k) => {
    // the actions of the state (with steps granularity they depend on it: each vCPU's next segment)
    const a = xm.enabled(states[k]!)[ai];
    if (a === undefined) throw new RangeError(`step ${k + 1}: action index ${ai} does not exist`);
    ledger.stack.push(a.op);
    const { next, rc } = withLedger(ledger, () => xm.apply(states[k]!, a));
    ledger.stack.pop();
    states.push(next);
    steps.push({
      index: k + 1,
      actionIndex: ai,
      action: a,
      text: stepText(xm.u, a, rc, next),
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
  // with symmetry the explorer judged a symmetric state: say it of the real one (domain names)
  let message = d.message;
  if (w.symmetric && inv && d.message !== undefined && steps.length > 0) {
    const k = steps.length;
    const again = judgeStep(inv, states[k - 1]!, steps[k - 1]!.action, steps[k - 1]!.rc, last, w.pc);
    if (again !== null) message = again;
  }
  return { property: d.name, depth: d.depth, message, path: d.path, states, steps, frame };
}
