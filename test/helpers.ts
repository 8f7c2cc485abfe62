// Small helpers shared by the model tests: universes, action builders by domain index, and a runner
// that replays actions through the public `apply` (immer) of model/index.ts.
import {
  apply,
  makeUniverse,
  makeXenModel,
  type Action,
  type Backend,
  type Entry,
  type Frame,
  type Owner,
  type Rc,
  type State,
  type Universe,
  type UniverseOptions,
  type Version,
  type XenFunctions,
  type XenModel,
} from '../model/index.js';
import { findInvariant, type Invariant, type PropertyContext } from '../invariants/index.js';

// Domain indices of the default universe (dom0:pvh:hw, dom1:pvh, dom2:hvm).
export const DOM0 = 0;
export const DOM1 = 1;
export const DOM2 = 2;
/** The spare frame of the default universe (frames 0..5 belong to dom0, dom1, dom2 at boot). */
export const SPARE = 6;

/** The versions and backends modelled so far. */
export const CONFIGS: readonly { version: Version; backend: Backend }[] = [
  { version: 'seed', backend: 'ept' },
  { version: 'seed', backend: 'pt' },
  { version: 'xen-4.5', backend: 'ept' },
  { version: 'xen-4.5', backend: 'pt' },
];

export function configName(c: { version: Version; backend: Backend }): string {
  return `${c.version}/${c.backend}`;
}

/**
 * The universe of revision 3, without a device model: dom0 PVH hardware domain, dom1 PVH, dom2 HVM.
 * The per-operation tests use it (a device model's domain reference on its target changes when a
 * destroyed domain is destroyed, which is not what they test); test/r4.test.ts tests the default
 * universe, where dom1 is dom2's device model.
 */
export const PLAIN_DOMAINS = 'dom0:pvh:hw,dom1:pvh,dom2:hvm';

export function universe(opts: UniverseOptions = {}): Universe {
  return makeUniverse({ domains: PLAIN_DOMAINS, ...opts });
}

export function modelFor(u: Universe, xen?: XenFunctions): XenModel {
  return xen === undefined ? makeXenModel(u) : makeXenModel(u, xen);
}

/** The PropertyContext the invariants take: `{ u, xen }` of the model's version table. */
export function ctxFor(u: Universe): PropertyContext {
  return { u, xen: makeXenModel(u).ctx.xen };
}

/** Action builders; domains by index. */
export const act = {
  populate: (d: number, g: number): Action => ({ op: 'populate_physmap', d, g }),
  decrease: (d: number, g: number): Action => ({ op: 'decrease_reservation', d, g }),
  /** add_to_physmap_foreign: `t` maps `f`'s gfn `gF` at its own gfn `gT`. */
  mapForeign: (t: number, gT: number, f: number, gF: number): Action => ({ op: 'add_to_physmap_foreign', t, gT, f, gF }),
  remove: (d: number, g: number): Action => ({ op: 'remove_from_physmap', d, g }),
  destroy: (d: number): Action => ({ op: 'destroy', d }),
};

export interface Run {
  /** states[0] is the start; states[i + 1] follows actions[i]. */
  states: State[];
  rcs: Rc[];
  /** The last state. */
  final: State;
  /** The state before the last action. */
  beforeLast: State;
}

/** Applies `actions` in order from `state` through the model's `apply` (immer). */
export function run(u: Universe, state: State, actions: readonly Action[], xen?: XenFunctions): Run {
  const model = modelFor(u, xen);
  const states: State[] = [state];
  const rcs: Rc[] = [];
  let s = state;
  for (const a of actions) {
    const { next, rc } = apply(model.ctx, s, a);
    states.push(next);
    rcs.push(rc);
    s = next;
  }
  return { states, rcs, final: s, beforeLast: states[Math.max(0, states.length - 2)]! };
}

/** `run` from the booted initial state. */
export function runFromBoot(u: Universe, actions: readonly Action[], xen?: XenFunctions): Run {
  return run(u, modelFor(u).init(), actions, xen);
}

/** The invariant named `name`, or a thrown error (a renamed invariant must fail the tests loudly). */
export function invariant(name: string): Invariant {
  const inv = findInvariant(name);
  if (!inv) throw new Error(`no invariant named ${name}`);
  return inv;
}

// Expected-value builders.
export function frame(owner: Owner, count: number, allocated: boolean, m2p: number | null): Frame {
  return { owner, count, allocated, m2p };
}
export const FREE: Frame = frame(null, 0, false, null);
export function ram(mfn: number): Entry {
  return { type: 'ram_rw', mfn };
}
export function foreign(mfn: number): Entry {
  return { type: 'map_foreign', mfn };
}

/** A plain deep copy (drops immer's freezing), for building hand-made states. */
export function plain(s: State): State {
  return JSON.parse(JSON.stringify(s)) as State;
}

/** Recursively freezes an object graph, so that any mutation throws (ES modules run in strict mode). */
export function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object') {
    Object.freeze(o);
    for (const v of Object.values(o as object)) deepFreeze(v);
  }
  return o;
}

/** Number of frames a domain owns (tot_pages). */
export function owned(s: State, d: number): number {
  return s.frames.filter((f) => f.owner === d).length;
}

/** Every foreign entry of a state, as [domain, gfn, mfn]. */
export function foreignEntries(s: State): [number, number, number][] {
  const out: [number, number, number][] = [];
  s.p2m.forEach((row, d) =>
    row.forEach((e, g) => {
      if (e !== null && e.type === 'map_foreign') out.push([d, g, e.mfn]);
    }),
  );
  return out;
}
