// The one expansion routine: every successor of one state, in action order, with the properties
// judged on it. The single-threaded explorer and the worker threads both expand through it; what
// they do with a successor (insert it into the visited set, or keep it as a candidate for the
// partition owners) is the sink's business.
//
// Per successor, in this order: step, encode, self-loop test, the transition parts of invariants and
// witnesses, then (not a self-loop) fingerprint and hand to the sink; when the sink says the state is
// new here, the state parts. Each property is reported at most once per expander: its first finding in
// (parent, action) order, which is the one a single thread keeps.
//
// States are stepped by the model's encoded stepper when it has one (the state is its encoding: no
// decoding, no copy before a step, no encoding after it, and a step that wrote nothing is a self-loop
// without a comparison), else through decode, step and encode.
import { fingerprint } from './fingerprint.js';
import type { EncodedStepper, EngineInvariant, EngineWitness, Model, Reduction } from './model.js';
import { FootprintTable, type SleepSet, type SleepSource } from './sleep.js';

/** Action indices are stored in 16 bits. */
export const MAX_ACTIONS = 0xffff;

export interface ExpansionSink {
  /**
   * A successor that differs from its parent. `enc` is its encoding (overwritten after the call).
   * Returns true when the state is new here: its state properties are then checked. `sleep`: with
   * sleep sets, where to ask for the transitions the successor need not take (checker/engine/sleep.ts):
   * computed only when asked, during the call.
   */
  successor(hi: number, lo: number, parent: number, action: number, enc: Uint8Array, sleep: SleepSource | null): boolean;
  /** The first violation of invariant `k` (its index in the model's invariants). */
  violation(k: number, parent: number, action: number, message: string, transition: boolean): void;
  /** The first time witness `k` holds. */
  witness(k: number, parent: number, action: number, transition: boolean): void;
}

/**
 * A step that threw (the model's code, or a value it made that cannot be encoded): the state being
 * expanded and the action, so that the explorer can say which path of actions led to it.
 */
export class StepError extends Error {
  override name = 'StepError';
  constructor(
    readonly parentId: number,
    /** The action index, or -1 when the state itself failed (decoding, its actions). */
    readonly action: number,
    override readonly cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

/** Where an expander is, in shared memory, for a watchdog to read when a step never returns. */
export const WATCH_PARENT = 0;
export const WATCH_ACTION = 1;
/** 1 while a task runs (a slice, a level). */
export const WATCH_BUSY = 2;
/** On one thread (which alone has the trace links): the parent's path length, then its actions. */
export const WATCH_DEPTH = 3;
export const WATCH_PATH = 4;
/** Room for a path of up to 60 actions (a deeper one is not written: WATCH_DEPTH says -1). */
export const WATCH_SLOTS = 64;

export function newWatch(): Int32Array {
  const w = new Int32Array(new SharedArrayBuffer(WATCH_SLOTS * 4));
  w[WATCH_PARENT] = -1;
  w[WATCH_ACTION] = -1;
  w[WATCH_DEPTH] = -1;
  return w;
}

/** Where a watched expander was: the path to the state it expanded, and the action it stepped. */
export function watchedStep(w: Int32Array): { parent: number; action: number; path: number[] | null } {
  const depth = w[WATCH_DEPTH]!;
  return {
    parent: w[WATCH_PARENT]!,
    action: w[WATCH_ACTION]!,
    path: depth < 0 ? null : Array.from(w.subarray(WATCH_PATH, WATCH_PATH + depth)),
  };
}

/** Writes the path of the state about to be expanded (one thread, which has the links). */
export function watchPath(w: Int32Array, path: readonly number[]): void {
  if (path.length > WATCH_SLOTS - WATCH_PATH) {
    w[WATCH_DEPTH] = -1;
    return;
  }
  for (let i = 0; i < path.length; i++) w[WATCH_PATH + i] = path[i]!;
  w[WATCH_DEPTH] = path.length;
}

/** A step that threw, as it crosses threads: the path of actions that led to it, and the error. */
export interface StepFailure {
  /** Action indices from the initial state `root`, the failing action last (when known). */
  path: number[];
  root: number;
  /** Whether the last action of `path` is the one that threw (else the state itself failed). */
  inAction: boolean;
  name: string;
  message: string;
  stack: string;
}

/** A step of the model threw: which path led to it, and what it threw. */
export class ModelStepError extends Error {
  override name = 'ModelStepError';
  constructor(readonly failure: StepFailure) {
    super(failure.message);
  }
}

export function stepFailure(e: StepError, path: number[], root: number): StepFailure {
  const c = e.cause;
  const err = c instanceof Error ? c : null;
  return {
    path: e.action >= 0 ? [...path, e.action] : path,
    root,
    inAction: e.action >= 0,
    name: err?.name ?? 'Error',
    message: err?.message ?? String(c),
    stack: err?.stack ?? String(c),
  };
}

interface Indexed<T> {
  p: T;
  k: number;
}

export class Expander<S, A, R> implements SleepSource {
  /** Per invariant (model order): already found, by this expander or before it. */
  readonly invDone: boolean[];
  /** Per witness (model order): already reached. */
  readonly witDone: boolean[];
  /** Successors computed (self-loops and failing calls included). */
  generated = 0;
  private readonly stride: number;
  private readonly scratch: Uint8Array;
  private readonly fp = new Uint32Array(2);
  private readonly stepper: EncodedStepper<S, A, R>;
  /** With symmetry, the canonical encoding (else null: the stepper's encoding is the identity). */
  private readonly canonical: ((s: S, out: Uint8Array) => void) | null;
  private readonly transInv: Indexed<EngineInvariant<S, A, R>>[];
  private readonly transWit: Indexed<EngineWitness<S, A, R>>[];
  private readonly stateInv: Indexed<EngineInvariant<S, A, R>>[];
  private readonly stateWit: Indexed<EngineWitness<S, A, R>>[];
  /** Shared memory a watchdog reads (WATCH_PARENT, WATCH_ACTION), or null. */
  watch: Int32Array | null = null;
  /** With sleep sets: the model's reduction interface, and the footprints by number. */
  private readonly reduction: Reduction<A> | null;
  private readonly footprints: FootprintTable | null;
  /** Transitions not stepped because they slept. */
  pruned = 0;
  /** The sleeping and the already expanded transitions of the state being expanded: (id, footprint) pairs. */
  private prior: number[] = [];
  /** Per transition id, 1 while it sleeps in the state being expanded. */
  private readonly asleep: Uint8Array | null;
  /** For the successor just made: the prior pairs before it, and its footprint's number. */
  private childFrom = 0;
  private childFootprint = -1;

  /** The child set being made (reused: what `sleep` returns is valid until its next call). */
  private readonly kept: number[] = [];

  /** The sleep set of the successor just handed to the sink (with sleep sets on), as (id, footprint) pairs. */
  sleep(): readonly number[] {
    const { prior, childFrom, kept } = this;
    const mine = this.footprints!.get(this.childFootprint);
    const independent = this.reduction!.independent;
    kept.length = 0;
    for (let k = 0; k < childFrom; k += 2) {
      if (independent(this.footprints!.get(prior[k + 1]!), mine)) kept.push(prior[k]!, prior[k + 1]!);
    }
    return kept;
  }

  /** `done`: names already violated or reached (at an earlier level). */
  constructor(
    private readonly model: Model<S, A, R>,
    symmetry: boolean,
    done: (name: string) => boolean = () => false,
    sleepSets = false,
  ) {
    this.reduction = sleepSets ? (model.reduction ?? null) : null;
    this.footprints = this.reduction === null ? null : new FootprintTable();
    this.asleep = this.reduction === null ? null : new Uint8Array(this.reduction.transitions);
    this.stride = model.encodedSize;
    this.scratch = new Uint8Array(this.stride);
    this.canonical = symmetry ? identityEncoder(model, true) : null;
    this.stepper = model.encodedStepper?.() ?? new PlainStepper(model);
    this.invDone = model.invariants.map((i) => done(i.name));
    this.witDone = model.witnesses.map((w) => done(w.name));
    const indexed = <T>(xs: readonly T[]) => xs.map((p, k) => ({ p, k }));
    this.transInv = indexed(model.invariants).filter(({ p }) => p.transition);
    this.stateInv = indexed(model.invariants).filter(({ p }) => p.state);
    this.transWit = indexed(model.witnesses).filter(({ p }) => p.transition);
    this.stateWit = indexed(model.witnesses).filter(({ p }) => p.state);
  }

  /** With sleep sets: this expander's footprints by number (its sleep sets name them). */
  footprintTable(): FootprintTable {
    return this.footprints!;
  }

  /** Whether sleep sets are on: the sink is then given each successor's sleep set. */
  get reducing(): boolean {
    return this.reduction !== null;
  }

  /** Expands the state with id `parentId` and encoding `parentEnc` (which sleeps on `sleep`). */
  expand(parentId: number, parentEnc: Uint8Array, sink: ExpansionSink, sleep: SleepSet = null): void {
    // the model's code may throw (a user's variant): say which state and action
    try {
      this.expandFrom(parentId, parentEnc, sink, sleep);
      if (sleep !== null) for (let k = 0; k < sleep.length; k += 2) this.asleep![sleep[k]!] = 0;
    } catch (e) {
      throw e instanceof StepError ? e : new StepError(parentId, this.current, e);
    }
  }

  /** The action index being stepped (-1 before the first). */
  private current = -1;

  private expandFrom(parentId: number, parentEnc: Uint8Array, sink: ExpansionSink, sleep: SleepSet): void {
    const { model, stride, scratch, fp, invDone, witDone, transInv, transWit, stateInv, stateWit, watch, stepper, canonical, reduction, footprints } = this;
    this.current = -1;
    if (watch !== null) watch[WATCH_PARENT] = parentId;
    const s = stepper.load(parentEnc);
    const acts = enabledActions(model, s);
    const prior = this.prior;
    prior.length = 0;
    const asleep = this.asleep;
    if (sleep !== null) {
      for (let k = 0; k < sleep.length; k++) prior.push(sleep[k]!);
      for (let k = 0; k < sleep.length; k += 2) asleep![sleep[k]!] = 1;
    }
    for (let ai = 0; ai < acts.length; ai++) {
      const a = acts[ai]!;
      this.current = ai;
      if (watch !== null) watch[WATCH_ACTION] = ai;
      let transition = -1;
      if (reduction !== null) {
        transition = reduction.transitionId(a);
        if (sleep !== null && asleep![transition] === 1) {
          this.pruned += 1;
          continue;
        }
      }
      const result = stepper.step(a, ai);
      if (reduction !== null) {
        // the successor's sleep set, if the sink asks for it (a new state, or one of this level
        // reached again): what slept here and what was expanded before `a`, independent of `a`
        this.childFrom = prior.length;
        this.childFootprint = footprints!.intern(reduction.footprint());
        prior.push(transition, this.childFootprint);
      }
      const n = stepper.state();
      this.generated += 1;
      let enc = parentEnc;
      let unchanged = true;
      if (stepper.wrote()) {
        if (canonical === null) enc = stepper.encoding();
        else canonical(n, (enc = scratch));
        unchanged = sameBytes(enc, parentEnc, stride);
      }
      for (let t = 0; t < transInv.length; t++) {
        const { p, k } = transInv[t]!;
        if (invDone[k]) continue;
        const msg = p.transition!(s, a, result, n, unchanged);
        if (msg !== null) {
          invDone[k] = true;
          sink.violation(k, parentId, ai, msg, true);
        }
      }
      for (let t = 0; t < transWit.length; t++) {
        const { p, k } = transWit[t]!;
        if (!witDone[k] && p.transition!(s, a, result, n)) {
          witDone[k] = true;
          sink.witness(k, parentId, ai, true);
        }
      }
      if (unchanged) continue; // a self-loop: already visited
      fingerprint(enc, stride, fp);
      if (!sink.successor(fp[0]!, fp[1]!, parentId, ai, enc, reduction === null ? null : this)) continue;
      for (let t = 0; t < stateInv.length; t++) {
        const { p, k } = stateInv[t]!;
        if (invDone[k]) continue;
        const msg = p.state!(n);
        if (msg !== null) {
          invDone[k] = true;
          sink.violation(k, parentId, ai, msg, false);
        }
      }
      for (let t = 0; t < stateWit.length; t++) {
        const { p, k } = stateWit[t]!;
        if (!witDone[k] && p.state!(n)) {
          witDone[k] = true;
          sink.witness(k, parentId, ai, false);
        }
      }
    }
  }
}

/** A model without an encoded stepper is stepped through decode, step and encode. */
class PlainStepper<S, A, R> implements EncodedStepper<S, A, R> {
  private s: S | null = null;
  private next: S | null = null;
  private readonly out: Uint8Array;
  constructor(private readonly model: Model<S, A, R>) {
    this.out = new Uint8Array(model.encodedSize);
  }
  load(enc: Uint8Array): S {
    return (this.s = this.model.decode(enc));
  }
  step(a: A): R {
    const { next, result } = this.model.step(this.s!, a);
    this.next = next;
    return result;
  }
  state(): S {
    return this.next!;
  }
  encoding(): Uint8Array {
    this.model.encode(this.next!, this.out);
    return this.out;
  }
  wrote(): boolean {
    return true;
  }
}

/** How states are identified: their encoding, or with symmetry their class's canonical encoding. */
export function identityEncoder<S, A, R>(model: Model<S, A, R>, symmetry: boolean): (s: S, out: Uint8Array) => void {
  if (!symmetry) return (s, out) => model.encode(s, out);
  const canon = model.canonicalEncode;
  if (!canon) throw new Error('this model has no canonical encoding: symmetry reduction is not available');
  return (s, out) => canon.call(model, s, out);
}

/** The actions of `s`, refusing more than action indices can hold (16 bits). */
export function enabledActions<S, A, R>(model: Model<S, A, R>, s: S): readonly A[] {
  const acts = model.actions(s);
  if (acts.length > MAX_ACTIONS) throw new RangeError(`a state has ${acts.length} actions; action indices are 16-bit (at most ${MAX_ACTIONS})`);
  return acts;
}

/** Whether the first n bytes agree (a successor equal to its parent is a self-loop). */
export function sameBytes(a: Uint8Array, b: Uint8Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}
