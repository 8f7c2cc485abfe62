// The surface the engine uses: every action of a universe in a fixed order, and apply().
import { produce } from 'immer';
import { match } from 'ts-pattern';
import { domainName, type OpName, type Universe } from './config.js';
import { destroyDomain, killBegin, relinquishStep } from './domain.js';
import { HypervisorFault } from './fault.js';
import { cloneState, copyStateInto } from './state.js';
import { EEXIST, rcName, type DomIndex, type State } from './types.js';
import type { Ctx } from './xen.js';

/** With `steps` granularity an action also names the vCPU whose hypercall runs its next segment. */
export type Action = BaseAction & { vcpu?: number };

type BaseAction =
  | { op: 'populate_physmap'; d: DomIndex; g: number }
  | { op: 'decrease_reservation'; d: DomIndex; g: number }
  | { op: 'add_to_physmap_foreign'; t: DomIndex; gT: number; f: DomIndex; gF: number }
  | { op: 'remove_from_physmap'; d: DomIndex; g: number }
  | { op: 'destroy'; d: DomIndex }
  | { op: 'kill_begin'; d: DomIndex }
  | { op: 'relinquish_step'; d: DomIndex }
  | { op: 'set_log_dirty'; d: DomIndex; on: boolean }
  | { op: 'fail_next_alloc' };

/** The return code of a transition: 0, a negative errno, or null when the call faulted. */
export type Rc = number | null;

export interface Step {
  next: State;
  rc: Rc;
}

/**
 * Every action of the universe, failing ones included (MODEL.md §3): operations in the order of
 * OPERATIONS, then domains by id, then gfns (for the foreign map: t, gT, f, gF).
 */
export function enumerateActions(u: Universe): Action[] {
  const out: Action[] = [];
  const ds = u.domains.map((_, i) => i);
  const gs = Array.from({ length: u.gfns }, (_, g) => g);
  for (const op of u.ops) {
    match(op as OpName)
      .with('populate_physmap', 'decrease_reservation', 'remove_from_physmap', (op) => {
        for (const d of ds) for (const g of gs) out.push({ op, d, g });
      })
      .with('add_to_physmap_foreign', (op) => {
        for (const t of ds) for (const gT of gs) for (const f of ds) for (const gF of gs) out.push({ op, t, gT, f, gF });
      })
      .with('destroy', 'kill_begin', 'relinquish_step', (op) => {
        for (const d of ds) out.push({ op, d });
      })
      .with('set_log_dirty', (op) => {
        for (const d of ds) for (const on of [true, false]) out.push({ op, d, on });
      })
      .with('fail_next_alloc', (op) => {
        out.push({ op });
      })
      .exhaustive();
  }
  return out;
}

/** A hypercall bound to its arguments, ready to run on a state. */
export type Runner = (ctx: Ctx, s: State) => number;

/**
 * Binds an action to the Xen function it calls. The match is exhaustive: an operation without a
 * case is a compile error. Runners are built once per action, not per step.
 */
export function compileAction(a: Action): Runner {
  return match(a)
    .with({ op: 'populate_physmap' }, ({ d, g }): Runner => (ctx, s) => ctx.xen.populatePhysmap(ctx, s, d, g))
    .with({ op: 'decrease_reservation' }, ({ d, g }): Runner => (ctx, s) => ctx.xen.decreaseReservation(ctx, s, d, g))
    .with({ op: 'add_to_physmap_foreign' }, ({ t, gT, f, gF }): Runner => (ctx, s) => ctx.xen.addToPhysmapForeign(ctx, s, t, gT, f, gF))
    .with({ op: 'remove_from_physmap' }, ({ d, g }): Runner => (ctx, s) => ctx.xen.removeFromPhysmap(ctx, s, d, g))
    .with({ op: 'destroy' }, ({ d }): Runner => (ctx, s) => destroyDomain(ctx, s, d))
    .with({ op: 'kill_begin' }, ({ d }): Runner => (ctx, s) => killBegin(ctx, s, d))
    .with({ op: 'relinquish_step' }, ({ d }): Runner => (ctx, s) => relinquishStep(ctx, s, d))
    .with({ op: 'set_log_dirty' }, ({ d, on }): Runner => (ctx, s) => ctx.xen.setLogDirty(ctx, s, d, on))
    .with({ op: 'fail_next_alloc' }, (): Runner => (_ctx, s) => failNextAlloc(s))
    .exhaustive();
}

/**
 * Fault injection (MODEL.md §3.7): the next p2m table allocation, of any domain, fails. One failure
 * can be armed at a time (a second arm before the first is consumed answers -EEXIST and changes
 * nothing), which keeps the state space finite.
 */
export function failNextAlloc(s: State): number {
  if (s.armedFailures > 0) return EEXIST;
  s.armedFailures = 1;
  return 0;
}

const runners = new WeakMap<Action, Runner>();

/** The runner of `a`, compiled on first use. */
export function runnerOf(a: Action): Runner {
  let r = runners.get(a);
  if (r === undefined) {
    r = compileAction(a);
    runners.set(a, r);
  }
  return r;
}

/** Runs the hypercall on `s`, mutating it. */
export function dispatch(ctx: Ctx, s: State, a: Action): number {
  return runnerOf(a)(ctx, s);
}

/** Runs `a` on a mutable state; a hypervisor fault is stored in `s.fault` (the changes before it stay). */
export function runInPlace(ctx: Ctx, s: State, a: Action): Rc {
  return runCompiled(ctx, s, runnerOf(a));
}

/** runInPlace with the action's runner at hand (the explorer compiles them once, by action index). */
export function runCompiled(ctx: Ctx, s: State, r: Runner): Rc {
  if (s.fault !== null) throw new Error('a faulted state has no successors');
  try {
    return r(ctx, s);
  } catch (e) {
    if (e instanceof HypervisorFault) {
      s.fault = e.fault;
      return null;
    }
    throw e;
  }
}

/** apply(state, action) → { next, rc }, built on immer's produce: the input is left untouched. */
export function apply(ctx: Ctx, s: State, a: Action): Step {
  let rc: Rc = null;
  const next = produce(s, (draft) => {
    rc = runInPlace(ctx, draft as State, a);
  });
  return { next, rc };
}

/** The same functions on a plain copy instead of an immer draft (a new state each call). */
export function applyFast(ctx: Ctx, s: State, a: Action): Step {
  const next = cloneState(s);
  const rc = runInPlace(ctx, next, a);
  return { next, rc };
}

/**
 * The explorer's hot path: `s` is copied into `scratch` (no allocation but for replaced p2m entries)
 * and the action runs there. The returned state IS `scratch`: it is overwritten by the next call.
 */
export function applyInto(ctx: Ctx, scratch: State, s: State, a: Action): Rc {
  copyStateInto(scratch, s);
  return runInPlace(ctx, scratch, a);
}

export function formatAction(u: Universe, a: Action): string {
  const call = formatCall(u, a);
  return a.vcpu === undefined ? call : `vcpu${a.vcpu}: ${call}`;
}

function formatCall(u: Universe, a: Action): string {
  const dn = (d: DomIndex) => domainName(u, d);
  return match(a)
    .with({ op: 'add_to_physmap_foreign' }, ({ t, gT, f, gF }) =>
      `add_to_physmap_foreign(t=${dn(t)}, gT=${gT}, f=${dn(f)}, gF=${gF})`)
    .with({ op: 'destroy' }, { op: 'kill_begin' }, { op: 'relinquish_step' }, ({ op, d }) => `${op}(${dn(d)})`)
    .with({ op: 'set_log_dirty' }, ({ d, on }) => `set_log_dirty(${dn(d)}, ${on ? 'on' : 'off'})`)
    .with({ op: 'fail_next_alloc' }, () => 'fail_next_alloc()')
    .with({ op: 'populate_physmap' }, { op: 'decrease_reservation' }, { op: 'remove_from_physmap' }, ({ op, d, g }) =>
      `${op}(${dn(d)}, gfn=${g})`)
    .exhaustive();
}

export function formatRc(rc: Rc): string {
  // 1 is never an errno: a segment of `steps` granularity that does not end its hypercall
  return rc === null ? 'FAULT' : rc === 1 ? 'in flight' : rcName(rc);
}

/** The action's arguments as a record (domains by name), for JSON and ITF. */
export function actionArgs(u: Universe, a: Action): Record<string, string | number> {
  const dn = (d: DomIndex) => domainName(u, d);
  return match(a)
    .with({ op: 'add_to_physmap_foreign' }, ({ t, gT, f, gF }) => ({ t: dn(t), gT, f: dn(f), gF }))
    .with({ op: 'destroy' }, { op: 'kill_begin' }, { op: 'relinquish_step' }, ({ d }) => ({ d: dn(d) }))
    .with({ op: 'set_log_dirty' }, ({ d, on }) => ({ d: dn(d), on: on ? 'on' : 'off' }))
    .with({ op: 'fail_next_alloc' }, () => ({}))
    .with({ op: 'populate_physmap' }, { op: 'decrease_reservation' }, { op: 'remove_from_physmap' }, ({ d, g }) => ({
      d: dn(d),
      gfn: g,
    }))
    .exhaustive();
}
