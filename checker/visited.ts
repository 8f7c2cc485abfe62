// The visited set: an open-addressing hash table of 64-bit fingerprints in typed arrays. A state is
// an id (its discovery order); per id we keep its parent's id and the action index that reached it,
// which is all a trace needs (traces are rebuilt by replaying action indices). The table holds
// fingerprints only (8 bytes a slot, load at most 3/4); the links cost 6 bytes per state. In exact
// mode the table holds ids instead, and the full encodings are kept and compared.

import { fingerprint } from './fingerprint.js';

const MAX_LOAD = 0.75;

export class VisitedSet {
  /** slot → fingerprint (hi, lo interleaved); (0, 0) marks an empty slot. */
  private fps: Uint32Array;
  /** exact mode: slot → id + 1 (0: empty). */
  private ids: Int32Array | null;
  private mask: number;
  private parents: Int32Array;
  private actionIdx: Uint16Array;
  private encodings: Uint8Array | null;
  private used = 0;
  size = 0;

  constructor(
    readonly stride: number,
    readonly exact: boolean,
    initialCapacity = 1 << 12,
    /** Keep the fingerprint table in shared memory, for worker threads to read between writes. */
    readonly shared = false,
  ) {
    const cap = Math.max(16, initialCapacity);
    this.parents = new Int32Array(cap);
    this.actionIdx = new Uint16Array(cap);
    const slots = ceilPow2(Math.ceil(cap / MAX_LOAD));
    this.mask = slots - 1;
    this.fps = this.table32(exact ? 0 : slots * 2);
    this.ids = exact ? new Int32Array(slots) : null;
    this.encodings = exact ? new Uint8Array(cap * stride) : null;
  }

  /**
   * Adds a state unless present. Returns its new id, or -1 when it was already there.
   * `enc` is needed in exact mode only.
   */
  insert(hi: number, lo: number, parent: number, action: number, enc: Uint8Array | null): number {
    if (this.exact) return this.insertExact(lo, parent, action, enc!);
    // (0, 0) is the empty mark: move that one fingerprint aside
    if (hi === 0 && lo === 0) hi = 0x9e3779b9;
    const fps = this.fps;
    let slot = lo & this.mask;
    for (;;) {
      const h = fps[2 * slot]!;
      const l = fps[2 * slot + 1]!;
      if (h === 0 && l === 0) break;
      if (h === hi && l === lo) return -1;
      slot = (slot + 1) & this.mask;
    }
    fps[2 * slot] = hi;
    fps[2 * slot + 1] = lo;
    const id = this.added(parent, action);
    this.maybeGrowTable();
    return id;
  }

  /** Whether a fingerprint is present (fingerprint mode). */
  has(hi: number, lo: number): boolean {
    return hasFingerprint(this.fps, this.mask, hi, lo);
  }

  /**
   * The fingerprint table, for readers in other threads (a set made with `shared`). It must not be
   * written while they read: the parallel explorer inserts only between the expansion of levels.
   */
  sharedTable(): { table: Uint32Array; mask: number } {
    if (!this.shared) throw new Error('the visited set was not made shared');
    return { table: this.fps, mask: this.mask };
  }

  private table32(words: number): Uint32Array {
    return this.shared ? new Uint32Array(new SharedArrayBuffer(words * 4)) : new Uint32Array(words);
  }

  private insertExact(lo: number, parent: number, action: number, enc: Uint8Array): number {
    const ids = this.ids!;
    let slot = lo & this.mask;
    for (;;) {
      const v = ids[slot]!;
      if (v === 0) break;
      if (this.sameEncoding(v - 1, enc)) return -1;
      slot = (slot + 1) & this.mask;
    }
    const id = this.added(parent, action);
    ids[slot] = id + 1;
    this.encodings!.set(enc.subarray(0, this.stride), id * this.stride);
    // grow only once the new state is complete: the rehash reads its encoding
    this.maybeGrowTable();
    return id;
  }

  private added(parent: number, action: number): number {
    const id = this.size;
    if (id === this.parents.length) this.growIds();
    this.parents[id] = parent;
    this.actionIdx[id] = action;
    this.size = id + 1;
    this.used += 1;
    return id;
  }

  private maybeGrowTable(): void {
    if (this.used > (this.mask + 1) * MAX_LOAD) this.growTable();
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

  /** Bytes held by the structures (typed arrays at their current capacity). */
  bytes(): number {
    return (
      this.fps.byteLength + (this.ids?.byteLength ?? 0) + this.parents.byteLength + this.actionIdx.byteLength +
      (this.encodings?.byteLength ?? 0)
    );
  }

  private sameEncoding(id: number, enc: Uint8Array): boolean {
    const e = this.encodings!;
    const base = id * this.stride;
    for (let i = 0; i < this.stride; i++) if (e[base + i] !== enc[i]) return false;
    return true;
  }

  private growIds(): void {
    // 1.5x: the links are 6 bytes a state, kept within a third of that in slack
    const cap = Math.ceil(this.parents.length * 1.5);
    this.parents = grow(this.parents, new Int32Array(cap));
    this.actionIdx = grow(this.actionIdx, new Uint16Array(cap));
    if (this.encodings) this.encodings = grow(this.encodings, new Uint8Array(cap * this.stride));
  }

  private growTable(): void {
    const slots = (this.mask + 1) * 2;
    const mask = slots - 1;
    if (this.ids) {
      const ids = new Int32Array(slots);
      for (let id = 0; id < this.size; id++) {
        const enc = this.encodings!.subarray(id * this.stride, (id + 1) * this.stride);
        let slot = exactHashLo(enc) & mask;
        while (ids[slot] !== 0) slot = (slot + 1) & mask;
        ids[slot] = id + 1;
      }
      this.ids = ids;
    } else {
      const old = this.fps;
      const fps = this.table32(slots * 2);
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
    }
    this.mask = mask;
  }
}

/** Exact mode rehashes from the encodings: the slot is the fingerprint's low half, as the caller's. */
const fpScratch = new Uint32Array(2);
function exactHashLo(enc: Uint8Array): number {
  fingerprint(enc, enc.length, fpScratch);
  return fpScratch[1]!;
}

/** Membership in a fingerprint table (also from a worker thread, on a shared copy). */
export function hasFingerprint(fps: Uint32Array, mask: number, hi: number, lo: number): boolean {
  if (hi === 0 && lo === 0) hi = 0x9e3779b9;
  let slot = lo & mask;
  for (;;) {
    const h = fps[2 * slot]!;
    const l = fps[2 * slot + 1]!;
    if (h === 0 && l === 0) return false;
    if (h === hi && l === lo) return true;
    slot = (slot + 1) & mask;
  }
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
