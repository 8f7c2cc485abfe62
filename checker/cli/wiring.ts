// The one place that wires the Xen model to the generic engine.
import type { Model } from '../model.js';
import { canonicalEncode, domainPermutations, makeXenModel, type Action, type Rc, type State, type Universe, type XenFunctions, type XenModel } from '../../model/index.js';
import { FAULT_INVARIANT, INVARIANTS, WITNESSES, type Invariant, type PropertyContext, type Witness } from '../../invariants/index.js';

export interface Wired {
  xm: XenModel;
  model: Model<State, Action, Rc>;
  invariants: readonly Invariant[];
  witnesses: readonly Witness[];
  pc: PropertyContext;
  /** Whether the engine identifies symmetric states: its paths then apply to representatives. */
  symmetric: boolean;
}

export interface WireOptions {
  /** Invariants to check (default: all). */
  invariants?: readonly Invariant[];
  /** Use immer's produce for every step instead of the plain-copy fast path. */
  immer?: boolean;
  xen?: XenFunctions;
  /** Give the engine a canonical encoding over interchangeable domains (symmetry reduction). */
  symmetry?: boolean;
}

/**
 * A faulted state is judged by no-hypervisor-fault alone, and a faulted call is not a failed call
 * (MODEL.md §7): every other property skips faulted states and transitions into them.
 */
export function wire(u: Universe, o: WireOptions = {}): Wired {
  const xm = makeXenModel(u, o.xen);
  const pc: PropertyContext = { u, xen: xm.ctx.xen };
  const invariants = o.invariants ?? INVARIANTS;
  const witnesses = WITNESSES;
  const none: readonly Action[] = [];
  const scratch = xm.init();
  const perms = domainPermutations(u);
  const permScratch = new Uint8Array(xm.encodedSize);
  // one result object, refilled each step: the engine reads it before the next step
  const out: { next: State; result: Rc } = { next: scratch, result: null };
  const model: Model<State, Action, Rc> = {
    init: () => [xm.init()],
    actions: (s) => (s.fault === null ? xm.actions : none),
    step: o.immer
      ? (s, a) => { const r = xm.apply(s, a); return { next: r.next, result: r.rc }; }
      : (s, a) => {
          out.result = xm.applyInto(scratch, s, a);
          return out;
        },
    encodedSize: xm.encodedSize,
    encode: (s, out) => void xm.encode(s, out),
    decode: (b) => xm.decode(b),
    canonicalEncode: (s, out) => void canonicalEncode(s, perms, out, permScratch),
    invariants: invariants.map((inv) => {
      const judgesFaults = inv.name === FAULT_INVARIANT;
      const check = inv.check;
      const checkTransition = inv.checkTransition;
      const skipsSelfLoops = inv.holdsOnSelfLoops === true;
      return {
        name: inv.name,
        state: check ? (s: State) => (s.fault !== null && !judgesFaults ? null : check(s, pc)) : undefined,
        transition: checkTransition
          ? (pre: State, a: Action, rc: Rc, post: State, unchanged: boolean) =>
              (unchanged && skipsSelfLoops) || (post.fault !== null && !judgesFaults) ? null : checkTransition(pre, a, rc, post, pc)
          : undefined,
      };
    }),
    witnesses: witnesses.map((w) => {
      const holds = w.holds;
      const holdsTransition = w.holdsTransition;
      return {
        name: w.name,
        state: holds ? (s: State) => s.fault === null && holds(s, pc) : undefined,
        transition: holdsTransition
          ? (pre: State, a: Action, rc: Rc, post: State) => post.fault === null && holdsTransition(pre, a, rc, post, pc)
          : undefined,
      };
    }),
  };
  return { xm, model, invariants, witnesses, pc, symmetric: o.symmetry === true };
}
