// Sleep sets (Godefroid, "Partial-Order Methods for the Verification of Concurrent Systems", ch. 5) on
// the level-synchronous breadth-first search.
//
// A state carries a sleep set: transitions already taken, from an equivalent point, on another path of
// the same length. Expanding a state skips its sleeping transitions; the successor by `a` sleeps on
// the state's sleep set and the transitions expanded before `a`, those independent of `a`. Two
// transitions are independent in a state when their footprints (what each read and wrote there, as the
// model recorded it) do not meet: each then runs the same code on the same values in either order.
// A sleeping transition's footprint is the one it had where it was taken: every transition since was
// independent of it, so wrote nothing it reads.
//
// With state matching, a state keeps the sleep set of the edge that first reaches it; reached again (in
// the same level or later) it is not expanded again, and its set does not change. What this keeps,
// exactly: every reachable state, at its breadth-first depth, and its smallest action-index path (the
// trace the search reports). By induction on depth: let (p, a) be the last edge of the smallest path to
// a state n. Were `a` asleep in p, it was taken, at some state q of p's smallest path, before the
// transition that path takes there, and every transition since on that path was independent of it
// (each state's set is the one of its smallest path's edge, by induction): moving `a` back to q gives
// a path of the same length to n, smaller. So (p, a) is stepped, and being the smallest it is the edge
// that first reaches n: n keeps its set. (Intersecting the sets of all parents of a level, as depth-first
// searches must, only shrinks sets: not needed here, where the first parent is the smallest.) So every
// state id, parent and action is the unreduced search's; only the transitions stepped are fewer.
// test/reduction.test.ts checks it on every version, backend and mutant, and on random programs.

/** Footprints by number, so that a sleep set is a few integers per transition. */
export class FootprintTable {
  /** By hash of the words: the numbers of the footprints with that hash. */
  private readonly byHash = new Map<number, number[]>();
  private readonly list: Uint32Array[] = [];
  intern(fp: Uint32Array): number {
    let h = 0x811c9dc5;
    for (let k = 0; k < fp.length; k++) h = Math.imul(h ^ fp[k]!, 0x01000193);
    let bucket = this.byHash.get(h);
    if (bucket === undefined) this.byHash.set(h, (bucket = []));
    for (const i of bucket) if (sameWords(this.list[i]!, fp)) return i;
    const i = this.list.length;
    this.list.push(fp.slice()); // the model refills its array at the next step
    bucket.push(i);
    return i;
  }
  get(i: number): Uint32Array {
    return this.list[i]!;
  }
  get size(): number {
    return this.list.length;
  }
}

function sameWords(a: Uint32Array, b: Uint32Array): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

/** A sleep set: (transition id, footprint number) pairs; null when empty. */
export type SleepSet = Int32Array | null;

/** The sleep set of a successor, made when asked (most successors were visited at an earlier level). */
export interface SleepSource {
  /** (transition id, footprint number) pairs, valid until the next call. */
  sleep(): readonly number[];
}

/**
 * The sleep sets of one level's states, by position in the level: one pool of pairs and two numbers
 * per state (a typed array per state would cost a hundred bytes or so, and the collector's time).
 */
export class LevelSleep {
  private index = new Int32Array(2048);
  private data = new Int32Array(4096);
  private used = 0;

  /** The state at `position` (new in this level, positions in order) sleeps on what `src` says. */
  add(position: number, src: SleepSource): void {
    const z = src.sleep();
    if (2 * position + 2 > this.index.length) this.index = grow(this.index, 2 * position + 2);
    this.index[2 * position] = this.used;
    this.index[2 * position + 1] = z.length;
    if (z.length === 0) return;
    if (this.used + z.length > this.data.length) this.data = grow(this.data, this.used + z.length);
    for (let k = 0; k < z.length; k++) this.data[this.used + k] = z[k]!;
    this.used += z.length;
  }

  get(position: number): SleepSet {
    if (2 * position + 1 >= this.index.length) return null;
    const n = this.index[2 * position + 1]!;
    if (n === 0) return null;
    const at = this.index[2 * position]!;
    return this.data.subarray(at, at + n);
  }
}

function grow(a: Int32Array<ArrayBuffer>, need: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(Math.max(need, a.length * 2));
  b.set(a);
  return b;
}
