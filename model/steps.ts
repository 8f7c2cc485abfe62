// `steps` granularity (MODEL.md §6): N vCPUs of dom0's toolstack, each with at most one hypercall in
// flight; a transition is one segment of one vCPU's hypercall, the code between two interleaving
// points (a page-reference operation, an entry write, a p2m lock taken or released).
//
// The Xen functions are the same plain functions the atomic model runs (one body per function): the
// interleaving points are where they call the page primitives through ctx.xen and the helpers of
// model/sched.ts. A suspended hypercall is data, so that a state can be encoded, decoded and
// expanded more than once: the vCPU records how many points it passed and a journal of every value
// its hypercall read from the state. To run the next segment, the hypercall runs again from its
// start: up to the point where it stopped it reads the journal and writes nothing (the earlier
// segments' effects are in the state already), then it runs for real, appending what it reads, up to
// the next point, where it stops again. Same reads, same code, same path: the replay cannot drift
// from what the earlier segments did.
import { HypervisorFault } from './fault.js';
import { muteLedger, withLedger } from './ledger.js';
import { enumerateActions, runnerOf, type Action, type Rc } from './actions.js';
import { uncounted } from './variant.js';
import { frameCount, type OpName, type Universe } from './config.js';
import type { Sched } from './sched.js';
import { byte, EncodingRangeError, typeCode } from './encode.js';
import { cloneState } from './state.js';
import { LIVES, P2M_TYPES, RELINQUISH_PHASES, type Domain, type Entry, type Frame, type P2mType, type Relinquish, type State } from './types.js';
import { XEN_RETURNS, type Ctx, type TlbFlushPolicy, type XenFunctions } from './xen.js';

/** The hypercalls that run in segments; the others (teardown, log-dirty, fault injection) run whole. */
export const SEGMENTED_OPS: ReadonlySet<OpName> = new Set<OpName>(['populate_physmap', 'decrease_reservation', 'add_to_physmap_foreign', 'remove_from_physmap']);

/** The result of a segment that does not end its hypercall (never an errno: those are negative). */
export const IN_FLIGHT = 1;

export const POINT_KINDS = ['', 'p2m_lock', 'p2m_unlock', 'write', 'get_page', 'put_page', 'page_get_owner_and_reference'] as const;
const LOCK = 1;
const UNLOCK = 2;
const WRITE = 3;
const PRIMITIVE_POINT: Record<string, number> = { getPage: 4, putPage: 5, pageGetOwnerAndReference: 6 };

/** The Xen functions by index (a point records the innermost one it stopped in). */
export const XEN_FUNCTION_NAMES: readonly string[] = Object.keys(XEN_RETURNS);

/** A TLB entry of the deferred flush: the translation may still be used. */
export const PENDING = 1;
/** ... and its frame went back to the heap since. */
export const STALE = 2;

export interface VcpuState {
  /** The hypercall in flight, as its index in the atomic action list; -1 when idle. */
  op: number;
  /** Interleaving points passed: the next segment starts at point number k. */
  k: number;
  /** What the hypercall read so far: (tag, value) byte pairs. */
  journal: number[];
  /** Where it stands: [Xen function index (255 none), point kind, detail], or null when idle. */
  at: number[] | null;
  /** The domain whose p2m lock its next segment takes (it waits while another vCPU holds it), or -1. */
  waitLock: number;
  /**
   * Per frame, the references its hypercall holds that no holder accounts for (temporary references,
   * and a put made before the write that removes its holder): counted as holders while in flight.
   */
  delta: number[];
  /**
   * What the hypercall itself has changed so far (a ghost log, model state only): per cell it wrote
   * and has not put back, the value it first overwrote, or for a count its own net delta; four bytes
   * an entry (see `noteEffect`). When the call returns, the transition properties judge the whole call
   * on the state before it with these changes undone (`undoCallEffect`).
   */
  effect: number[];
}

export interface StepsState {
  vcpus: VcpuState[];
  /** Per domain: the vCPU holding its p2m lock, or -1. */
  holder: number[];
  /** Per domain: the lock's recursion depth. */
  depth: number[];
  /** Per domain, per frame: PENDING (its TLB may still translate to the frame), | STALE. */
  tlb: number[][];
}

export function idleVcpu(frames: number): VcpuState {
  return { op: -1, k: 0, journal: [], at: null, waitLock: -1, delta: new Array<number>(frames).fill(0), effect: [] };
}

export function bootSteps(u: Universe): StepsState {
  const f = frameCount(u);
  return {
    vcpus: Array.from({ length: u.vcpus }, () => idleVcpu(f)),
    holder: u.domains.map(() => -1),
    depth: u.domains.map(() => 0),
    tlb: u.domains.map(() => new Array<number>(f).fill(0)),
  };
}

export function cloneSteps(x: StepsState): StepsState {
  return {
    vcpus: x.vcpus.map((v) => ({ op: v.op, k: v.k, journal: v.journal.slice(), at: v.at === null ? null : v.at.slice(), waitLock: v.waitLock, delta: v.delta.slice(), effect: v.effect.slice() })),
    holder: x.holder.slice(),
    depth: x.depth.slice(),
    tlb: x.tlb.map((r) => r.slice()),
  };
}

export function stepsEqual(a: StepsState, b: StepsState): boolean {
  const eq = (x: readonly number[] | null, y: readonly number[] | null) =>
    x === y || (x !== null && y !== null && x.length === y.length && x.every((v, i) => v === y[i]));
  for (let i = 0; i < a.vcpus.length; i++) {
    const x = a.vcpus[i]!;
    const y = b.vcpus[i]!;
    if (x.op !== y.op || x.k !== y.k || x.waitLock !== y.waitLock || !eq(x.journal, y.journal) || !eq(x.at, y.at) || !eq(x.delta, y.delta) || !eq(x.effect, y.effect)) return false;
  }
  return eq(a.holder, b.holder) && eq(a.depth, b.depth) && a.tlb.every((r, d) => eq(r, b.tlb[d]!));
}

// ---- the encoding of the steps part (appended to the atomic encoding) ----

/** The longest journal a hypercall may write, in values; a longer one is an encoding error. */
export const MAX_JOURNAL = 120;

/** The most cells a hypercall in flight may have changed and not put back; more is an encoding error. */
export const MAX_EFFECT = 16;

export function stepsEncodedSize(u: Universe): number {
  const f = frameCount(u);
  return u.vcpus * (2 + 1 + 1 + 2 * MAX_JOURNAL + 3 + 1 + f + 1 + 4 * MAX_EFFECT) + u.domains.length * (2 + f);
}

export function encodeSteps(x: StepsState, out: Uint8Array, at: number): void {
  let i = at;
  for (const v of x.vcpus) {
    const op = v.op + 1;
    out[i] = op >>> 8;
    out[i + 1] = op & 0xff;
    out[i + 2] = byte(v.k, 'interleaving points passed');
    if (v.journal.length > 2 * MAX_JOURNAL) throw new EncodingRangeError(`the state cannot be encoded: a hypercall in flight read more than ${MAX_JOURNAL} values`);
    out[i + 3] = v.journal.length >>> 1;
    i += 4;
    const j = v.journal;
    const jl = j.length;
    for (let k = 0; k < jl; k++) out[i + k] = j[k]!;
    out.fill(0, i + jl, i + 2 * MAX_JOURNAL);
    i += 2 * MAX_JOURNAL;
    out[i] = v.at === null ? 0 : v.at[0]!;
    out[i + 1] = v.at === null ? 0 : v.at[1]!;
    out[i + 2] = v.at === null ? 0 : v.at[2]!;
    out[i + 3] = v.waitLock + 1;
    i += 4;
    for (let m = 0; m < v.delta.length; m++) out[i + m] = byte(v.delta[m]! + 128, 'temporary references');
    i += v.delta.length;
    const e = v.effect;
    if (e.length > 4 * MAX_EFFECT) throw new EncodingRangeError(`the state cannot be encoded: a hypercall in flight changed more than ${MAX_EFFECT} cells`);
    out[i] = e.length >>> 2;
    for (let k = 0; k < e.length; k++) out[i + 1 + k] = e[k]!;
    out.fill(0, i + 1 + e.length, i + 1 + 4 * MAX_EFFECT);
    i += 1 + 4 * MAX_EFFECT;
  }
  for (let d = 0; d < x.holder.length; d++) {
    out[i] = x.holder[d]! + 1;
    out[i + 1] = byte(x.depth[d]!, 'p2m lock depth');
    i += 2;
    const r = x.tlb[d]!;
    for (let m = 0; m < r.length; m++) out[i + m] = r[m]!;
    i += r.length;
  }
}

export function decodeSteps(u: Universe, b: Uint8Array, at: number): StepsState {
  const f = frameCount(u);
  let i = at;
  const vcpus: VcpuState[] = [];
  for (let n = 0; n < u.vcpus; n++) {
    const op = ((b[i]! << 8) | b[i + 1]!) - 1;
    const k = b[i + 2]!;
    const jl = b[i + 3]! * 2;
    i += 4;
    const journal = new Array<number>(jl);
    for (let k = 0; k < jl; k++) journal[k] = b[i + k]!;
    i += 2 * MAX_JOURNAL;
    const at = op < 0 ? null : [b[i]!, b[i + 1]!, b[i + 2]!];
    const waitLock = b[i + 3]! - 1;
    i += 4;
    const delta = new Array<number>(f);
    for (let m = 0; m < f; m++) delta[m] = b[i + m]! - 128;
    i += f;
    const effect = new Array<number>(b[i]! * 4);
    for (let k = 0; k < effect.length; k++) effect[k] = b[i + 1 + k]!;
    i += 1 + 4 * MAX_EFFECT;
    vcpus.push({ op, k, journal, at, waitLock, delta, effect });
  }
  const holder: number[] = [];
  const depth: number[] = [];
  const tlb: number[][] = [];
  for (let d = 0; d < u.domains.length; d++) {
    holder.push(b[i]! - 1);
    depth.push(b[i + 1]!);
    i += 2;
    const row = new Array<number>(f);
    for (let m = 0; m < f; m++) row[m] = b[i + m]!;
    tlb.push(row);
    i += f;
  }
  return { vcpus, holder, depth, tlb };
}

// ---- footprints: which state locations a transition read and wrote (partial-order reduction) ----
//
// Two transitions enabled in one state commute when neither writes a location the other reads or
// writes: each then reads the same values in either order, so takes the same path and writes the same
// values. The locations are recorded as a segment runs (through the views of the state and the
// scheduler hooks the bodies already go through), not declared by hand: a version's or a mutant's own access pattern
// is what decides. A location is one field of a frame (owner, count, allocated, m2p), one field of a
// domain (its relinquish record is one), one p2m entry, a domain's p2m lock, one TLB slot (domain,
// frame), a vCPU's own record and apart from it whether the vCPU is busy (which is all a hypercall
// started on another vCPU reads of it), the fault, the armed allocation failures.

const FRAME_FIELDS: readonly string[] = ['owner', 'count', 'allocated', 'm2p'];
const DOMAIN_FIELDS: readonly string[] = ['life', 'logDirty', 'relinquish', 'tables', 'pool'];
const LIFE = 0;

export class Locations {
  readonly fault = 0;
  readonly armed = 1;
  private readonly frame0: number;
  private readonly domain0: number;
  private readonly entry0: number;
  private readonly lock0: number;
  private readonly tlb0: number;
  private readonly vcpu0: number;
  readonly count: number;
  /** 32-bit words per set: a footprint is `words` words of reads, then `words` words of writes. */
  readonly words: number;
  constructor(private readonly u: Universe) {
    const f = frameCount(u);
    const d = u.domains.length;
    this.frame0 = 2;
    this.domain0 = this.frame0 + f * FRAME_FIELDS.length;
    this.entry0 = this.domain0 + d * DOMAIN_FIELDS.length;
    this.lock0 = this.entry0 + d * u.gfns;
    this.tlb0 = this.lock0 + d;
    this.vcpu0 = this.tlb0 + d * f;
    this.count = this.vcpu0 + 2 * u.vcpus;
    this.words = (this.count + 31) >>> 5;
  }
  /** -1 for a field the model does not have (the caller then records everything). */
  frame(m: number, field: string | symbol): number {
    const k = typeof field === 'string' ? FRAME_FIELDS.indexOf(field) : -1;
    return k < 0 ? -1 : this.frame0 + m * FRAME_FIELDS.length + k;
  }
  domain(d: number, field: string | symbol): number {
    const k = typeof field === 'string' ? DOMAIN_FIELDS.indexOf(field) : -1;
    return k < 0 ? -1 : this.domain0 + d * DOMAIN_FIELDS.length + k;
  }
  life(d: number): number {
    return this.domain0 + d * DOMAIN_FIELDS.length + LIFE;
  }
  /** -1 past the row (the caller then records everything). */
  entry(d: number, g: number): number {
    return g >= 0 && g < this.u.gfns ? this.entry0 + d * this.u.gfns + g : -1;
  }
  lock(d: number): number {
    return this.lock0 + d;
  }
  tlb(d: number, m: number): number {
    return this.tlb0 + d * frameCount(this.u) + m;
  }
  vcpu(v: number): number {
    return this.vcpu0 + v;
  }
  /** Whether vCPU v has a hypercall in flight. */
  busy(v: number): number {
    return this.vcpu0 + this.u.vcpus + v;
  }
  /** Which cell of the state a frame, domain, entry or armed-failures location is (the inverse of the above). */
  cell(l: number): LocatedCell {
    if (l === this.armed) return { kind: 'armed' };
    if (l >= this.frame0 && l < this.domain0) return { kind: 'frame', index: Math.floor((l - this.frame0) / FRAME_FIELDS.length), field: FRAME_FIELDS[(l - this.frame0) % FRAME_FIELDS.length]! };
    if (l >= this.domain0 && l < this.entry0) return { kind: 'domain', index: Math.floor((l - this.domain0) / DOMAIN_FIELDS.length), field: DOMAIN_FIELDS[(l - this.domain0) % DOMAIN_FIELDS.length]! };
    if (l >= this.entry0 && l < this.lock0) return { kind: 'entry', index: Math.floor((l - this.entry0) / this.u.gfns), gfn: (l - this.entry0) % this.u.gfns };
    return { kind: 'other' };
  }
}

export type LocatedCell =
  | { kind: 'frame' | 'domain'; index: number; field: string }
  | { kind: 'entry'; index: number; gfn: number }
  | { kind: 'armed' }
  | { kind: 'other' };

/** What one transition touched: reads in words [0, w), writes in [w, 2w). */
export class FootprintRecorder {
  fp: Uint32Array;
  constructor(readonly loc: Locations) {
    this.fp = new Uint32Array(2 * loc.words);
  }
  /** Empty for the next transition (the same array: whoever keeps a footprint copies it). */
  reset(): void {
    this.fp.fill(0);
  }
  read(l: number): void {
    if (l < 0) return this.everything();
    this.fp[l >>> 5]! |= 1 << (l & 31);
  }
  write(l: number): void {
    if (l < 0) return this.everything();
    this.fp[this.loc.words + (l >>> 5)]! |= 1 << (l & 31);
  }
  /** A transition that may touch anything (one that runs whole): dependent on every other. */
  everything(): void {
    this.fp.fill(0xffffffff);
  }
  writes(l: number): boolean {
    return (this.fp[this.loc.words + (l >>> 5)]! & (1 << (l & 31))) !== 0;
  }
}

/** Whether two footprints (of transitions enabled in one state) commute: no write meets a read or a write of the other. */
export function independent(a: Uint32Array, b: Uint32Array): boolean {
  const w = a.length >>> 1;
  for (let i = 0; i < w; i++) {
    if ((a[w + i]! & (b[i]! | b[w + i]!)) !== 0 || (b[w + i]! & a[i]!) !== 0) return false;
  }
  return true;
}

// ---- the journal: every value a hypercall reads from the state, as (tag, value) bytes ----

const STRINGS: readonly string[] = [...LIVES, ...RELINQUISH_PHASES, 'cow'];
/** A domain's `relinquish` record is present (its fields are read one by one). */
const PRESENT = Symbol('present');

function journalPush(j: number[], v: unknown): void {
  if (v === null) j.push(1, 0);
  else if (typeof v === 'number') j.push(2, byte(v, 'a value read'));
  else if (v === false) j.push(3, 0);
  else if (v === true) j.push(4, 0);
  else if (typeof v === 'string') {
    const k = STRINGS.indexOf(v);
    if (k < 0) throw new EncodingRangeError(`the state cannot be encoded: a hypercall read "${v}"`);
    j.push(5, k);
  } else if (v === PRESENT) j.push(6, 0);
  else if (v === undefined) j.push(7, 0);
  else {
    const e = v as Entry;
    j.push(16 + typeCode(e.type) + (e.order === 1 ? 8 : 0), byte(e.mfn, 'p2m mfn'));
  }
}

function journalValue(tag: number, val: number): unknown {
  switch (tag) {
    case 1:
      return null;
    case 2:
      return val;
    case 3:
      return false;
    case 4:
      return true;
    case 5:
      return STRINGS[val];
    case 6:
      return PRESENT;
    case 7:
      return undefined;
    default: {
      const t = tag - 16;
      const type = P2M_TYPES[(t & 7) - 1] as P2mType;
      return t & 8 ? { type, mfn: val, order: 1 } : { type, mfn: val };
    }
  }
}

// ---- the call's own effect: a ghost log of what it changed and has not put back ----
//
// A transition property (failed-call-has-no-effect, m2p-consistent's transition part, a witness) judges
// a whole hypercall: the state before it and after it. A call split over segments has no such pair,
// since other vCPUs' segments run between its own. So each vCPU keeps, while its call is in flight,
// what the call itself changed: per cell, the value it first overwrote, or for a count (added to by
// other vCPUs as well) its own net delta; a cell the call puts back leaves the log. When the call
// returns, the state after it with these changes undone stands for the state before it: every other
// vCPU's changes are in both, so the pair shows exactly the call's own effect.

/** The tag of an effect entry holding a count's net delta (+128); the other entries use the journal's tags. */
const DELTA = 0;
/** The sub-cell of a location in an effect key: the field itself, or a relinquish record's phase or cursor. */
const REL_PHASE = 1;
const REL_CURSOR = 2;
/**
 * On a frame's owner location: who owned the frame when the call first changed its M2P entry (not a
 * change of the call's: a companion of that M2P change). The M2P entry the call may change is that of
 * a frame it found owned by the target (m2p-consistent's transition part), and by the time the call
 * returns the frame may have been freed and handed to another domain.
 */
const OWNER_AT_M2P = 3;
const pairScratch: number[] = [];

function notePair(v: unknown): void {
  pairScratch.length = 0;
  journalPush(pairScratch, v);
}

/** Records in `eff` that the call wrote `neu` over `old` in the cell `key` (location × 4 + sub-cell). */
function noteEffect(eff: number[], key: number, old: unknown, neu: unknown, additive: boolean): void {
  let at = -1;
  for (let i = 0; i < eff.length; i += 4) {
    if (((eff[i]! << 8) | eff[i + 1]!) === key) {
      at = i;
      break;
    }
  }
  if (additive) {
    const d = (neu as number) - (old as number);
    if (d === 0) return;
    const total = (at < 0 ? 0 : eff[at + 3]! - 128) + d;
    if (total === 0) eff.splice(at, 4);
    else if (at < 0) eff.push(key >>> 8, key & 0xff, DELTA, byte(total + 128, 'a count changed by one hypercall'));
    else eff[at + 3] = byte(total + 128, 'a count changed by one hypercall');
    return;
  }
  notePair(neu);
  const nt = pairScratch[0]!;
  const nv = pairScratch[1]!;
  if (at >= 0) {
    if (eff[at + 2] === nt && eff[at + 3] === nv) eff.splice(at, 4); // put back as it was
    return;
  }
  notePair(old);
  if (pairScratch[0] === nt && pairScratch[1] === nv) return; // the same value again
  eff.push(key >>> 8, key & 0xff, pairScratch[0]!, pairScratch[1]!);
}

/**
 * The state before a hypercall as far as the call is concerned, judged at the transition `pre` →
 * `post` (segment `a` of vCPU a.vcpu) that ends it: `post` with the call's own changes undone. Every
 * other vCPU's changes are in both, so the pair shows exactly what the call did. Its changes are the
 * effect log in `pre` and the last segment's own (`post` differs from `pre` only by them), with one
 * exception the log knows and a diff does not: a free that the call's put of its own temporary
 * reference performed for others (Segment.enterFree). So when the last segment freed a frame it is run
 * again to read its log; otherwise `pre` with its log undone is the same state. `pre` itself for a
 * call that changed nothing before its last segment and freed nothing in it (one that runs whole,
 * or returns in the segment it started in).
 */
export function callPre(u: Universe, xen: XenFunctions, pre: State, a: Action, post: State): State {
  const eff = pre.steps?.vcpus[a.vcpu!]?.effect;
  if (eff === undefined || !SEGMENTED_OPS.has(a.op)) return pre;
  if (!freedAFrame(pre, post)) return eff.length === 0 ? pre : undoCallEffect(locationsOf(u), pre, eff);
  const runner = judgingRunner(u, xen);
  const again = cloneState(pre);
  withLedger(null, () => uncounted(() => runner.run(again, a)));
  return undoCallEffect(locationsOf(u), post, runner.lastCallEffect() ?? []);
}

function freedAFrame(pre: State, post: State): boolean {
  for (let m = 0; m < pre.frames.length; m++) if (pre.frames[m]!.owner !== null && post.frames[m]!.owner === null) return true;
  return false;
}

/** A runner of its own for callPre's runs (the exploration's runner is in the middle of its own). */
const judgingRunners = new WeakMap<XenFunctions, WeakMap<Universe, StepsRunner>>();
function judgingRunner(u: Universe, xen: XenFunctions): StepsRunner {
  let byU = judgingRunners.get(xen);
  if (byU === undefined) judgingRunners.set(xen, (byU = new WeakMap()));
  let r = byU.get(u);
  if (r === undefined) byU.set(u, (r = stepsRunner(u, xen, enumerateActions(u))));
  return r;
}

const locationsByUniverse = new WeakMap<Universe, Locations>();
function locationsOf(u: Universe): Locations {
  let l = locationsByUniverse.get(u);
  if (l === undefined) locationsByUniverse.set(u, (l = new Locations(u)));
  return l;
}

/** `s` with the changes of an effect log undone. */
function undoCallEffect(loc: Locations, s0: State, eff: readonly number[]): State {
  const s = cloneState(s0);
  // a frame's owner when its M2P changed first (the call's own change of the owner, if any, wins);
  // a relinquish record is put back before its fields
  for (const pass of [OWNER_AT_M2P, 0, REL_PHASE]) {
    for (let i = 0; i < eff.length; i += 4) {
      const key = (eff[i]! << 8) | eff[i + 1]!;
      const sub = key & 3;
      if (pass === OWNER_AT_M2P ? sub !== OWNER_AT_M2P : pass === 0 ? sub !== 0 : sub !== REL_PHASE && sub !== REL_CURSOR) continue;
      const delta = eff[i + 3]! - 128;
      const value = eff[i + 2] === DELTA ? undefined : journalValue(eff[i + 2]!, eff[i + 3]!);
      const c = loc.cell(key >>> 2);
      if (c.kind === 'frame') {
        const f = s.frames[c.index]! as unknown as Record<string, unknown>;
        if (c.field === 'count') f.count = (f.count as number) - delta;
        else f[c.field] = value; // OWNER_AT_M2P is on the owner's location: the owner then
      } else if (c.kind === 'domain') {
        const dom = s.domains[c.index]!;
        if (c.field !== 'relinquish') (dom as unknown as Record<string, unknown>)[c.field] = value;
        else if (sub === 0) dom.relinquish = value === null ? null : (dom.relinquish ?? { phase: 'done', cursor: 0 });
        else if (sub === REL_PHASE) dom.relinquish!.phase = value as Relinquish['phase'];
        else if (sub === REL_CURSOR) dom.relinquish!.cursor = value as number;
      } else if (c.kind === 'entry') {
        s.p2m[c.index]![c.gfn] = value as Entry | null;
      } else if (c.kind === 'armed') {
        s.armedFailures -= delta;
      }
    }
  }
  return s;
}

const SUSPEND = { suspend: true };

/** One segment of one vCPU's hypercall: the scheduler the bodies see as ctx.sched. */
class Segment implements Sched {
  /** Points met so far in this run of the hypercall. */
  private n = 0;
  /** Past the point where the previous segment stopped: reads and writes are real. */
  live = false;
  private jpos = 0;
  /** This hypercall's own lock depth per domain (replayed as well: it is a function of the path). */
  private readonly locks: number[];
  readonly fns: number[] = [];
  /** The state as the hypercall sees it (made once: its views read the segment's current state). */
  readonly view: State;
  /** The state the segment runs on, its vCPU and that vCPU's record (set by `begin`). */
  raw!: State;
  private v = -1;
  private vc!: VcpuState;

  constructor(
    domains: number,
    /** When this version's write on this backend flushes the translation it removed. */
    private readonly flush: TlbFlushPolicy,
    /** What this segment touches, past the replay (the replay reads the journal, not the state). */
    readonly fp: FootprintRecorder,
    frames: number,
  ) {
    this.locks = new Array<number>(domains).fill(0);
    this.view = new StateView(this, frames, domains) as unknown as State;
  }

  /** Starts the next segment of vCPU v's hypercall on `raw` (one Segment serves every run: no garbage). */
  begin(raw: State, v: number, vc: VcpuState): void {
    this.raw = raw;
    this.v = v;
    this.vc = vc;
    this.n = 0;
    this.jpos = 0;
    this.locks.fill(0);
    this.fns.length = 0;
    this.freeingOwed = 0;
    this.live = vc.k === 0;
    muteLedger(!this.live);
  }

  /** A read past the replay: recorded in the footprint and the journal. */
  record<T>(loc: number, v: T): T {
    this.fp.read(loc);
    journalPush(this.vc.journal, v);
    return v;
  }

  /** A read while replaying: the value the journal kept. */
  replayed<T>(): T {
    const j = this.vc.journal;
    if (this.jpos >= j.length) throw new Error('steps: a replayed hypercall read more than it did before (its code is not deterministic)');
    const v = journalValue(j[this.jpos]!, j[this.jpos + 1]!) as T;
    this.jpos += 2;
    return v;
  }

  point(kind: number, detail: number): void {
    this.n += 1;
    if (this.n < this.vc.k) return;
    if (this.n === this.vc.k) {
      if (this.jpos !== this.vc.journal.length) throw new Error('steps: a replayed hypercall read less than it did before (its code is not deterministic)');
      this.live = true;
      muteLedger(false);
      return;
    }
    const fn = this.fns.length === 0 ? 255 : this.fns[this.fns.length - 1]!;
    this.vc.k = this.n;
    this.vc.at = [fn, kind, detail & 0xff];
    this.vc.waitLock = kind === LOCK ? detail : -1;
    throw SUSPEND;
  }

  /** A write through the views of the state (a dropped one while replaying). */
  wrote(loc: number): void {
    if (this.live) this.fp.write(loc);
  }

  /** Keeps `key` = `value` in the effect log while the change `of` is there (first value kept), and drops it when it goes. */
  companion(key: number, value: unknown, of: number): void {
    if (this.freeingOwed !== 0) return;
    const eff = this.vc.effect;
    const has = (k: number) => {
      for (let i = 0; i < eff.length; i += 4) if (((eff[i]! << 8) | eff[i + 1]!) === k) return i;
      return -1;
    };
    const at = has(key);
    if (has(of) < 0) {
      if (at >= 0) eff.splice(at, 4);
    } else if (at < 0) {
      notePair(value);
      eff.push(key >>> 8, key & 0xff, pairScratch[0]!, pairScratch[1]!);
    }
  }

  /** A live write of `neu` over `old` in cell `key`, for the call's effect log. */
  changed(key: number, old: unknown, neu: unknown, additive: boolean): void {
    if (this.freeingOwed === 0) noteEffect(this.vc.effect, key, old, neu, additive);
  }

  /**
   * Inside free_domheap_page(mfn) run by a put of this call's own temporary reference (the call's net
   * count on the frame is 0): the free, and the final destroy it may complete, is what the others who
   * dropped their references owed, deferred to whoever held the last one. Not the call's own effect.
   */
  private freeingOwed = 0;
  /** Entering free_domheap_page(mfn): whether it is owed to others (then leave with `leaveOwedFree`). */
  enterFree(mfn: number): boolean {
    if (!this.live) return false;
    const key = this.fp.loc.frame(mfn, 'count') * 4;
    const eff = this.vc.effect;
    for (let i = 0; i < eff.length; i += 4) if (((eff[i]! << 8) | eff[i + 1]!) === key) return false;
    this.freeingOwed += 1;
    return true;
  }
  leaveOwedFree(): void {
    this.freeingOwed -= 1;
  }

  lock(d: number): void {
    const st = this.raw.steps!;
    const loc = this.fp.loc.lock(d);
    if (this.locks[d]! > 0) {
      this.locks[d]! += 1;
      if (this.live) {
        st.depth[d]! += 1;
        this.fp.write(loc);
      }
      return;
    }
    this.point(LOCK, d);
    this.locks[d] = 1;
    if (!this.live) return;
    this.fp.read(loc);
    this.fp.write(loc);
    if (st.holder[d] !== -1) throw new Error(`steps: vCPU ${this.v} took the p2m lock of domain ${d}, held by vCPU ${st.holder[d]}`);
    st.holder[d] = this.v;
    st.depth[d] = 1;
  }

  unlock(d: number): void {
    const st = this.raw.steps!;
    const loc = this.fp.loc;
    if (this.locks[d]! > 1) {
      this.locks[d]! -= 1;
      if (this.live) {
        st.depth[d]! -= 1;
        this.fp.write(loc.lock(d));
      }
      return;
    }
    this.point(UNLOCK, d);
    this.locks[d] = 0;
    if (!this.live) return;
    this.fp.write(loc.lock(d));
    for (let m = 0; m < st.tlb[d]!.length; m++) this.fp.write(loc.tlb(d, m));
    st.holder[d] = -1;
    st.depth[d] = 0;
    st.tlb[d]!.fill(0); // p2m_unlock → the deferred flush (p2m_unlock_and_tlb_flush)
  }

  beforeWrite(d: number, gfn: number): void {
    this.point(WRITE, d * 8 + gfn);
  }

  afterWrite(d: number, old: Entry | null, neu: Entry | null): void {
    if (!this.live || old === null || (neu !== null && neu.mfn === old.mfn)) return;
    // A write that flushes itself leaves nothing pending (Xen 4.4 and 4.5's ept_sync_domain, 4.19's
    // hap_write_p2m_entry_post); a deferred one (p2m->defer_flush) waits for the outermost p2m_unlock.
    if (this.flush.at === 'unlock' && this.locks[d]! > 0) {
      this.raw.steps!.tlb[d]![old.mfn] = PENDING;
      this.fp.write(this.fp.loc.tlb(d, old.mfn));
    }
  }

  freed(mfn: number): void {
    if (!this.live) return;
    const tlb = this.raw.steps!.tlb;
    for (let d = 0; d < tlb.length; d++) {
      const l = this.fp.loc.tlb(d, mfn);
      this.fp.read(l);
      this.fp.write(l);
      if (tlb[d]![mfn]! & PENDING) tlb[d]![mfn] = PENDING | STALE;
    }
  }

  allocated(mfn: number): void {
    // alloc_heap_pages' flush reaches a pending guest translation on EPT only (TlbFlushPolicy)
    if (!this.live || !this.flush.allocatorFlushReaches) return;
    const tlb = this.raw.steps!.tlb;
    for (let d = 0; d < tlb.length; d++) {
      this.fp.write(this.fp.loc.tlb(d, mfn));
      tlb[d]![mfn] = 0;
    }
  }

  /** The hypercall returned (or faulted): whether it still holds a p2m lock. */
  holdsLock(): boolean {
    return this.locks.some((x) => x > 0);
  }
}

// ---- the state as a hypercall in steps sees it: reads journaled, writes dropped while replaying ----

/**
 * The state as a hypercall in steps sees it: its frames, domains and p2m rows as frozen arrays of
 * views (a hypercall that replaces a whole frame, domain or row throws), the armed failures journaled.
 */
class StateView {
  readonly frames: readonly FrameView[];
  readonly domains: readonly DomainView[];
  readonly p2m: readonly unknown[];
  constructor(
    private readonly seg: Segment,
    frames: number,
    domains: number,
  ) {
    this.frames = Object.freeze(Array.from({ length: frames }, (_, m) => new FrameView(seg, m)));
    this.domains = Object.freeze(Array.from({ length: domains }, (_, d) => new DomainView(seg, d)));
    this.p2m = Object.freeze(Array.from({ length: domains }, (_, d) => rowProxy(seg, d)));
  }
  private get raw(): State {
    return this.seg.raw;
  }
  get armedFailures(): number {
    const seg = this.seg;
    return seg.live ? seg.record(seg.fp.loc.armed, this.raw.armedFailures) : seg.replayed();
  }
  set armedFailures(v: number) {
    const seg = this.seg;
    seg.wrote(seg.fp.loc.armed);
    if (!seg.live) return;
    seg.changed(seg.fp.loc.armed * 4, this.raw.armedFailures, v, true);
    this.raw.armedFailures = v;
  }
  get fault(): State['fault'] {
    return this.raw.fault;
  }
  set fault(v: State['fault']) {
    this.seg.wrote(this.seg.fp.loc.fault);
    if (this.seg.live) this.raw.fault = v;
  }
  get steps(): State['steps'] {
    return this.raw.steps;
  }
}

/** An array index as a proxy trap sees it ("3"), or -1 for any other key. */
function indexKey(p: string | symbol): number {
  if (typeof p !== 'string') return -1;
  const c = p.charCodeAt(0);
  if (c < 48 || c > 57) return -1;
  if (p.length === 1) return c - 48;
  const i = Number(p);
  return Number.isInteger(i) && p === String(i) ? i : -1;
}

// A frame, a domain and a domain's relinquish record as a hypercall in steps sees them: each field an
// accessor that journals and records its reads, and drops its writes while replaying. (Accessors, not
// proxies: V8 inlines them, and these are the reads of every segment.) A field the model does not have
// reads undefined, as from the plain records' prototypes.

/** A record of fields at consecutive locations from `at`: field k reads and writes location at + k. */
abstract class FieldsView {
  constructor(
    protected readonly seg: Segment,
    private readonly at: number,
  ) {}
  protected get raw(): State {
    return this.seg.raw;
  }
  /** Field k's value: read from the state (`v`) past the replay, from the journal while replaying. */
  protected get(k: number, v: () => unknown): never {
    return (this.seg.live ? this.seg.record(this.at + k, v()) : this.seg.replayed()) as never;
  }
  /** A write of `neu` over `old` in field k: whether to make it (not while replaying). */
  protected put(k: number, old: unknown, neu: unknown, additive = false): boolean {
    const seg = this.seg;
    seg.wrote(this.at + k);
    if (!seg.live) return false;
    seg.changed((this.at + k) * 4, old, neu, additive);
    return true;
  }
}

class FrameView extends FieldsView {
  constructor(
    seg: Segment,
    private readonly m: number,
  ) {
    super(seg, seg.fp.loc.frame(m, 'owner'));
  }
  get owner(): Frame['owner'] {
    return this.get(0, () => this.raw.frames[this.m]!.owner);
  }
  set owner(v: Frame['owner']) {
    const f = this.raw.frames[this.m]!;
    if (this.put(0, f.owner, v)) f.owner = v;
  }
  get count(): number {
    return this.get(1, () => this.raw.frames[this.m]!.count);
  }
  set count(v: number) {
    const f = this.raw.frames[this.m]!;
    if (this.put(1, f.count, v, true)) f.count = v;
  }
  get allocated(): boolean {
    return this.get(2, () => this.raw.frames[this.m]!.allocated);
  }
  set allocated(v: boolean) {
    const f = this.raw.frames[this.m]!;
    if (this.put(2, f.allocated, v)) f.allocated = v;
  }
  get m2p(): number | null {
    return this.get(3, () => this.raw.frames[this.m]!.m2p);
  }
  set m2p(v: number | null) {
    const f = this.raw.frames[this.m]!;
    const seg = this.seg;
    const ownerKey = seg.fp.loc.frame(this.m, 'owner') * 4 + OWNER_AT_M2P;
    const owner = f.owner;
    if (!this.put(3, f.m2p, v)) return;
    f.m2p = v;
    seg.companion(ownerKey, owner, seg.fp.loc.frame(this.m, 'm2p') * 4);
  }
}

class RelinquishView {
  constructor(
    private readonly seg: Segment,
    private readonly d: number,
    private readonly at: number,
  ) {}
  private get raw(): State {
    return this.seg.raw;
  }
  get phase(): Relinquish['phase'] {
    return (this.seg.live ? this.seg.record(this.at, this.raw.domains[this.d]!.relinquish!.phase) : this.seg.replayed()) as Relinquish['phase'];
  }
  set phase(v: Relinquish['phase']) {
    this.seg.wrote(this.at);
    if (!this.seg.live) return;
    const r = this.raw.domains[this.d]!.relinquish!;
    this.seg.changed(this.at * 4 + REL_PHASE, r.phase, v, false);
    r.phase = v;
  }
  get cursor(): number {
    return (this.seg.live ? this.seg.record(this.at, this.raw.domains[this.d]!.relinquish!.cursor) : this.seg.replayed()) as number;
  }
  set cursor(v: number) {
    this.seg.wrote(this.at);
    if (!this.seg.live) return;
    const r = this.raw.domains[this.d]!.relinquish!;
    this.seg.changed(this.at * 4 + REL_CURSOR, r.cursor, v, false);
    r.cursor = v;
  }
}

class DomainView extends FieldsView {
  private rel: RelinquishView | null = null;
  private readonly relAt: number;
  constructor(
    seg: Segment,
    private readonly d: number,
  ) {
    super(seg, seg.fp.loc.domain(d, 'life'));
    this.relAt = seg.fp.loc.domain(d, 'relinquish');
  }
  private dom(): Domain {
    return this.raw.domains[this.d]!;
  }
  get life(): Domain['life'] {
    return this.get(0, () => this.dom().life);
  }
  set life(v: Domain['life']) {
    if (this.put(0, this.dom().life, v)) this.dom().life = v;
  }
  get logDirty(): boolean {
    return this.get(1, () => this.dom().logDirty);
  }
  set logDirty(v: boolean) {
    if (this.put(1, this.dom().logDirty, v)) this.dom().logDirty = v;
  }
  /** Whether there is a record is read (and journaled) here; its fields one by one. */
  get relinquish(): Relinquish | null {
    const present = this.get(2, () => (this.dom().relinquish === null ? null : PRESENT)) as unknown;
    if (present === null) return null;
    return (this.rel ??= new RelinquishView(this.seg, this.d, this.relAt)) as unknown as Relinquish;
  }
  set relinquish(v: Relinquish | null) {
    const old = this.dom().relinquish;
    if (!this.put(2, old === null ? null : PRESENT, v === null ? null : PRESENT)) return;
    if (old !== null) {
      // the record's fields go with it: keep what they were, to put them back
      this.seg.changed(this.relAt * 4 + REL_PHASE, old.phase, v?.phase, false);
      this.seg.changed(this.relAt * 4 + REL_CURSOR, old.cursor, v?.cursor, false);
    }
    this.dom().relinquish = v === null ? null : { phase: v.phase, cursor: v.cursor };
  }
  get tables(): boolean {
    return this.get(3, () => this.dom().tables);
  }
  set tables(v: boolean) {
    if (this.put(3, this.dom().tables, v)) this.dom().tables = v;
  }
  get pool(): boolean {
    return this.get(4, () => this.dom().pool);
  }
  set pool(v: boolean) {
    if (this.put(4, this.dom().pool, v)) this.dom().pool = v;
  }
}

/** p2m[d] as a hypercall in steps sees it: each entry read journaled, each write dropped while replaying. */
function rowProxy(seg: Segment, d: number): unknown {
  const loc = seg.fp.loc;
  // the target is a stand-in: the row read is the segment's current state's
  return new Proxy([], {
    get(_t, p, receiver) {
      const row = seg.raw.p2m[d]!;
      const i = indexKey(p);
      if (i >= 0) return seg.live ? seg.record(loc.entry(d, i), row[i]) : seg.replayed();
      return Reflect.get(row, p, receiver);
    },
    set(_t, p, v) {
      const i = indexKey(p);
      const l = i >= 0 ? loc.entry(d, i) : -1;
      seg.wrote(l);
      if (!seg.live) return true;
      const row = seg.raw.p2m[d]!;
      if (l >= 0) seg.changed(l * 4, row[i], v, false);
      Reflect.set(row, p, v);
      return true;
    },
  });
}

// ---- the function table of steps: points before the page primitives, the function stack ----

/** The table with an interleaving point before each page-reference operation, and each function named on a stack. */
export function steppedTable(xen: XenFunctions): XenFunctions {
  const out: Record<string, unknown> = { ...xen };
  XEN_FUNCTION_NAMES.forEach((name, index) => {
    const fn = (xen as unknown as Record<string, unknown>)[name];
    if (typeof fn !== 'function') return;
    const kind = PRIMITIVE_POINT[name];
    const frees = name === 'freeDomheapPage';
    // fixed arity (at most ctx and five arguments, as in XenFunctions): a rest parameter would cost an
    // array per call on the hot path
    const f = fn as (ctx: Ctx, a: unknown, b: unknown, c: unknown, d: unknown, e: unknown) => unknown;
    if (fn.length > 6) throw new Error(`steps: ${name} takes more than five arguments after ctx`);
    out[name] = Object.assign(
      (ctx: Ctx, a: unknown, b: unknown, c: unknown, d: unknown, e: unknown) => {
        const seg = ctx.sched as Segment | undefined;
        if (seg === undefined) return f(ctx, a, b, c, d, e);
        if (kind !== undefined) seg.point(kind, typeof b === 'number' ? b : 255);
        // no try/finally: a segment that throws (a suspension, a fault) is over, and `begin` empties
        // the stack for the next one
        const fns = seg.fns;
        const depth = fns.length;
        fns.push(index);
        const owed = frees && seg.enterFree(b as number);
        const r = f(ctx, a, b, c, d, e);
        if (owed) seg.leaveOwedFree();
        fns.length = depth;
        return r;
      },
      { implementation: (fn as { implementation?: string }).implementation ?? fn.name },
    );
  });
  return out as unknown as XenFunctions;
}

// ---- one transition ----

/** Per frame: count minus the holders the invariants see (the allocation reference, foreign entries of p2ms that exist). */
function excess(s: State, out: number[]): void {
  for (let m = 0; m < s.frames.length; m++) {
    const f = s.frames[m]!;
    out[m] = f.count - (f.allocated ? 1 : 0);
  }
  for (let d = 0; d < s.p2m.length; d++) {
    if (s.domains[d]!.life === 'destroyed') continue;
    for (const e of s.p2m[d]!) if (e !== null && e.type === 'map_foreign') out[e.mfn]! -= 1;
  }
}

export interface StepsRunner {
  /** Runs the next segment of `a.vcpu` (its hypercall `a`) on `s`, which already is a copy. */
  run(s: State, a: Action): Rc;
  /** The actions enabled in `s`. */
  enabled(s: State): Action[];
  /** Per vCPU, every hypercall bound to that vCPU, in the atomic order. */
  readonly perVcpu: readonly (readonly Action[])[];
  /** How many transition identities there are: vCPUs × hypercalls. */
  readonly transitions: number;
  /**
   * The identity of `a` across states: (vCPU, hypercall). In any state a vCPU has either its
   * hypercall in flight (one transition, its next segment) or none (one per hypercall it may start),
   * so the same identity in two states is the same code from the same point.
   */
  transitionId(a: Action): number;
  /** The locations the last `run` read and wrote (the same array, refilled by each run). */
  footprint(): Uint32Array;
  /** The effect log of the call the last `run` ended (null: it did not end one, or ran whole). */
  lastCallEffect(): readonly number[] | null;
}

export function stepsRunner(u: Universe, xen: XenFunctions, atomicActions: readonly Action[]): StepsRunner {
  const table = steppedTable(xen);
  const index = new Map<Action, number>();
  const perVcpu = Array.from({ length: u.vcpus }, (_, v) =>
    atomicActions.map((a, i) => {
      const b = { ...a, vcpu: v } as Action;
      index.set(b, i);
      return b;
    }),
  );
  const segmented = atomicActions.map((a) => SEGMENTED_OPS.has(a.op));
  const plainCtx: Ctx = { u, xen };
  const before = new Array<number>(frameCount(u)).fill(0);
  const after = new Array<number>(frameCount(u)).fill(0);
  const none: Action[] = [];
  const loc = new Locations(u);
  const rec = new FootprintRecorder(loc);
  const seg = new Segment(u.domains.length, xen.tlbFlush[u.backend], rec, frameCount(u));
  // one segment object serves every run, so one context does too
  const ctx: Ctx = { u, xen: table, sched: seg };

  function enabled(s: State): Action[] {
    if (s.fault !== null) return none;
    const st = s.steps!;
    const anyHeld = st.holder.some((h) => h !== -1);
    const out: Action[] = [];
    let idleSeen = false;
    for (let v = 0; v < st.vcpus.length; v++) {
      const vc = st.vcpus[v]!;
      const acts = perVcpu[v]!;
      if (vc.op >= 0) {
        if (vc.waitLock < 0 || st.holder[vc.waitLock] === -1) out.push(acts[vc.op]!);
        continue;
      }
      // Idle vCPUs are interchangeable (an idle vCPU has no state of its own): only the first one
      // starts a hypercall. Any run can rename its vCPUs so that it does, without changing a state
      // but for the names, nor any depth.
      if (idleSeen) continue;
      idleSeen = true;
      // a hypercall that runs whole touches what it touches at once: no other vCPU may be inside a p2m lock
      for (let i = 0; i < acts.length; i++) if (segmented[i] || !anyHeld) out.push(acts[i]!);
    }
    return out;
  }

  /** An action's index among the hypercalls: by identity, or for another runner's action by its fields. */
  function indexOf(a: Action): number {
    const i = index.get(a);
    if (i !== undefined) return i;
    const { vcpu: _v, ...call } = a;
    const key = JSON.stringify(call);
    const j = atomicActions.findIndex((b) => JSON.stringify(b) === key);
    if (j < 0) throw new Error(`steps: no hypercall ${key} in this universe`);
    return j;
  }

  let lastEffect: number[] | null = null;

  function run(s: State, a: Action): Rc {
    lastEffect = null;
    const v = a.vcpu!;
    const i = indexOf(a);
    const st = s.steps!;
    const vc = st.vcpus[v]!;
    rec.reset();
    // what `enabled` read to offer `a`: the fault, the vCPU itself, and for a hypercall started on an
    // idle vCPU, that every vCPU before it is busy (only the first idle one starts hypercalls)
    rec.read(loc.fault);
    rec.read(loc.busy(v));
    rec.read(loc.vcpu(v));
    rec.write(loc.vcpu(v));
    if (vc.op < 0) {
      rec.write(loc.busy(v));
      for (let w = 0; w < v; w++) rec.read(loc.busy(w));
    }
    if (!segmented[i]) {
      rec.everything(); // runs whole, outside the views: it may touch anything
      try {
        return runnerOf(atomicActions[i]!)(plainCtx, s);
      } catch (e) {
        if (e instanceof HypervisorFault) {
          s.fault = e.fault;
          return null;
        }
        throw e;
      }
    }
    if (vc.op < 0) {
      vc.op = i;
      vc.k = 0;
      vc.journal = [];
      vc.effect = [];
    }
    excess(s, before);
    seg.begin(s, v, vc);
    let rc: Rc;
    let done = false;
    try {
      rc = runnerOf(atomicActions[i]!)(ctx, seg.view);
      done = true;
    } catch (e) {
      if (e === SUSPEND) rc = IN_FLIGHT;
      else if (e instanceof HypervisorFault) {
        s.fault = e.fault;
        rec.write(loc.fault);
        rc = null;
      } else throw e;
    } finally {
      muteLedger(false);
    }
    // The vCPU's own delta (below) is a function of what the segment wrote (counts, allocation
    // flags, entries), and of the life of the domains whose entries it wrote (a destroyed domain's
    // entries hold nothing): read that too; a segment that changes a domain's life reads its entries.
    for (let d = 0; d < u.domains.length; d++) {
      let entryWritten = false;
      for (let g = 0; g < u.gfns; g++) if (rec.writes(loc.entry(d, g))) entryWritten = true;
      if (entryWritten) rec.read(loc.life(d));
      if (rec.writes(loc.life(d))) for (let g = 0; g < u.gfns; g++) rec.read(loc.entry(d, g));
    }
    if (done) {
      rec.write(loc.busy(v)); // idle again (if it started in this segment, it was written above)
      if (seg.holdsLock()) throw new Error(`steps: ${atomicActions[i]!.op} returned holding a p2m lock`);
      vc.op = -1;
      vc.k = 0;
      vc.journal = [];
      vc.at = null;
      vc.waitLock = -1;
      vc.delta.fill(0);
      lastEffect = vc.effect;
      vc.effect = [];
    } else {
      excess(s, after);
      for (let m = 0; m < before.length; m++) vc.delta[m]! += after[m]! - before[m]!;
    }
    return rc;
  }

  const hypercalls = atomicActions.length;
  return {
    run,
    enabled,
    perVcpu,
    transitions: u.vcpus * hypercalls,
    transitionId: (a) => a.vcpu! * hypercalls + index.get(a)!,
    footprint: () => rec.fp,
    lastCallEffect: () => lastEffect,
  };
}

/** "p2mRemoveForeign: before put_page(frame 3)": where a vCPU stands. */
export function describeAt(u: Universe, at: readonly number[] | null): string {
  if (at === null) return 'idle';
  const [fn, kind, detail] = at as [number, number, number];
  const where = fn === 255 ? 'the hypercall' : XEN_FUNCTION_NAMES[fn] ?? `function #${fn}`;
  const what = POINT_KINDS[kind] ?? `point #${kind}`;
  const arg =
    kind === LOCK || kind === UNLOCK
      ? `dom${u.domains[detail]?.id ?? detail}`
      : kind === WRITE
        ? `p2m[dom${u.domains[detail >> 3]?.id ?? detail >> 3}][${detail & 7}]`
        : detail === 255
          ? 'NULL'
          : `frame ${detail}`;
  return `${where}: before ${what}(${arg})`;
}
