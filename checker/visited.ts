// The visited set: an open-addressing hash table in typed arrays. A state is an id (its discovery
// order); per id we keep its 64-bit fingerprint, its parent's id and the action index that reached
// it, which is all a trace needs (traces are rebuilt by replaying action indices). In exact mode the
// full encoding is kept too and compared on a fingerprint match.

const EMPTY = 0;

export class VisitedSet {
  private fpHi: Uint32Array;
  private fpLo: Uint32Array;
  private parents: Int32Array;
  private actionIdx: Uint16Array;
  /** slot → id + 1 (0: empty). */
  private table: Int32Array;
  private mask: number;
  private encodings: Uint8Array | null;
  size = 0;

  constructor(
    readonly stride: number,
    readonly exact: boolean,
    initialCapacity = 1 << 12,
  ) {
    const cap = Math.max(16, initialCapacity);
    this.fpHi = new Uint32Array(cap);
    this.fpLo = new Uint32Array(cap);
    this.parents = new Int32Array(cap);
    this.actionIdx = new Uint16Array(cap);
    const slots = ceilPow2(cap * 2);
    this.table = new Int32Array(slots);
    this.mask = slots - 1;
    this.encodings = exact ? new Uint8Array(cap * stride) : null;
  }

  /**
   * Adds a state unless present. Returns its new id, or -1 when it was already there.
   * `enc` is needed in exact mode only.
   */
  insert(hi: number, lo: number, parent: number, action: number, enc: Uint8Array | null): number {
    let slot = lo & this.mask;
    for (;;) {
      const v = this.table[slot]!;
      if (v === EMPTY) break;
      const id = v - 1;
      if (this.fpLo[id] === lo && this.fpHi[id] === hi && (!this.exact || this.sameEncoding(id, enc!))) return -1;
      slot = (slot + 1) & this.mask;
    }
    const id = this.size;
    if (id === this.fpHi.length) this.growIds();
    this.fpHi[id] = hi;
    this.fpLo[id] = lo;
    this.parents[id] = parent;
    this.actionIdx[id] = action;
    if (this.encodings) this.encodings.set(enc!.subarray(0, this.stride), id * this.stride);
    this.table[slot] = id + 1;
    this.size = id + 1;
    if (this.size * 2 > this.table.length) this.growTable();
    return id;
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
      this.fpHi.byteLength + this.fpLo.byteLength + this.parents.byteLength + this.actionIdx.byteLength +
      this.table.byteLength + (this.encodings?.byteLength ?? 0)
    );
  }

  private sameEncoding(id: number, enc: Uint8Array): boolean {
    const e = this.encodings!;
    const base = id * this.stride;
    for (let i = 0; i < this.stride; i++) if (e[base + i] !== enc[i]) return false;
    return true;
  }

  private growIds(): void {
    const cap = this.fpHi.length * 2;
    this.fpHi = grow(this.fpHi, new Uint32Array(cap));
    this.fpLo = grow(this.fpLo, new Uint32Array(cap));
    this.parents = grow(this.parents, new Int32Array(cap));
    this.actionIdx = grow(this.actionIdx, new Uint16Array(cap));
    if (this.encodings) this.encodings = grow(this.encodings, new Uint8Array(cap * this.stride));
  }

  private growTable(): void {
    const slots = this.table.length * 2;
    const table = new Int32Array(slots);
    const mask = slots - 1;
    for (let id = 0; id < this.size; id++) {
      let slot = this.fpLo[id]! & mask;
      while (table[slot] !== EMPTY) slot = (slot + 1) & mask;
      table[slot] = id + 1;
    }
    this.table = table;
    this.mask = mask;
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
