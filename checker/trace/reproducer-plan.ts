// What a reproducer does on a host, worked out on the model: which libxenctrl call each step of a
// counterexample becomes, on which thread, what the host should answer and show after it (return
// codes, each domain's life and page count), and how the run is cleaned up. The C program
// (reproducer-c.ts) only compares what the host does with these predictions.
//
// A host cannot stop a hypercall halfway. A trace whose calls follow one another is issued call by
// call; one whose calls overlap (a segment of one vCPU's hypercall between two of another's, or a
// call between kill_begin and the last relinquish_step of a domain: on a host both halves are one
// XEN_DOMCTL_destroydomain, continued inside the hypervisor) becomes a race, retried, whose outcome
// is told apart from every order of the same whole calls by what the model predicts for each.
import {
  IN_FLIGHT,
  describeFault,
  domainName,
  formatAction,
  makeUniverse,
  makeXenModel,
  rcName,
  totPages,
  EEXIST,
  ENOMEM,
  ESRCH,
  type Action,
  type OpName,
  type Rc,
  type State,
  type Universe,
  type XenModel,
} from '../../model/index.js';
import type { Trace } from './build.js';
import { TraceFormatError } from './itf.js';
import { rebuildTrace, type TraceFile } from './load.js';

export type ReproducerKind = 'sequential' | 'threads-barriers' | 'race-loop';

/** What a host call is: the libxenctrl function the C program calls for it. */
export type HostOp = 'populate' | 'decrease' | 'add_foreign' | 'remove' | 'destroy' | 'log_dirty' | 'empty_pool' | 'none';

export interface HostCall {
  op: HostOp;
  /** Domain indices of the universe (-1 when the operation has none), the model's gfns. */
  d: number;
  g: number;
  f: number;
  gF: number;
  on: boolean;
  /** The model steps (1-based) the call covers; `last` is past the trace's depth when it ends after it. */
  first: number;
  last: number;
  /** The host thread that issues it: the vCPU with steps granularity; else 0, and 1.. for a teardown raced by other calls. */
  thread: number;
  /** The model's operation, as `trace show` prints it. */
  text: string;
  /** Why the call is not issued (op `none`), or how it is approximated (`empty_pool`). */
  why: string | null;
  /** The domain whose paging pool is given back after this call (emptied for the model's fail_next_alloc), or -1. */
  restorePool: number;
}

export type HostLife = 'alive' | 'dying' | 'gone';

/** What dom0 can see of a domain: xc_domain_getinfolist's dying flag (or no domain) and tot_pages. */
export interface Observation {
  life: HostLife;
  /** Pages the domain owns beyond those it had once created; null when not compared (superpages). */
  pages: number | null;
  /** The model's own word for it: a dead domain still listed is a zombie. */
  modelLife: State['domains'][number]['life'];
}

/** The host's run as the model predicts it for one order of the calls (the trace's own first). */
export interface Prediction {
  name: string;
  /** Per host call: 0 or -errno; null where the model's Xen faults in every build (the host goes down). */
  rcs: Rc[];
  /** Per host call: each domain's observation after it (null for dom0), or null where nothing is observed (inside a race). */
  after: ((Observation | null)[] | null)[];
  /** After the cleanup (dom0's gfns emptied, every created domain destroyed): null if the model faults in it. */
  end: (Observation | null)[] | null;
  /** A debug build's fault per host call (its ASSERT, BUG_ON ...), and in the cleanup; the predictions follow the release path past it. */
  faults: (string | null)[];
  cleanupFault: string | null;
  /** What the host shows that a correct Xen never does, as the model predicts it; null: nothing dom0 can observe. */
  signature: string | null;
  /** The names of the other orders whose race outcome is the same as this one's (dom0 cannot tell them apart). */
  alike: string[];
}

export interface PlanDomain {
  index: number;
  name: string;
  kind: 'pvh' | 'hvm';
  hardware: boolean;
  /** The index of the domain it is the device model of, or -1. */
  target: number;
}

export interface ReproducerPlan {
  trace: Trace;
  u: Universe;
  kind: ReproducerKind;
  /** Why it is of that kind, for the program's header. */
  kindWhy: string;
  domains: PlanDomain[];
  /** The initial state's pages, populated by the program: model gfn (the first of a superpage pair) and order. */
  pages: { d: number; g: number; order: 0 | 9 }[];
  /** Whether the trace acts on dom0's own p2m (then dom0 must be PVH, and its gfns are above its memory). */
  touchesDom0: boolean;
  calls: HostCall[];
  /** Per model step (0-based), the host call it belongs to. */
  stepCall: number[];
  /** The racing calls (indices into calls), in the trace's order of their first step; empty unless race-loop. */
  race: number[];
  /** The trace's own order first, then each order of the racing calls as whole calls (with the same outcome merged). */
  predictions: Prediction[];
  /** What the user should know before running it. */
  notes: string[];
  /** Why the violation may leave nothing dom0 can see (said when the host shows no signature of it). */
  unobservable: string;
}

/** The gfn offset above the base the program maps model gfn `g` to: a superpage pair spans 512 host gfns. */
export function hostGfnOffset(u: Universe, g: number): number {
  return u.superpages ? (g >> 1) * 512 + (g & 1) : g;
}

const OPS_FOR_CLEANUP: readonly OpName[] = ['decrease_reservation', 'remove_from_physmap'];

const DOM0_KEPT = "the host's own dom0 is never destroyed (the model answers -EINVAL: the hardware domain is not destroyable)";

/** Works out the host run of a trace file's counterexample; throws the user's one-line error for a trace no host can run. */
export function planReproducer(tf: TraceFile): ReproducerPlan {
  const { file, target } = tf;
  if (tf.foreign) {
    throw new TraceFormatError(
      `${file}: a trace another tool wrote cannot become a reproducer: it carries no configuration of ours (its Xen version and universe are only what the flags say), and a host program must know what it reproduces`,
    );
  }
  if (target.mutant) {
    throw new TraceFormatError(
      `${file}: a trace of mutant ${target.mutant} cannot become a reproducer: no host runs a mutant (it undoes a Xen change to show that a check catches it)`,
    );
  }
  const trace = rebuildTrace(tf);
  const u = target.u;
  if (trace.steps.length === 0) throw new TraceFormatError(`${file}: the property is violated in the initial state: there is no call to issue`);
  const hw = u.domains.findIndex((d) => d.hardware);
  for (const st of trace.steps) {
    const a = st.action;
    if ((a.op === 'destroy' || a.op === 'kill_begin') && a.d === hw && st.rc === 0) {
      throw new TraceFormatError(`${file}: step ${st.index} destroys the hardware domain (--destroyable-dom0): a host running it would destroy its own dom0`);
    }
  }
  const domains: PlanDomain[] = u.domains.map((d, i) => ({ index: i, name: domainName(u, i), kind: d.kind, hardware: d.hardware, target: u.targets[i]! }));
  const { calls, stepCall } = hostCalls(u, trace, hw);
  const race = raceOf(file, calls);
  // a teardown that other calls run inside is issued from a thread of its own
  const threads = Math.max(...calls.map((c) => c.thread)) + 1;
  race.filter((i) => calls[i]!.op === 'destroy').forEach((i, j) => (calls[i]!.thread = threads + j));
  const multiThread = new Set(calls.filter((c) => c.op !== 'none').map((c) => c.thread)).size > 1;
  const kind: ReproducerKind = race.length > 0 ? 'race-loop' : u.granularity === 'steps' && multiThread ? 'threads-barriers' : 'sequential';
  const touchesDom0 = calls.some((c) => c.op !== 'none' && (c.d === hw || c.f === hw));
  const pages: ReproducerPlan['pages'] = [];
  trace.states[0]!.p2m.forEach((row, d) => {
    if (d === hw && !touchesDom0) return;
    row.forEach((e, g) => {
      if (e === null) return;
      if (e.order === 1) {
        if (g % 2 === 0) pages.push({ d, g, order: 9 });
      } else pages.push({ d, g, order: 0 });
    });
  });
  const unobservable = `${trace.property} leaves nothing dom0 can observe once the calls have returned (${observability(trace.property)})`;
  const plan: ReproducerPlan = { trace, u, kind, kindWhy: kindWhy(kind, calls, race, u), domains, pages, touchesDom0, calls, stepCall, race, predictions: [], notes: [], unobservable };
  plan.predictions = predict(tf, plan);
  plan.notes = planNotes(tf, plan);
  return plan;
}

/**
 * The host calls of a trace: a hypercall of `steps` granularity is one call from its first segment to
 * the one that returns; kill_begin and the relinquish_steps that follow it are one
 * XEN_DOMCTL_destroydomain (which the hypervisor continues itself: a toolstack cannot stop between
 * two of them); fail_next_alloc empties the paging pool of the domain whose allocation it makes fail.
 */
function hostCalls(u: Universe, trace: Trace, hw: number): { calls: HostCall[]; stepCall: number[] } {
  const calls: HostCall[] = [];
  const stepCall: number[] = [];
  const inFlight = new Map<number, number>(); // vCPU → call
  const teardown = new Map<number, number>(); // domain → its destroy call, while dying
  let armed: HostCall | null = null;
  for (const st of trace.steps) {
    const a = st.action;
    const k = st.index;
    const before = trace.states[k - 1]!;
    const after = trace.states[k]!;
    const base = { d: -1, g: -1, f: -1, gF: -1, on: false, first: k, last: k, thread: a.vcpu ?? 0, text: formatAction(u, { ...a, vcpu: undefined }), why: null, restorePool: -1 };
    // the armed failure is consumed by the first allocation that follows: that call's domain is the
    // one whose pool is emptied, and given back once the call returns
    const consume = (call: HostCall) => {
      if (armed !== null && armed !== call && before.armedFailures > 0 && after.armedFailures === 0) {
        armed.d = call.d;
        call.restorePool = call.d;
        armed = null;
      }
    };
    if (a.vcpu !== undefined && inFlight.has(a.vcpu)) {
      const c = calls[inFlight.get(a.vcpu)!]!;
      stepCall.push(inFlight.get(a.vcpu)!);
      c.last = k;
      consume(c);
      if (st.rc !== IN_FLIGHT) inFlight.delete(a.vcpu);
      continue;
    }
    let call: HostCall;
    switch (a.op) {
      case 'populate_physmap':
        call = { ...base, op: 'populate', d: a.d, g: a.g };
        break;
      case 'decrease_reservation':
        call = { ...base, op: 'decrease', d: a.d, g: a.g };
        break;
      case 'remove_from_physmap':
        call = { ...base, op: 'remove', d: a.d, g: a.g };
        break;
      case 'add_to_physmap_foreign':
        call = { ...base, op: 'add_foreign', d: a.t, g: a.gT, f: a.f, gF: a.gF };
        break;
      case 'set_log_dirty':
        call = { ...base, op: 'log_dirty', d: a.d, on: a.on };
        break;
      case 'destroy':
        call =
          a.d === hw
            ? { ...base, op: 'none', d: a.d, why: DOM0_KEPT }
            : { ...base, op: 'destroy', d: a.d };
        break;
      case 'kill_begin':
      case 'relinquish_step': {
        const open = teardown.get(a.d);
        if (open !== undefined) {
          stepCall.push(open);
          const c = calls[open]!;
          consume(c);
          c.last = k;
          c.text = `${c.text.replace(/ \(.*\)$/, '')} (${teardownSteps(trace, c.first, k, a.d)})`;
          if (after.domains[a.d]!.life !== 'dying' || (st.rc !== 0 && st.rc !== null)) teardown.delete(a.d);
          continue;
        }
        const starts = a.op === 'kill_begin' ? before.domains[a.d]!.life === 'alive' : before.domains[a.d]!.life === 'dying';
        if (a.d === hw) {
          call = { ...base, op: 'none', d: a.d, why: DOM0_KEPT };
        } else if (!starts) {
          call = { ...base, op: 'none', d: a.d, why: `${a.op} of a domain that is ${before.domains[a.d]!.life} has no call of its own on a host (XEN_DOMCTL_destroydomain would carry on a teardown); the model answers ${formatRcOf(st.rc)} and changes nothing` };
        } else {
          call = { ...base, op: 'destroy', d: a.d, text: `destroy(${domainName(u, a.d)}) (${a.op})` };
          if (after.domains[a.d]!.life === 'dying' && (st.rc === 0 || st.rc === null)) teardown.set(a.d, calls.length);
        }
        break;
      }
      case 'fail_next_alloc':
        call = { ...base, op: 'empty_pool', why: null };
        if (st.rc === 0) armed = call;
        break;
    }
    if (a.vcpu !== undefined && st.rc === IN_FLIGHT) inFlight.set(a.vcpu, calls.length);
    consume(call);
    stepCall.push(calls.length);
    calls.push(call);
  }
  for (const c of calls) {
    if (c.op === 'empty_pool') {
      c.why =
        c.d < 0
          ? 'the model arms a p2m table allocation failure that no later step consumes: nothing to do on the host'
          : `a host cannot make just the next p2m table allocation fail: the program empties ${domainName(u, c.d)}'s paging pool (xc_set_paging_mempool_size to 0 frees every free page) and gives it back after the call that allocates (step ${calls.find((x) => x.restorePool === c.d && x.first > c.first)?.first ?? '?'}); every allocation of that domain in between fails`;
      if (c.d < 0) c.op = 'none';
    }
  }
  // calls still in flight when the trace ends are completed after it: they last past every step
  const depth = trace.steps.length;
  for (const i of [...inFlight.values(), ...teardown.values()]) calls[i]!.last = depth + 1;
  return { calls, stepCall };
}

function formatRcOf(rc: Rc): string {
  return rc === null ? 'a fault' : rcName(rc);
}

/** "kill_begin, relinquish_step ×2" for a destroy made of steps first..last of domain d. */
function teardownSteps(trace: Trace, first: number, last: number, d: number): string {
  const ops = trace.steps.slice(first - 1, last).filter((s) => (s.action.op === 'kill_begin' || s.action.op === 'relinquish_step') && s.action.d === d).map((s) => s.action.op);
  const kill = ops.filter((o) => o === 'kill_begin').length;
  const rel = ops.filter((o) => o === 'relinquish_step').length;
  return [kill > 0 ? 'kill_begin' : null, rel > 0 ? `relinquish_step${rel > 1 ? ` ×${rel}` : ''}` : null].filter((x) => x !== null).join(', ');
}

/**
 * The calls that race: those whose steps overlap another's, with every call overlapping one of them.
 * A trace has at most one such group (two separate races would need two windows hit in one run).
 */
function raceOf(file: string, calls: HostCall[]): number[] {
  const issued = calls.map((c, i) => ({ c, i })).filter(({ c }) => c.op !== 'none');
  const overlap = (a: HostCall, b: HostCall) => a.first < b.last && b.first < a.last;
  const groups: Set<number>[] = [];
  for (const { c, i } of issued) {
    const touching = groups.filter((g) => [...g].some((j) => overlap(c, calls[j]!)));
    if (touching.length === 0) {
      if (issued.some(({ c: o, i: j }) => j !== i && overlap(c, o))) groups.push(new Set([i]));
      continue;
    }
    for (const g of touching) groups.splice(groups.indexOf(g), 1);
    groups.push(new Set([i, ...touching.flatMap((g) => [...g])]));
  }
  if (groups.length > 1) throw new TraceFormatError(`${file}: the trace has two separate races (overlapping calls at two places): a host program can aim at one window, not two`);
  return groups.length ? [...groups[0]!].sort((a, b) => a - b) : [];
}

function kindWhy(kind: ReproducerKind, calls: HostCall[], race: number[], u: Universe): string {
  if (kind === 'sequential') return 'each call returns before the next starts, as in the trace: they are issued one after the other';
  if (kind === 'threads-barriers') {
    return `the calls come from ${u.vcpus} vCPUs but each returns before the next starts: one thread per vCPU, each call started once the previous one returned (a barrier between whole calls)`;
  }
  const teardown = race.some((i) => calls[i]!.op === 'destroy' && calls[i]!.text.includes('relinquish_step'));
  return teardown
    ? 'a call runs while a domain is being torn down: kill_begin and relinquish_step are one XEN_DOMCTL_destroydomain on a host, which Xen continues itself between chunks (no -ERESTART reaches the toolstack), so the other call is issued from another thread while the destroy is in flight, and the pair is retried'
    : 'a hypercall runs inside another one (a window between two of its interleaving points): user space cannot hold a hypercall there, so the racing calls are issued from one thread per vCPU at once, and the race is retried';
}

// ---- the predictions ----

/** A model universe and function table able to run the cleanup's calls whatever the trace's --ops. */
function cleanupModel(tf: TraceFile, build: Universe['build']): XenModel {
  const u = tf.target.u;
  const teardown: OpName[] = u.preemptibleTeardown ? ['kill_begin', 'relinquish_step'] : ['destroy'];
  const ops = [...new Set([...u.ops, ...OPS_FOR_CLEANUP, ...teardown])];
  const uc = makeUniverse({
    domains: u.domains,
    gfns: u.gfns,
    spareFrames: u.spareFrames,
    backend: u.backend,
    version: u.version,
    ops,
    hardwareDomainDestroyable: u.hardwareDomainDestroyable,
    preemptibleTeardown: u.preemptibleTeardown,
    build,
    superpages: u.superpages,
    granularity: u.granularity,
    vcpus: u.granularity === 'steps' ? u.vcpus : undefined,
  });
  return makeXenModel(uc, tf.target.xen);
}

/** Runs a model: the trace's path, whole calls, completions of calls left in flight. */
class Sim {
  s: State;
  /** The first fault met, as the C spells it. */
  fault: string | null = null;
  constructor(
    readonly xm: XenModel,
    s?: State,
  ) {
    this.s = s ?? xm.init();
  }

  apply(a: Action): Rc {
    const { next, rc } = this.xm.applyFast(this.s, a);
    this.s = next;
    if (next.fault !== null && this.fault === null) this.fault = describeFault(next.fault);
    return rc;
  }

  get faulted(): boolean {
    return this.s.fault !== null;
  }

  /** One model operation as a whole hypercall: started on the vCPU that may start it, then every segment of it. */
  whole(a: Action): Rc {
    const start = this.xm.enabled(this.s).find((b) => sameCall(a, b));
    if (start === undefined) throw new Error(`reproducer: ${formatAction(this.xm.u, a)} is not enabled`);
    let rc = this.apply(start);
    while (rc === IN_FLIGHT && !this.faulted) rc = this.continueVcpu(start.vcpu!);
    return rc;
  }

  /** The next segment of vCPU v's hypercall (after those of a call holding the lock it waits for). */
  continueVcpu(v: number): Rc {
    const mine = this.xm.enabled(this.s).find((b) => b.vcpu === v);
    if (mine !== undefined) return this.apply(mine);
    const holder = this.s.steps!.vcpus.findIndex((x, w) => w !== v && x.op >= 0);
    if (holder < 0) throw new Error(`reproducer: vCPU ${v} cannot go on`);
    this.finishVcpu(holder);
    return IN_FLIGHT;
  }

  finishVcpu(v: number): Rc {
    let rc: Rc = IN_FLIGHT;
    while (rc === IN_FLIGHT && !this.faulted) rc = this.continueVcpu(v);
    return rc;
  }

  /** A destroy as the host's XEN_DOMCTL_destroydomain: to the end of the teardown, or its first error. */
  destroy(d: number): Rc {
    if (!this.xm.u.preemptibleTeardown) return this.whole({ op: 'destroy', d });
    const rc = this.whole({ op: 'kill_begin', d });
    return rc !== 0 ? rc : this.relinquish(d);
  }

  /** relinquish_step until the domain is no longer dying (or a step fails: the host's destroy returns that). */
  relinquish(d: number): Rc {
    let rc: Rc = 0;
    for (let n = 0; n < 1000 && this.s.domains[d]!.life === 'dying' && rc === 0 && !this.faulted; n++) rc = this.whole({ op: 'relinquish_step', d });
    return rc;
  }
}

const ARGS = ['d', 'g', 't', 'gT', 'f', 'gF', 'on'] as const;

/** The same operation with the same arguments, on any vCPU. */
function sameCall(a: Action, b: Action): boolean {
  return a.op === b.op && ARGS.every((k) => (a as Record<string, unknown>)[k] === (b as Record<string, unknown>)[k]);
}

/** A host call run whole on the model: what a host does when nothing runs beside it. */
function runWhole(sim: Sim, plan: ReproducerPlan, c: HostCall): Rc {
  const a = { ...plan.trace.steps[c.first - 1]!.action, vcpu: undefined } as Action;
  if (c.op === 'destroy') return a.op === 'relinquish_step' ? sim.relinquish(c.d) : sim.destroy(c.d);
  return sim.whole(a);
}

function observe(s: State, u: Universe): (Observation | null)[] {
  return s.domains.map((dom, d) => {
    if (u.domains[d]!.hardware) return null;
    const life: HostLife = dom.life === 'alive' ? 'alive' : dom.life === 'destroyed' ? 'gone' : 'dying';
    return { life, pages: u.superpages ? null : totPages(s, d), modelLife: dom.life };
  });
}

interface ClassRun {
  rcs: Rc[];
  after: ((Observation | null)[] | null)[];
  end: (Observation | null)[] | null;
  faults: (string | null)[];
  cleanupFault: string | null;
}

/** The cleanup the program runs: dom0's gfns emptied (decrease, then remove), then every created domain destroyed. */
function cleanup(sim: Sim, plan: ReproducerPlan): void {
  const hw = plan.domains.findIndex((d) => d.hardware);
  if (plan.touchesDom0) {
    for (let g = 0; g < plan.u.gfns && !sim.faulted; g++) {
      sim.whole({ op: 'decrease_reservation', d: hw, g });
      if (!sim.faulted) sim.whole({ op: 'remove_from_physmap', d: hw, g });
    }
  }
  for (const dom of plan.domains) if (!dom.hardware && !sim.faulted) sim.destroy(dom.index);
}

/**
 * One run of the host as the model sees it, in the given build: the trace's own path (order null)
 * or the racing calls whole in `order` (the others in the trace's order); then the calls the trace
 * leaves in flight, completed; then the cleanup. The race is observed once all its calls returned
 * (the observation is kept at its last call).
 */
function runClass(tf: TraceFile, plan: ReproducerPlan, build: Universe['build'], order: number[] | null): ClassRun {
  const { trace, calls, race } = plan;
  const u = plan.u;
  const sim = new Sim(makeXenModel(build === u.build ? u : { ...u, build }, tf.target.xen));
  const rcs: Rc[] = calls.map(() => null);
  const after: ((Observation | null)[] | null)[] = calls.map(() => null);
  const faults: (string | null)[] = calls.map(() => null);
  const inRace = new Set(race);
  const raceEnd = race[race.length - 1] ?? -1;
  const returned = (i: number, rc: Rc) => {
    rcs[i] = rc;
    if (sim.fault !== null && !faults.some((f) => f !== null)) faults[i] = sim.fault;
  };
  const raceOver = () => race.every((i) => rcs[i] !== null || faults[i] !== null);
  const look = (i: number) => {
    if (!inRace.has(i)) after[i] = observe(sim.s, u);
    else if (raceOver()) after[raceEnd] = observe(sim.s, u);
  };
  if (order === null) {
    for (const st of trace.steps) {
      const rc = sim.apply(sim.xm.enabled(sim.s)[st.actionIndex]!);
      const i = plan.stepCall[st.index - 1]!;
      if (calls[i]!.last === st.index || sim.faulted) {
        returned(i, rc);
        if (!sim.faulted) look(i);
      }
      if (sim.faulted) break;
    }
    // what the trace leaves in flight: each vCPU's hypercall, then each teardown, to its end
    for (const [i, c] of calls.entries()) {
      if (c.last <= trace.steps.length || sim.faulted) continue;
      returned(i, c.op === 'destroy' ? sim.relinquish(c.d) : sim.finishVcpu(trace.steps[c.first - 1]!.action.vcpu!));
    }
    if (!sim.faulted) calls.forEach((c, i) => c.last > trace.steps.length && look(i));
  } else {
    const firstRace = calls[race[0]!]!.first;
    const before = [...calls.keys()].filter((i) => !inRace.has(i) && calls[i]!.first < firstRace);
    const afterRace = [...calls.keys()].filter((i) => !inRace.has(i) && calls[i]!.first > firstRace);
    for (const i of [...before, ...order, ...afterRace]) {
      if (sim.faulted) break;
      returned(i, runWhole(sim, plan, calls[i]!));
      if (!sim.faulted) look(i);
    }
  }
  if (sim.faulted) return { rcs, after, end: null, faults, cleanupFault: null };
  // the cleanup, on a model that has its calls whatever the trace's --ops (every vCPU is idle now)
  const cm = new Sim(cleanupModel(tf, build), sim.s);
  cleanup(cm, plan);
  if (cm.faulted) return { rcs, after, end: null, faults, cleanupFault: cm.fault };
  return { rcs, after, end: observe(cm.s, u), faults, cleanupFault: null };
}

/** Every order of the racing calls as whole calls, each thread's calls in the trace's order (at most 64). */
function wholeOrders(plan: ReproducerPlan): number[][] {
  const byThread = new Map<number, number[]>();
  for (const i of plan.race) byThread.set(plan.calls[i]!.thread, [...(byThread.get(plan.calls[i]!.thread) ?? []), i]);
  const lists = [...byThread.values()];
  const out: number[][] = [];
  const walk = (pos: number[], acc: number[]) => {
    if (out.length >= 64) return;
    if (acc.length === plan.race.length) {
      out.push(acc);
      return;
    }
    lists.forEach((l, t) => {
      if (pos[t]! < l.length) walk(pos.map((p, j) => (j === t ? p + 1 : p)), [...acc, l[pos[t]!]!]);
    });
  };
  walk(lists.map(() => 0), []);
  return out;
}

function predict(tf: TraceFile, plan: ReproducerPlan): Prediction[] {
  const u = plan.u;
  const callName = (i: number) => plan.calls[i]!.text.replace(/\(.*$/, '');
  const one = (order: number[] | null): ClassRun => {
    const run = runClass(tf, plan, u.build, order);
    if (u.build === 'release' || (!run.faults.some((f) => f !== null) && run.cleanupFault === null)) return run;
    // past a debug build's fault, what a host can still show is the release build's path
    const release = runClass(tf, plan, 'release', order);
    return { ...release, faults: run.faults, cleanupFault: run.cleanupFault ?? release.cleanupFault };
  };
  const runs = [{ name: plan.race.length ? "the trace's interleaving" : 'the trace', run: one(null) }];
  for (const order of plan.race.length ? wholeOrders(plan) : []) runs.push({ name: `in sequence: ${order.map(callName).join(', ')}`, run: one(order) });
  // the race's outcome as dom0 sees it: the racing calls' return codes and the domains after them
  const raceEnd = plan.race[plan.race.length - 1];
  const outcome = (r: ClassRun) =>
    JSON.stringify([plan.race.map((i) => r.rcs[i]), raceEnd === undefined ? null : (r.after[raceEnd] ?? []).map((o) => o && [o.life, o.pages])]);
  const predictions: Prediction[] = [];
  const keys: string[] = [];
  for (const { name, run } of runs) {
    const key = outcome(run);
    const same = keys.indexOf(key);
    if (same >= 0) {
      predictions[same]!.alike.push(name.replace(/^in sequence: /, ''));
      continue;
    }
    keys.push(key);
    predictions.push({ name, ...run, signature: signature(plan, run), alike: [] });
  }
  return predictions;
}

/** What the host shows that a correct Xen never does: a failing teardown, a failed call with an effect, a domain left after the cleanup. */
function signature(plan: ReproducerPlan, r: ClassRun): string | null {
  const parts: string[] = [];
  const name = (d: number) => plan.domains[d]!.name;
  let prev: (Observation | null)[] | null = observe(plan.trace.states[0]!, plan.u);
  r.rcs.forEach((rc, i) => {
    const c = plan.calls[i]!;
    if (c.op === 'destroy' && rc !== null && rc < 0 && rc !== ESRCH) parts.push(`destroy(${name(c.d)}) fails with ${rcName(rc)}: its teardown cannot finish`);
    const now = r.after[i] ?? null;
    if (now !== null && prev !== null && rc !== null && rc < 0 && c.op !== 'destroy' && c.op !== 'none') {
      now.forEach((o, d) => {
        const p = prev![d];
        if (o && p && o.pages !== null && p.pages !== null && o.pages !== p.pages) parts.push(`step ${c.first} fails (${rcName(rc)}) yet ${name(d)}'s pages go from ${p.pages} to ${o.pages}`);
      });
    }
    prev = now;
  });
  r.end?.forEach((o, d) => {
    if (o === null || o.life === 'gone') return;
    const what = o.modelLife === 'dead' ? 'a zombie' : 'dying';
    parts.push(`${name(d)} stays ${what}${o.pages === null ? '' : ` with ${o.pages} page${o.pages === 1 ? '' : 's'}`} after every domain was destroyed`);
  });
  return parts.length ? parts.join('; ') : null;
}

// ---- notes: what the user should know before running it ----

function planNotes(tf: TraceFile, plan: ReproducerPlan): string[] {
  const notes: string[] = [];
  const u = plan.u;
  const { trace, calls } = plan;
  const trail = plan.predictions[0]!;
  notes.push(`kind ${plan.kind}: ${plan.kindWhy}`);
  if (plan.touchesDom0) {
    const steps = calls.filter((c) => c.op !== 'none' && (plan.domains[c.d]?.hardware || plan.domains[c.f]?.hardware)).map((c) => c.first);
    notes.push(`the trace acts on dom0's own p2m (step${steps.length > 1 ? 's' : ''} ${steps.join(', ')}): it needs a PVH dom0, and gfns above all of dom0's memory (the program refuses a base below dom0's highest gfn)`);
  }
  for (const c of calls) if (c.why !== null) notes.push(`step ${c.first}: ${c.why}`);
  trace.steps.forEach((st) => {
    if (st.action.op === 'populate_physmap' && st.rc === EEXIST) notes.push(`step ${st.index}: the model refuses to populate a present entry (-EEXIST) where Xen replaces the page: the host will differ there`);
    if (st.action.op === 'populate_physmap' && st.rc === ENOMEM) notes.push(`step ${st.index}: the model's frames are all in use (--spare-frames ${u.spareFrames}): a host has memory, and will populate`);
  });
  if (u.superpages) notes.push('superpages: a model superpage is two frames, a host one 512 pages (an order-9 extent at each even gfn pair): page counts are not compared');
  trail.faults.forEach((f, i) => {
    if (f === null) return;
    const rc = trail.rcs[i];
    notes.push(
      rc === null
        ? `step ${calls[i]!.first}: ${f}: the model's Xen faults here in every build: the host goes down`
        : `step ${calls[i]!.first}: ${f}: a debug hypervisor with the bug fails this check and panics (the message is on its serial console); a release one goes on and returns ${rcName(rc)}, which the program checks, with what follows from it`,
    );
  });
  if (trail.cleanupFault !== null) notes.push(`the cleanup: ${trail.cleanupFault}: a debug hypervisor fails this check while the program cleans up`);
  if (trail.signature === null) {
    notes.push(`${plan.unobservable}: the program checks that the host answers and behaves as the model says, and reports "not reproduced" with that reason`);
  } else notes.push(`what shows it on the host: ${trail.signature}`);
  if (plan.race.length && trail.alike.length) {
    notes.push(`the race's outcome is also what the calls give in sequence (${trail.alike.join('; ')}): dom0 cannot tell a hit from that order`);
  }
  return notes;
}

/** Why a property's violation is not visible to dom0 after the calls return. */
function observability(property: string): string {
  switch (property) {
    case 'no-dangling-mapping':
      return 'a mapping of a freed page lasts until the entry is written or the TLB flushed, inside the hypercall; only a guest vCPU touching the gfn then would see it';
    case 'm2p-consistent':
      return "the M2P entry of a frame whose mfn dom0 does not know";
    case 'ram-entry-owned':
    case 'foreign-entry-shape':
      return 'the owner of the frame a p2m entry maps is not something libxenctrl reports';
    case 'refcount-matches-holders':
      return 'a page\'s reference count is not something libxenctrl reports, and here no domain outlives the cleanup because of it';
    default:
      return "no return code, and no created domain's state or page count, differs from a correct Xen's (dom0's own page count is not compared: its kernel changes it too)";
  }
}
