// The explorer's hot path: states held in their canonical encoding (model/encode.ts), with the same
// Xen functions running on them unchanged. A frame, a domain, its teardown progress, the fault and the
// armed failures are views whose properties read and write the encoding's bytes; p2m rows stay arrays
// of entries (an entry is never changed in place, only replaced, so a row is compared by reference).
//
// Why: a step on plain objects costs a copy of the state before it and a full encoding after it, and
// most steps are failing calls that change nothing. Here the copy is a byte copy, made only after a
// step that wrote; the encoding is the state itself; a step that wrote nothing is known to be a
// self-loop without comparing anything.
//
// The plain-object route (`applyInto` + `encodeState`) stays the reference: any exception in a step
// here (a value that does not fit its byte, a bug) re-runs the step there, so that what is thrown, and
// when, is exactly what the reference does (a count may pass 255 and come back within one step).
// test/encoded.test.ts checks both routes agree on every transition of bounded explorations.
import { runCompiled, runnerOf, type Action, type Rc, type Runner } from './actions.js';
import { frameCount, type Universe } from './config.js';
import { decodeState, encodedSize, encodeState, faultCode, faultKindOf, lifeCode, phaseCode, typeCode, byte, LOG_DIRTY, NO_POOL, NO_TABLES, SUPERPAGE } from './encode.js';
import { copyStateInto } from './state.js';
import { LIVES, P2M_TYPES, RELINQUISH_PHASES, type Domain, type Entry, type Fault, type Frame, type Life, type Owner, type Relinquish, type RelinquishPhase, type State } from './types.js';
import type { Ctx } from './xen.js';

/** Writes byte `i` of `b`; a change sets the dirty byte `dirty` (the one after the encoding). */
function put(b: Uint8Array, i: number, v: number, dirty: number): void {
  if (b[i] !== v) {
    b[i] = v;
    b[dirty] = 1;
  }
}

class FrameView implements Frame {
  readonly #b: Uint8Array;
  readonly #i: number;
  readonly #dirty: number;
  constructor(b: Uint8Array, i: number, dirty: number) {
    this.#b = b;
    this.#i = i;
    this.#dirty = dirty;
  }
  get owner(): Owner {
    const v = this.#b[this.#i]!;
    return v === 0 ? null : v === 1 ? 'cow' : v - 2;
  }
  set owner(o: Owner) {
    put(this.#b, this.#i, o === null ? 0 : o === 'cow' ? 1 : byte(o + 2, 'frame owner'), this.#dirty);
  }
  get count(): number {
    return this.#b[this.#i + 1]!;
  }
  set count(c: number) {
    put(this.#b, this.#i + 1, byte(c, 'frame count'), this.#dirty);
  }
  get allocated(): boolean {
    return this.#b[this.#i + 2] === 1;
  }
  set allocated(a: boolean) {
    put(this.#b, this.#i + 2, a ? 1 : 0, this.#dirty);
  }
  get m2p(): number | null {
    const v = this.#b[this.#i + 3]!;
    return v === 0 ? null : v - 1;
  }
  set m2p(g: number | null) {
    put(this.#b, this.#i + 3, g === null ? 0 : byte(g + 1, 'm2p gfn'), this.#dirty);
  }
  toJSON(): Frame {
    return { owner: this.owner, count: this.count, allocated: this.allocated, m2p: this.m2p };
  }
}

/** A domain's teardown progress (phase byte 0: none, see DomainView.relinquish). */
class RelinquishView implements Relinquish {
  readonly #b: Uint8Array;
  readonly #i: number;
  readonly #dirty: number;
  constructor(b: Uint8Array, i: number, dirty: number) {
    this.#b = b;
    this.#i = i;
    this.#dirty = dirty;
  }
  get phase(): RelinquishPhase {
    return RELINQUISH_PHASES[this.#b[this.#i]! - 1]!;
  }
  set phase(p: RelinquishPhase) {
    put(this.#b, this.#i, phaseCode(p), this.#dirty);
  }
  get cursor(): number {
    return this.#b[this.#i + 1]!;
  }
  set cursor(c: number) {
    put(this.#b, this.#i + 1, byte(c, 'relinquish cursor'), this.#dirty);
  }
  toJSON(): Relinquish {
    return { phase: this.phase, cursor: this.cursor };
  }
}

class DomainView implements Domain {
  readonly #r: RelinquishView;
  readonly #b: Uint8Array;
  readonly #i: number;
  readonly #dirty: number;
  constructor(b: Uint8Array, i: number, dirty: number) {
    this.#b = b;
    this.#i = i;
    this.#dirty = dirty;
    this.#r = new RelinquishView(b, i + 2, dirty);
  }
  get life(): Life {
    return LIVES[this.#b[this.#i]!]!;
  }
  set life(l: Life) {
    put(this.#b, this.#i, lifeCode(l), this.#dirty);
  }
  #flag(bit: number, on: boolean): void {
    const f = this.#b[this.#i + 1]!;
    put(this.#b, this.#i + 1, on ? f | bit : f & ~bit, this.#dirty);
  }
  get logDirty(): boolean {
    return (this.#b[this.#i + 1]! & LOG_DIRTY) !== 0;
  }
  set logDirty(v: boolean) {
    this.#flag(LOG_DIRTY, v);
  }
  get tables(): boolean {
    return (this.#b[this.#i + 1]! & NO_TABLES) === 0;
  }
  set tables(v: boolean) {
    this.#flag(NO_TABLES, !v);
  }
  get pool(): boolean {
    return (this.#b[this.#i + 1]! & NO_POOL) === 0;
  }
  set pool(v: boolean) {
    this.#flag(NO_POOL, !v);
  }
  get relinquish(): Relinquish | null {
    return this.#b[this.#i + 2] === 0 ? null : this.#r;
  }
  set relinquish(r: Relinquish | null) {
    // both read before either is written: `r` may be this domain's own view
    const phase = r === null ? 0 : phaseCode(r.phase);
    const cursor = r === null ? 0 : byte(r.cursor, 'relinquish cursor');
    put(this.#b, this.#i + 2, phase, this.#dirty);
    put(this.#b, this.#i + 3, cursor, this.#dirty);
  }
  toJSON(): Domain {
    const r = this.relinquish;
    return { life: this.life, logDirty: this.logDirty, relinquish: r === null ? null : { phase: r.phase, cursor: r.cursor }, tables: this.tables, pool: this.pool };
  }
}

/** Interned, frozen entries and faults: reading a state's bytes allocates nothing. */
class Interned {
  private readonly entries = new Map<number, Entry>();
  private readonly faults = new Map<number, Fault>();
  entry(t: number, mfn: number): Entry | null {
    if (t === 0) return null;
    const key = t * 256 + mfn;
    let e = this.entries.get(key);
    if (e === undefined) {
      const type = P2M_TYPES[(t & ~SUPERPAGE) - 1]!;
      e = Object.freeze(t & SUPERPAGE ? { type, mfn, order: 1 as const } : { type, mfn });
      this.entries.set(key, e);
    }
    return e;
  }
  fault(k: number, frame: number): Fault | null {
    if (k === 0) return null;
    const key = k * 256 + frame;
    let f = this.faults.get(key);
    if (f === undefined) {
      f = Object.freeze({ kind: faultKindOf(k), frame: frame === 0 ? null : frame - 1 });
      this.faults.set(key, f);
    }
    return f;
  }
}

/**
 * A state whose frames, domains, fault and armed failures live in `b` (its encoding). Views are read
 * and written as plain states are (JSON.stringify too); only a spread copies nothing, so a view never
 * reaches code that spreads a state (a user's variant runs on plain objects).
 */
class StateView implements State {
  readonly frames: Frame[];
  readonly domains: Domain[];
  readonly p2m: (Entry | null)[][];
  readonly #b: Uint8Array;
  readonly #dirty: number;
  readonly #interned: Interned;
  /** Where the fault and the armed failures are. */
  readonly #f: number;
  constructor(u: Universe, b: Uint8Array, dirty: number, interned: Interned) {
    const nf = frameCount(u);
    const nd = u.domains.length;
    this.frames = Array.from({ length: nf }, (_, m) => new FrameView(b, m * 4, dirty));
    this.domains = Array.from({ length: nd }, (_, d) => new DomainView(b, nf * 4 + d * 4, dirty));
    // packed arrays, as decodeState makes them (a holey one would make every row access polymorphic)
    this.p2m = Array.from({ length: nd }, () => Array.from({ length: u.gfns }, (): Entry | null => null));
    this.#b = b;
    this.#dirty = dirty;
    this.#interned = interned;
    this.#f = nf * 4 + nd * 4 + nd * u.gfns * 2;
  }
  // the fault's code in two bytes (high, low: model/encode.ts faultCode), its frame, then the armed failures
  get fault(): Fault | null {
    const b = this.#b;
    return this.#interned.fault(b[this.#f]! * 256 + b[this.#f + 1]!, b[this.#f + 2]!);
  }
  set fault(x: Fault | null) {
    const k = x === null ? 0 : faultCode(x.kind);
    const frame = x === null || x.frame === null ? 0 : byte(x.frame + 1, 'fault frame');
    put(this.#b, this.#f, k >>> 8, this.#dirty);
    put(this.#b, this.#f + 1, k & 0xff, this.#dirty);
    put(this.#b, this.#f + 2, frame, this.#dirty);
  }
  get armedFailures(): number {
    return this.#b[this.#f + 3]!;
  }
  set armedFailures(n: number) {
    put(this.#b, this.#f + 3, byte(n, 'armed allocation failures'), this.#dirty);
  }
  toJSON(): State {
    return { frames: this.frames, domains: this.domains, p2m: this.p2m, armedFailures: this.armedFailures, fault: this.fault };
  }
}

/**
 * Steps the states of one universe on their encodings. `load` a state's encoding, then `step` it by
 * each action in turn: each step starts again from the loaded state.
 */
export class EncodedStepper {
  readonly size: number;
  /** The loaded state and the successor: their bytes, then a dirty byte. */
  private readonly pb: Uint8Array;
  private readonly sb: Uint8Array;
  private readonly parent: StateView;
  private readonly next: StateView;
  /** The p2m part of the encoding: where it starts, gfns per domain. */
  private readonly p2mAt: number;
  private readonly gfns: number;
  /** Whether the successor's rows differ from the parent's, or the reference route made it. */
  private rowsDirty = false;
  /** The reference route, for a step that threw here: the parent decoded, a scratch state. */
  private plainParent: State | null = null;
  private plainNext: State | null = null;
  /** The state the last step made: `next`, or after a rerun the reference route's scratch. */
  private made: State;

  /** The runners of the actions by index: a lookup by action object is a WeakMap's (runnerOf). */
  private readonly runners: Runner[];

  /** `actions`: the model's action list, whose indices `step` is given. */
  constructor(
    private readonly ctx: Ctx,
    private readonly actions: readonly Action[] = [],
  ) {
    this.runners = actions.map(runnerOf);
    const u = ctx.u;
    this.size = encodedSize(u);
    this.pb = new Uint8Array(this.size + 1);
    this.sb = new Uint8Array(this.size + 1);
    const interned = new Interned();
    this.parent = new StateView(u, this.pb, this.size, interned);
    this.next = new StateView(u, this.sb, this.size, interned);
    this.interned = interned;
    this.p2mAt = frameCount(u) * 4 + u.domains.length * 4;
    this.gfns = u.gfns;
    this.made = this.next;
    this.enc = this.sb.subarray(0, this.size);
  }
  private readonly interned: Interned;
  private readonly enc: Uint8Array;

  /** Loads the state to expand; the state returned is valid until the next load. */
  load(enc: Uint8Array): State {
    const { pb, sb, size, interned, gfns } = this;
    for (let i = 0; i < size; i++) pb[i] = enc[i]!;
    sb.set(pb);
    const prow = this.parent.p2m;
    const nrow = this.next.p2m;
    let i = this.p2mAt;
    for (let d = 0; d < prow.length; d++) {
      const pr = prow[d]!;
      const nr = nrow[d]!;
      for (let g = 0; g < gfns; g++, i += 2) nr[g] = pr[g] = interned.entry(pb[i]!, pb[i + 1]!);
    }
    this.rowsDirty = false;
    this.plainParent = null;
    return this.parent;
  }

  /**
   * Runs `a` (of index `index` in the action list, when given) on the loaded state. Returns the result; the successor is `state()` and its encoding
   * `encoding()`, both valid until the next step. `wrote()` false: the successor is the loaded state.
   */
  step(a: Action, index = -1): Rc {
    const { sb, size } = this;
    if (sb[size] !== 0 || this.rowsDirty) this.reset();
    const runner = this.actions[index] === a ? this.runners[index]! : runnerOf(a);
    let rc: Rc;
    try {
      rc = runCompiled(this.ctx, this.next, runner);
      this.syncRows();
    } catch {
      return this.rerun(a);
    }
    this.made = this.next;
    return rc;
  }

  /** The successor of the last step. */
  state(): State {
    return this.made;
  }

  /** Its encoding (this stepper's buffer: copy it to keep it). */
  encoding(): Uint8Array {
    return this.enc;
  }

  /** Whether the last step changed a byte (false: a self-loop for sure; true: compare to know). */
  wrote(): boolean {
    return this.sb[this.size] !== 0;
  }

  /** The successor starts again as the loaded state. */
  private reset(): void {
    this.sb.set(this.pb);
    const prow = this.parent.p2m;
    const nrow = this.next.p2m;
    for (let d = 0; d < prow.length; d++) {
      const pr = prow[d]!;
      const nr = nrow[d]!;
      for (let g = 0; g < pr.length; g++) nr[g] = pr[g]!;
    }
    this.rowsDirty = false;
  }

  /** Writes the entries the step replaced into the encoding (an entry is replaced, never changed). */
  private syncRows(): void {
    const { sb, size, gfns } = this;
    const prow = this.parent.p2m;
    const nrow = this.next.p2m;
    let i = this.p2mAt;
    for (let d = 0; d < prow.length; d++) {
      const pr = prow[d]!;
      const nr = nrow[d]!;
      if (nr.length !== gfns) throw new RangeError('a p2m row changed length');
      for (let g = 0; g < gfns; g++, i += 2) {
        const e = nr[g]!;
        if (e === pr[g]) continue;
        this.rowsDirty = true;
        if (e === null) {
          put(sb, i, 0, size);
          put(sb, i + 1, 0, size);
        } else {
          put(sb, i, e.order === 1 ? typeCode(e.type) + SUPERPAGE : typeCode(e.type), size);
          put(sb, i + 1, byte(e.mfn, 'p2m mfn'), size);
        }
      }
    }
    if (prow.length !== nrow.length) throw new RangeError('the p2m changed shape');
  }

  /**
   * The step threw here: it runs again on plain objects, as the reference route runs it, and is
   * encoded as that route encodes it (an exception there is the step's own).
   */
  private rerun(a: Action): Rc {
    const u = this.ctx.u;
    this.reset();
    this.plainParent ??= decodeState(u, this.pb);
    this.plainNext ??= decodeState(u, this.pb);
    copyStateInto(this.plainNext, this.plainParent);
    const rc = runCompiled(this.ctx, this.plainNext, runnerOf(a));
    encodeState(this.plainNext, this.sb);
    // the successor's bytes differ from the loaded state's as far as `reset` knows
    this.sb[this.size] = 1;
    this.rowsDirty = true;
    this.made = this.plainNext;
    return rc;
  }
}
