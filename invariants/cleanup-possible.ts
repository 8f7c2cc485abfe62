// cleanup-possible (MODEL.md §7, r4): from the state, some sequence of the toolstack's cleanup
// operations (remove_from_physmap, decrease_reservation, destroy, or kill_begin and relinquish_step
// under preemptible teardown) reaches a clean state: every domain but the hardware domain destroyed,
// every frame free or the hardware domain's, each with its count equal to its holders.
//
// With steps granularity it is judged in the states where no hypercall is in flight, and the cleanup
// runs whole calls from there. The toolstack decides on cleanup between its calls, not in the middle
// of one: a state with calls in flight is judged through the states where they have returned, which
// the search reaches in every order of their segments, so a state from which cleanup can never
// succeed is still found, at the first depth where the calls that doom it have returned. (Judging
// every state would complete the calls in flight, in every order, from every state: for each state a
// search of its own that re-walks the part of the graph the exploration walks anyway.) Whole calls,
// because a toolstack cleaning up waits for each call: interleaving its own cleanup calls reaches no
// state from which it could do better.
//
// A possibility property, judged by search rather than by looking at one state. Cleanup never adds a
// mapping or a frame, and every operation that changes the state moves an entry, a frame or a domain's
// teardown forward, so the cleanup graph is finite and acyclic. The search tries the canonical
// cleanup first (every foreign entry removed, then every domain destroyed): it succeeds in almost
// every state of a correct version. Only when it fails is every cleanup order searched, depth first,
// with what was already decided memoised by state.
import {
  cloneState,
  describeFault,
  formatAction,
  domainName,
  encodeState,
  encodedSize,
  formatOwner,
  runInPlace,
  statesEqual,
  uncounted,
  type Action,
  type DomIndex,
  type State,
  type Universe,
} from '../model/index.js';
import { foreignHolders, formatHolders } from './holders.js';
import type { Invariant, PropertyContext } from './types.js';

/** What the search has decided: cleanable or not, by state. */
export interface CleanupMemo {
  get(s: State): boolean | undefined;
  set(s: State, cleanable: boolean): void;
}

/** The toolstack's cleanup operations over the universe, whatever --ops enumerates. */
export function cleanupActions(u: Universe): readonly Action[] {
  return cleanupOps(u).all;
}

interface CleanupOps {
  all: Action[];
  /** remove[d][g], destroy[d], kill[d], step[d]: the same objects (their runners are compiled once). */
  remove: Action[][];
  destroy: Action[];
  kill: Action[];
  step: Action[];
}

function cleanupOps(u: Universe): CleanupOps {
  let ops = opsByUniverse.get(u);
  if (ops === undefined) {
    const all: Action[] = [];
    const remove: Action[][] = [];
    for (let d = 0; d < u.domains.length; d++) {
      remove.push([]);
      for (let g = 0; g < u.gfns; g++) {
        const r: Action = { op: 'remove_from_physmap', d, g };
        remove[d]!.push(r);
        all.push(r, { op: 'decrease_reservation', d, g });
      }
    }
    const destroy: Action[] = u.domains.map((_, d) => ({ op: 'destroy', d }));
    const kill: Action[] = u.domains.map((_, d) => ({ op: 'kill_begin', d }));
    const step: Action[] = u.domains.map((_, d) => ({ op: 'relinquish_step', d }));
    for (let d = 0; d < u.domains.length; d++) {
      if (u.preemptibleTeardown) all.push(kill[d]!, step[d]!);
      else all.push(destroy[d]!);
    }
    ops = { all, remove, destroy, kill, step };
    opsByUniverse.set(u, ops);
  }
  return ops;
}
const opsByUniverse = new WeakMap<Universe, CleanupOps>();

function hardwareIndex(u: Universe): DomIndex {
  return u.domains.findIndex((d) => d.hardware);
}

/** Every domain but the hardware domain destroyed; every frame free, or the hardware domain's with count = holders. */
export function isClean(s: State, u: Universe): boolean {
  if (s.fault !== null) return false;
  const hw = hardwareIndex(u);
  for (let d = 0; d < s.domains.length; d++) if (d !== hw && s.domains[d]!.life !== 'destroyed') return false;
  for (let m = 0; m < s.frames.length; m++) {
    const f = s.frames[m]!;
    if (f.owner === null) continue;
    if (f.owner !== hw) return false;
    // only the hardware domain's p2m can still hold foreign entries here
    let mapped = 0;
    if (hw >= 0) for (const e of s.p2m[hw]!) if (e !== null && e.type === 'map_foreign' && e.mfn === m) mapped += 1;
    if (f.count !== (f.allocated ? 1 : 0) + mapped) return false;
  }
  return true;
}

/**
 * The canonical cleanup, in place on `x`: remove every foreign entry, then destroy every domain but
 * the hardware domain (kill_begin and relinquish steps until it is dead or a step fails). Returns
 * false if a step faulted (the faulting action is then `x`'s last, see lastCleanupAction).
 */
function canonicalCleanup(x: State, c: PropertyContext): boolean {
  lastAction = null;
  const u = c.u;
  const ops = cleanupOps(u);
  for (let d = 0; d < x.p2m.length; d++) {
    const row = x.p2m[d]!;
    for (let g = 0; g < row.length; g++) {
      const e = row[g]!;
      if (e === null || e.type !== 'map_foreign' || x.domains[d]!.life === 'destroyed') continue;
      lastAction = ops.remove[d]![g]!;
      runInPlace(c, x, lastAction);
      if (x.fault !== null) return false;
    }
  }
  const hw = hardwareIndex(u);
  for (let d = 0; d < x.domains.length; d++) {
    if (d === hw) continue;
    const dom = x.domains[d]!;
    if (u.preemptibleTeardown) {
      lastAction = ops.kill[d]!;
      if (dom.life === 'alive') runInPlace(c, x, lastAction);
      lastAction = ops.step[d]!;
      // each step moves the teardown on by one chunk; a step that fails or stands still ends it
      for (let k = 0; k < 10_000 && x.fault === null && dom.life === 'dying'; k++) {
        const phase = dom.relinquish?.phase;
        const cursor = dom.relinquish?.cursor;
        const rc = runInPlace(c, x, ops.step[d]!);
        if (rc === null || rc < 0 || (dom.life === 'dying' && dom.relinquish?.phase === phase && dom.relinquish?.cursor === cursor)) break;
      }
    } else if (dom.life === 'alive' || dom.life === 'dying') {
      lastAction = ops.destroy[d]!;
      runInPlace(c, x, lastAction);
    }
    if (x.fault !== null) return false;
  }
  return true;
}

let lastAction: Action | null = null;

/** A memo keyed by the state's encoding (the explorer's wiring gives a fingerprint-keyed one). */
export function encodingMemo(u: Universe): CleanupMemo {
  const map = new Map<string, boolean>();
  const buf = new Uint8Array(encodedSize(u));
  const key = (s: State) => Buffer.from(encodeState(s, buf)).toString('latin1');
  return { get: (s) => map.get(key(s)), set: (s, v) => void map.set(key(s), v) };
}
const defaultMemos = new WeakMap<object, CleanupMemo>();

function memoOf(c: PropertyContext): CleanupMemo {
  if (c.cleanupMemo) return c.cleanupMemo;
  let m = defaultMemos.get(c.xen);
  if (m === undefined) {
    m = encodingMemo(c.u);
    defaultMemos.set(c.xen, m);
  }
  return m;
}

/** Whether some sequence of cleanup operations takes `s` to a clean state (no hypercall in flight in it). */
export function cleanupPossible(s: State, c: PropertyContext): boolean {
  if (s.fault !== null) return false;
  // the search runs the model: not a transition of the exploration (a variant's override counts stay its own)
  return uncounted(() => {
    const x = cloneState(s);
    if (canonicalCleanup(x, c) && isClean(x, c.u)) return true;
    return search(s, c, memoOf(c));
  });
}

/** With steps granularity: whether some vCPU has a hypercall in flight. */
function inFlight(s: State): boolean {
  return s.steps !== undefined && s.steps.vcpus.some((v) => v.op >= 0);
}

function search(s: State, c: PropertyContext, memo: CleanupMemo): boolean {
  if (s.fault !== null) return false;
  if (isClean(s, c.u)) return true;
  const known = memo.get(s);
  if (known !== undefined) return known;
  // on the stack: a cycle (there is none, see above) would read "not cleanable" here
  memo.set(s, false);
  for (const a of cleanupActions(c.u)) {
    const n = cloneState(s);
    runInPlace(c, n, a);
    if (n.fault !== null) continue;
    if (memoUnchanged(s, n)) continue;
    if (search(n, c, memo)) {
      memo.set(s, true);
      return true;
    }
  }
  return false;
}

function memoUnchanged(a: State, b: State): boolean {
  return statesEqual(a, b);
}

/** What stays after the canonical cleanup: the domains not destroyed and the frames not clean, and why. */
export function describeLeftovers(s: State, c: PropertyContext): string {
  const u = c.u;
  const x = cloneState(s);
  canonicalCleanup(x, c);
  if (x.fault !== null) {
    return `${lastAction ? formatAction(u, lastAction) : 'cleaning up'} faults the hypervisor (${describeFault(x.fault)}), and no other order gets round it`;
  }
  const hw = hardwareIndex(u);
  const parts: string[] = [];
  x.domains.forEach((dom, d) => {
    if (d === hw || dom.life === 'destroyed') return;
    const owns = x.frames.flatMap((f, m) => (f.owner === d ? [m] : []));
    const holders = u.targets.flatMap((t, dm) => (t === d && x.domains[dm]!.life !== 'destroyed' ? [`${domainName(u, dm)} (${x.domains[dm]!.life})`] : []));
    const why = [
      dom.life === 'dying' ? `its teardown fails at ${dom.relinquish?.phase ?? '?'}@${dom.relinquish?.cursor ?? '?'}` : '',
      owns.length > 0 ? `it owns frame${owns.length > 1 ? 's' : ''} ${owns.join(', ')}` : '',
      holders.length > 0 ? `its device model ${holders.join(', ')} still holds a reference on it` : '',
    ].filter((w) => w !== '');
    parts.push(`${domainName(u, d)} stays ${dom.life}${why.length ? `: ${why.join('; ')}` : ''}`);
  });
  x.frames.forEach((f, m) => {
    if (f.owner === null) return;
    const hs = foreignHolders(x, m);
    const expected = (f.allocated ? 1 : 0) + hs.length;
    if (f.owner === hw && f.count === expected) return;
    const held = f.count > expected ? `${f.count - expected} reference(s) held by nothing` : `held by ${formatHolders(u, hs)}`;
    parts.push(`frame ${m} (owner ${formatOwner(u, f.owner)}) count ${f.count}, allocated ${f.allocated ? 1 : 0} + foreign [${formatHolders(u, hs)}]: ${held}`);
  });
  return parts.join('; ');
}

export const cleanupPossibleInvariant: Invariant = {
  kind: 'invariant',
  name: 'cleanup-possible',
  description: 'some sequence of the toolstack\'s cleanup operations (remove, decrease, destroy) frees every domain but dom0 and every frame: nothing is stuck for ever',
  scope: (u) => (u.granularity === 'steps' ? 'in states with no hypercall in flight' : null),
  check(s, c) {
    if (inFlight(s) || cleanupPossible(s, c)) return null;
    return `no sequence of cleanup operations (remove_from_physmap, decrease_reservation, ${c.u.preemptibleTeardown ? 'kill_begin, relinquish_step' : 'destroy'}) reaches a clean state; after removing every foreign entry and destroying every domain: ${describeLeftovers(s, c)}`;
  },
  // the first frame still held after the canonical cleanup: its ledger shows where the reference went
  subjectFrame(s, c) {
    const x = cloneState(s);
    uncounted(() => canonicalCleanup(x, c));
    const hw = hardwareIndex(c.u);
    const m = x.frames.findIndex((f, i) => f.owner !== null && (f.owner !== hw || f.count !== (f.allocated ? 1 : 0) + foreignHolders(x, i).length));
    return m < 0 ? null : m;
  },
};
