// The visited set: an open-addressing hash table of 64-bit fingerprints in typed arrays. A state is
// an id (its discovery order); per id we keep its parent's id and the action index that reached it,
// which is all a trace needs (traces are rebuilt by replaying action indices). The table holds
// fingerprints only (8 bytes a slot, load at most 3/4); the links cost 6 bytes per state. In exact
// mode the table holds ids instead, and the full encodings are kept and compared.

import { fingerprint } from './fingerprint.js';

const MAX_LOAD = 0.75;
/** (0, 0) marks an empty slot: that one fingerprint is stored with this high half instead. */
const EMPTY_ALIAS = 0x9e3779b9;

/** Per state: the parent's id and the action index that reached it (-1 parent: an initial state). */
export class TraceLinks {
  private parents: Int32Array;
  private actionIdx: Uint16Array;
  size = 0;

  constructor(initialCapacity = 1 << 12) {
    const cap = Math.max(16, initialCapacity);
    this.parents = new Int32Array(cap);
    this.actionIdx = new Uint16Array(cap);
  }

  get capacity(): number {
    return this.parents.length;
  }

  /** Appends a state; returns its id. */
  add(parent: number, action: number): number {
    const id = this.size;
    // 1.5x: the links are 6 bytes a state, kept within a third of that in slack
    if (id === this.parents.length) this.reserve(Math.ceil(id * 1.5));
    this.parents[id] = parent;
    this.actionIdx[id] = action;
    this.size = id + 1;
    return id;
  }

  /** Makes room for `n` states in all, without growing again on the way. */
  reserve(n: number): void {
    if (n <= this.parents.length) return;
    this.parents = grow(this.parents, new Int32Array(n));
    this.actionIdx = grow(this.actionIdx, new Uint16Array(n));
  }

  parent(id: number): number {
    return this.parents[id]!;
  }

  action(id: number): number {
    return this.actionIdx[id]!;
  }

  /** The action-index path from the initial state to `id` (not including the initial state). */
  path(id: number): number[] {
    const out: number[] = [];
    let cur = id;
    while (this.parents[cur]! >= 0) {
      out.push(this.actionIdx[cur]!);
      cur = this.parents[cur]!;
    }
    return out.reverse();
  }

  /** The index, among the model's initial states, of the one `id` descends from. */
  root(id: number): number {
    let cur = id;
    while (this.parents[cur]! >= 0) cur = this.parents[cur]!;
    return this.actionIdx[cur]!;
  }

  bytes(): number {
    return this.parents.byteLength + this.actionIdx.byteLength;
  }

  /** The links of ids 0..size-1 (views, for a checkpoint). */
  saved(): { parents: Int32Array; actions: Uint16Array } {
    return { parents: this.parents.subarray(0, this.size), actions: this.actionIdx.subarray(0, this.size) };
  }

  /** Replaces the links by saved ones (an empty set's, on resuming). */
  restore(parents: Int32Array, actions: Uint16Array): void {
    if (parents.length !== actions.length) throw new Error('internal: parents and actions of different lengths');
    // the capacity adding them one by one would have reached (so that bytes() says the same)
    let cap = this.parents.length;
    while (cap < parents.length) cap = Math.ceil(cap * 1.5);
    this.parents = new Int32Array(cap);
    this.actionIdx = new Uint16Array(cap);
    this.parents.set(parents);
    this.actionIdx.set(actions);
    this.size = parents.length;
  }
}

/**
 * A set of 64-bit fingerprints (hi, lo interleaved in one typed array), growing at load 3/4. With
 * `shared`, the table lives in shared memory; another thread may take it over (`over`), as the
 * parallel explorer's partition owners do.
 */
export class FingerprintSet {
  fps: Uint32Array;
  mask: number;
  used = 0;

  constructor(
    capacity = 1 << 10,
    readonly shared = false,
  ) {
    const slots = ceilPow2(Math.ceil(Math.max(16, capacity) / MAX_LOAD));
    this.fps = newTable(slots * 2, shared);
    this.mask = slots - 1;
  }

  /** A set over an existing table (e.g. a shared one made by another thread). */
  static over(fps: Uint32Array, used: number, shared: boolean): FingerprintSet {
    const s = new FingerprintSet(16, shared);
    s.fps = fps;
    s.mask = fps.length / 2 - 1;
    s.used = used;
    return s;
  }

  /** Adds a fingerprint unless present; false when it was there. */
  add(hi: number, lo: number): boolean {
    if (!addFingerprint(this.fps, this.mask, hi, lo)) return false;
    this.used += 1;
    if (this.used > (this.mask + 1) * MAX_LOAD) this.resize((this.mask + 1) * 2);
    return true;
  }

  has(hi: number, lo: number): boolean {
    return hasFingerprint(this.fps, this.mask, hi, lo);
  }

  /** Makes room for `n` fingerprints in all, so that adding them rehashes at most once, now. */
  reserve(n: number): void {
    const slots = ceilPow2(Math.ceil(n / MAX_LOAD));
    if (slots > this.mask + 1) this.resize(slots);
  }

  /** Empties the set, keeping its capacity. */
  clear(): void {
    if (this.used > 0) this.fps.fill(0);
    this.used = 0;
  }

  bytes(): number {
    return this.fps.byteLength;
  }

  /** Calls back with the fingerprints held (hi, lo pairs), `max` pairs at most at a time, in table order. */
  forEachChunk(max: number, each: (pairs: Uint32Array) => void): void {
    const out = new Uint32Array(2 * Math.max(1, Math.min(max, this.used)));
    let n = 0;
    const fps = this.fps;
    for (let s = 0; s < fps.length; s += 2) {
      const h = fps[s]!;
      const l = fps[s + 1]!;
      if (h === 0 && l === 0) continue;
      out[n++] = h;
      out[n++] = l;
      if (n === out.length) {
        each(out);
        n = 0;
      }
    }
    if (n > 0) each(out.subarray(0, n));
  }

  private resize(slots: number): void {
    const old = this.fps;
    const fps = newTable(slots * 2, this.shared);
    const mask = slots - 1;
    for (let s = 0; s < old.length; s += 2) {
      const h = old[s]!;
      const l = old[s + 1]!;
      if (h === 0 && l === 0) continue;
      let slot = l & mask;
      while (fps[2 * slot] !== 0 || fps[2 * slot + 1] !== 0) slot = (slot + 1) & mask;
      fps[2 * slot] = h;
      fps[2 * slot + 1] = l;
    }
    this.fps = fps;
    this.mask = mask;
  }
}

/** What every visited set answers from its trace links: ids, parents, paths and roots. */
export abstract class LinkedStates {
  constructor(readonly links: TraceLinks) {}

  get size(): number {
    return this.links.size;
  }

  parent(id: number): number {
    return this.links.parent(id);
  }

  action(id: number): number {
    return this.links.action(id);
  }

  /** The action-index path from the initial state to `id` (not including the initial state). */
  path(id: number): number[] {
    return this.links.path(id);
  }

  /** The index, among the model's initial states, of the one `id` descends from. */
  root(id: number): number {
    return this.links.root(id);
  }
}

export class VisitedSet extends LinkedStates {
  /** Fingerprint mode: the fingerprints. */
  private table: FingerprintSet | null;
  /** Exact mode: slot → id + 1 (0: empty). */
  private ids: Int32Array | null;
  private idMask: number;
  private encodings: Uint8Array | null;

  constructor(
    readonly stride: number,
    readonly exact: boolean,
    initialCapacity = 1 << 12,
  ) {
    const cap = Math.max(16, initialCapacity);
    super(new TraceLinks(cap));
    this.table = exact ? null : new FingerprintSet(cap);
    const slots = ceilPow2(Math.ceil(cap / MAX_LOAD));
    this.idMask = slots - 1;
    this.ids = exact ? new Int32Array(slots) : null;
    this.encodings = exact ? new Uint8Array(cap * stride) : null;
  }

  /**
   * Adds a state unless present. Returns its new id, or -1 when it was already there.
   * `enc` is needed in exact mode only.
   */
  insert(hi: number, lo: number, parent: number, action: number, enc: Uint8Array | null): number {
    if (this.table === null) return this.insertExact(lo, parent, action, enc!);
    if (!this.table.add(hi, lo)) return -1;
    return this.links.add(parent, action);
  }

  /** Fingerprint mode: the table (for a checkpoint). */
  fingerprintTable(): FingerprintSet | null {
    return this.table;
  }

  /** Exact mode: the encodings of ids 0..size-1 (for a checkpoint). */
  savedEncodings(): Uint8Array | null {
    return this.encodings === null ? null : this.encodings.subarray(0, this.size * this.stride);
  }

  /**
   * Fills an empty set with saved states: their links, and their fingerprints (hi, lo pairs) or in
   * exact mode their encodings in id order.
   */
  restore(fingerprints: Uint32Array | null, encodings: Uint8Array | null, parents: Int32Array, actions: Uint16Array): void {
    if (this.size !== 0) throw new Error('internal: restoring into a visited set that is not empty');
    const n = parents.length;
    this.links.restore(parents, actions);
    if (this.table !== null) {
      if (fingerprints === null || fingerprints.length !== 2 * n) throw new Error('internal: a fingerprint per state is needed');
      this.table.reserve(n);
      for (let i = 0; i < fingerprints.length; i += 2) this.table.add(fingerprints[i]!, fingerprints[i + 1]!);
      return;
    }
    if (encodings === null || encodings.length !== n * this.stride) throw new Error('internal: an encoding per state is needed');
    this.encodings = new Uint8Array(this.links.capacity * this.stride);
    this.encodings.set(encodings);
    const slots = Math.max(this.idMask + 1, ceilPow2(Math.ceil(n / MAX_LOAD)));
    this.idMask = slots - 1;
    const ids = (this.ids = new Int32Array(slots));
    for (let id = 0; id < n; id++) {
      let slot = exactHashLo(encodings.subarray(id * this.stride, (id + 1) * this.stride)) & this.idMask;
      while (ids[slot] !== 0) slot = (slot + 1) & this.idMask;
      ids[slot] = id + 1;
    }
  }

  /** Whether a fingerprint is present (fingerprint mode). */
  has(hi: number, lo: number): boolean {
    return this.table!.has(hi, lo);
  }

  private insertExact(lo: number, parent: number, action: number, enc: Uint8Array): number {
    const ids = this.ids!;
    let slot = lo & this.idMask;
    for (;;) {
      const v = ids[slot]!;
      if (v === 0) break;
      if (this.sameEncoding(v - 1, enc)) return -1;
      slot = (slot + 1) & this.idMask;
    }
    const id = this.links.add(parent, action);
    if (this.links.capacity * this.stride > this.encodings!.length) {
      this.encodings = grow(this.encodings!, new Uint8Array(this.links.capacity * this.stride));
    }
    ids[slot] = id + 1;
    this.encodings!.set(enc.subarray(0, this.stride), id * this.stride);
    // grow only once the new state is complete: the rehash reads its encoding
    if (this.size > (this.idMask + 1) * MAX_LOAD) this.growIdTable();
    return id;
  }

  /** Bytes held by the structures (typed arrays at their current capacity). */
  bytes(): number {
    return (this.table?.bytes() ?? 0) + (this.ids?.byteLength ?? 0) + this.links.bytes() + (this.encodings?.byteLength ?? 0);
  }

  private sameEncoding(id: number, enc: Uint8Array): boolean {
    const e = this.encodings!;
    const base = id * this.stride;
    for (let i = 0; i < this.stride; i++) if (e[base + i] !== enc[i]) return false;
    return true;
  }

  private growIdTable(): void {
    const slots = (this.idMask + 1) * 2;
    const mask = slots - 1;
    const ids = new Int32Array(slots);
    for (let id = 0; id < this.size; id++) {
      const enc = this.encodings!.subarray(id * this.stride, (id + 1) * this.stride);
      let slot = exactHashLo(enc) & mask;
      while (ids[slot] !== 0) slot = (slot + 1) & mask;
      ids[slot] = id + 1;
    }
    this.ids = ids;
    this.idMask = mask;
  }
}

/** Exact mode rehashes from the encodings: the slot is the fingerprint's low half, as the caller's. */
const fpScratch = new Uint32Array(2);
function exactHashLo(enc: Uint8Array): number {
  fingerprint(enc, enc.length, fpScratch);
  return fpScratch[1]!;
}

/** Adds a fingerprint to a table unless present; false when it was there. The caller keeps the load below 1. */
export function addFingerprint(fps: Uint32Array, mask: number, hi: number, lo: number): boolean {
  if (hi === 0 && lo === 0) hi = EMPTY_ALIAS;
  let slot = lo & mask;
  for (;;) {
    const h = fps[2 * slot]!;
    const l = fps[2 * slot + 1]!;
    if (h === 0 && l === 0) break;
    if (h === hi && l === lo) return false;
    slot = (slot + 1) & mask;
  }
  fps[2 * slot] = hi;
  fps[2 * slot + 1] = lo;
  return true;
}

/** Membership in a fingerprint table (also from a worker thread, on a shared one). */
export function hasFingerprint(fps: Uint32Array, mask: number, hi: number, lo: number): boolean {
  if (hi === 0 && lo === 0) hi = EMPTY_ALIAS;
  let slot = lo & mask;
  for (;;) {
    const h = fps[2 * slot]!;
    const l = fps[2 * slot + 1]!;
    if (h === 0 && l === 0) return false;
    if (h === hi && l === lo) return true;
    slot = (slot + 1) & mask;
  }
}

function newTable(words: number, shared: boolean): Uint32Array {
  return shared ? new Uint32Array(new SharedArrayBuffer(words * 4)) : new Uint32Array(words);
}

function grow<T extends Uint8Array | Uint16Array | Uint32Array | Int32Array>(from: T, to: T): T {
  to.set(from as never);
  return to;
}

function ceilPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
