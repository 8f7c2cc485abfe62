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
// With state matching, a state reached at one level from several parents sleeps on the intersection of
// what each parent gave it (all parents of a level are expanded before it is); a state reached again at
// a later level is not on a shortest path, and is not expanded again. What this keeps, exactly: every
// reachable state, at its breadth-first depth, and its smallest action-index path (which is the trace
// the search reports). Were an edge of that path asleep, the transition could move earlier in the path
// past the independent ones it slept through, to the state where it was first taken before a
// transition of larger index: a path of the same length, smaller, to the same state. So every state id,
// parent and action is the one the unreduced search gives; only the transitions stepped are fewer.
// test/reduction.test.ts checks it on every version, backend and mutant.

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
  sleep(): SleepSet;
}

export function sleeps(z: SleepSet, transition: number): boolean {
  if (z === null) return false;
  for (let k = 0; k < z.length; k += 2) if (z[k] === transition) return true;
  return false;
}

/** z ∩ other, by transition id (a footprint is a function of the state and the transition). */
export function intersect(z: Int32Array, other: SleepSet): SleepSet {
  if (other === null) return null;
  const out: number[] = [];
  for (let k = 0; k < z.length; k += 2) if (sleeps(other, z[k]!)) out.push(z[k]!, z[k + 1]!);
  return out.length === 0 ? null : Int32Array.from(out);
}

/**
 * The sleep sets of one level's states, by position in the level. A state found again in the same
 * level has its set intersected: it is found by fingerprint, in a map of the states whose set is not
 * empty. Two states whose keys collide in the map only lose sleeping transitions (more is explored):
 * never a state.
 */
export class LevelSleep {
  private readonly sets: SleepSet[] = [];
  private readonly where = new Map<number, number>();
  /** States whose set was emptied by a second parent. */
  narrowed = 0;

  private static key(hi: number, lo: number): number {
    return (hi & 0x1fffff) * 0x100000000 + (lo >>> 0);
  }

  /** The state at `position` (new in this level) sleeps on what `src` says. */
  add(position: number, hi: number, lo: number, src: SleepSource): void {
    const z = src.sleep();
    this.sets[position] = z;
    if (z !== null) this.where.set(LevelSleep.key(hi, lo), position);
  }

  /** A state found again: if it is of this level, it sleeps only on what both parents gave it. */
  merge(hi: number, lo: number, src: SleepSource): void {
    const key = LevelSleep.key(hi, lo);
    const p = this.where.get(key);
    if (p === undefined) return;
    const next = intersect(this.sets[p]!, src.sleep());
    this.sets[p] = next;
    if (next === null) {
      this.where.delete(key);
      this.narrowed += 1;
    }
  }

  get(position: number): SleepSet {
    return this.sets[position] ?? null;
  }

  /** Done with finding states again: only the sets are needed to expand the level. */
  seal(): void {
    this.where.clear();
  }
}
