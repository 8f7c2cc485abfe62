// What a worker thread does in a level, in two phases.
// Expanding a slice of the frontier (through the one expansion routine, checker/engine/expand.ts):
// every successor of the slice's states, in (parent, action) order, that is not already in the
// visited set of earlier levels and not a repeat within the slice (the candidates), with the first
// violation and witness of each property. The state properties are checked on each candidate (a
// state first reached at this level), on the live successor: no state is decoded twice.
// Inserting a partition: the candidates of every slice, in slice order, whose fingerprints belong to
// the partition, into that partition's table; the first occurrence of each new state is flagged (so
// it is the smallest (parent, action) that reaches it, as on one thread).
import { Expander, type ExpansionSink } from './expand.js';
import { FootprintTable, type SleepSet, type SleepSource } from './sleep.js';
import { requestStop, STOP_CANDIDATES, STOP_REASON } from './run.js';
import type { Model } from './model.js';
import { partitionOf } from './partitioned.js';
import { FingerprintSet, hasFingerprint } from './visited.js';

/** In a candidate's action word: set by the partition owner when the candidate is a new state. */
export const NEW_STATE = 0x80000000;

export interface Found {
  /** invariant or witness */
  kind: 'violation' | 'witness';
  name: string;
  /** Where: the global id of the parent state and the action index that reached the state. */
  parent: number;
  action: number;
  /** Found by a transition property (at a tie with a state property, it was checked first). */
  transition: boolean;
  message?: string;
}

export interface SliceResult {
  /** Per candidate, in shared memory: fingerprint hi, lo, parent id, action index (| NEW_STATE). */
  meta: Uint32Array;
  /** Per candidate, in shared memory: its encoding (stride bytes). */
  encodings: Uint8Array;
  count: number;
  generated: number;
  found: Found[];
  /** False when a stop was asked before the slice was expanded to its end (its candidates are a prefix). */
  complete: boolean;
  /** With sleep sets: each candidate's sleep set (emptied for a state reached twice), and the transitions not stepped. */
  sleep?: SleepTable;
  pruned?: number;
  /** The model's own counters in the worker that expanded the slice, so far (cumulative), and which worker. */
  tallies?: Record<string, number>;
  thread?: number;
}

/**
 * A level's states as the parallel explorer keeps them: the previous level's candidate buffers,
 * whose candidates flagged NEW_STATE are the states, with consecutive ids from `firstId`.
 */
export interface Segment {
  meta: Uint32Array;
  encodings: Uint8Array;
  /** With sleep sets: the candidates' sleep sets. */
  sleep?: SleepTable;
  /** Candidates in the buffers. */
  count: number;
  /** States among them, and the id of the first. */
  states: number;
  firstId: number;
}

/** The states of ranks [from, to) of a segment (ranks count its states only). */
export interface Piece extends Segment {
  from: number;
  to: number;
}

export interface SliceInput {
  /** The slice: consecutive states, in id order. */
  pieces: Piece[];
  stride: number;
  /** The visited set's partitions (read only during expansion). */
  tables: Uint32Array[];
  /** Names already violated or reached in earlier levels. */
  doneNames: readonly string[];
  /** Identify symmetric states. */
  symmetry: boolean;
  /** Expected number of candidates: room is made for them up front. */
  expected: number;
  /** False at the last level of a bounded search (nothing expands it): candidates without their encodings. */
  keepEncodings: boolean;
  /** Sleep sets (checker/engine/sleep.ts): read the pieces' sets, give the candidates theirs. */
  sleepSets: boolean;
  /** --max-states, and the states stored before this level: the level's candidates count towards it. */
  maxStates?: number;
  storedBefore: number;
}

/**
 * How many states a slice expands between two looks at the stop flag: often enough that a stop is
 * answered at once and --max-states overshoots by little, rarely enough to cost nothing.
 */
const POLL_EVERY = 16;

/** One table per worker thread for the repeats within a slice, emptied for each slice. */
let sliceRepeats: FingerprintSet | null = null;

function sharedU32(n: number): Uint32Array {
  return new Uint32Array(new SharedArrayBuffer(n * 4));
}

function sharedU8(n: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(n));
}

/**
 * Candidates' sleep sets in shared memory, for the partition owners (which empty the set of a state
 * reached from two slices) and for the next level's slices. Footprints travel as their words (a
 * footprint's number is its thread's own): an entry is the transition id, then `words` words.
 * `index[2c]` is candidate c's first entry in `data`, `index[2c + 1]` its count of entries (0: none).
 * The candidate flagged new, the smallest (parent, action) that reaches its state, is the one whose
 * set the state keeps (checker/engine/sleep.ts says why that is enough).
 */
export interface SleepTable {
  index: Int32Array;
  data: Int32Array;
  /** Words per footprint (reads and writes). */
  words: number;
}

class SleepWriter {
  index: Int32Array;
  data: Int32Array;
  private used = 0;
  constructor(
    cap: number,
    private readonly words: number,
  ) {
    this.index = sharedI32(cap * 2);
    this.data = sharedI32(Math.max(64, cap * 4));
  }
  /** Candidate c sleeps on `z` (footprint numbers of `table`). */
  put(c: number, z: readonly number[], table: FootprintTable): void {
    if (c * 2 + 2 > this.index.length) this.index = growI32(this.index, Math.max(c * 2 + 2, this.index.length * 2));
    if (z.length === 0) {
      this.index[c * 2] = 0;
      this.index[c * 2 + 1] = 0;
      return;
    }
    const entry = 1 + this.words;
    const n = z.length / 2;
    if (this.used + n * entry > this.data.length) this.data = growI32(this.data, Math.max(this.used + n * entry, this.data.length * 2));
    this.index[c * 2] = this.used;
    this.index[c * 2 + 1] = n;
    for (let k = 0; k < z.length; k += 2) {
      this.data[this.used] = z[k]!;
      this.data.set(table.get(z[k + 1]!), this.used + 1);
      this.used += entry;
    }
  }
  table(): SleepTable {
    return { index: this.index, data: this.data, words: this.words };
  }
}

function sharedI32(n: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(Math.max(1, n) * 4));
}

function growI32(a: Int32Array, n: number): Int32Array {
  const b = sharedI32(n);
  b.set(a);
  return b;
}

/** Candidate c's sleep set from `t`, with its footprints numbered in `table` (this thread's). */
function readSleep(t: SleepTable, c: number, table: FootprintTable): SleepSet {
  const n = t.index[c * 2 + 1]!;
  if (n === 0) return null;
  const out = new Int32Array(n * 2);
  const entry = 1 + t.words;
  let at = t.index[c * 2]!;
  for (let k = 0; k < n; k++, at += entry) {
    out[k * 2] = t.data[at]!;
    out[k * 2 + 1] = table.intern(new Uint32Array(t.data.buffer, t.data.byteOffset + (at + 1) * 4, t.words));
  }
  return out;
}

/** The slice's sink: a successor not visited at an earlier level, and first in the slice, is a candidate. */
class SliceSink implements ExpansionSink {
  meta: Uint32Array;
  encodings: Uint8Array;
  count = 0;
  readonly found: Found[] = [];
  private cap: number;
  private readonly masks: number[];
  constructor(
    private readonly tables: Uint32Array[],
    private readonly local: FingerprintSet,
    private readonly stride: number,
    expected: number,
    private readonly invNames: string[],
    private readonly witNames: string[],
    private readonly keep: boolean,
    private readonly sleepOut: SleepWriter | null,
    private readonly footprints: FootprintTable | null,
  ) {
    this.cap = Math.max(64, Math.ceil(expected));
    this.meta = sharedU32(this.cap * 4);
    this.encodings = sharedU8(keep ? this.cap * stride : 0);
    this.masks = tables.map((t) => t.length / 2 - 1);
  }
  successor(hi: number, lo: number, parent: number, action: number, enc: Uint8Array, sleep: SleepSource | null): boolean {
    const p = partitionOf(hi, this.tables.length);
    if (hasFingerprint(this.tables[p]!, this.masks[p]!, hi, lo)) return false;
    if (!this.local.add(hi, lo)) return false;
    const count = this.count;
    if (this.sleepOut !== null) this.sleepOut.put(count, sleep!.sleep(), this.footprints!);
    if (count === this.cap) this.grow();
    const meta = this.meta;
    meta[count * 4] = hi;
    meta[count * 4 + 1] = lo;
    meta[count * 4 + 2] = parent;
    meta[count * 4 + 3] = action;
    if (this.keep) this.encodings.set(enc, count * this.stride);
    this.count = count + 1;
    // A candidate is a state first reached at this level (maybe from another slice too, where it is
    // checked as well): its state properties are checked here, on the live successor.
    return true;
  }
  violation(k: number, parent: number, action: number, message: string, transition: boolean): void {
    this.found.push({ kind: 'violation', name: this.invNames[k]!, parent, action, transition, message });
  }
  witness(k: number, parent: number, action: number, transition: boolean): void {
    this.found.push({ kind: 'witness', name: this.witNames[k]!, parent, action, transition });
  }
  private grow(): void {
    this.cap *= 2;
    const m2 = sharedU32(this.cap * 4);
    m2.set(this.meta);
    this.meta = m2;
    if (!this.keep) return;
    const e2 = sharedU8(this.cap * this.stride);
    e2.set(this.encodings);
    this.encodings = e2;
  }
}

export function expandSlice<S, A, R>(model: Model<S, A, R>, inp: SliceInput, flag: Int32Array | undefined, watch: Int32Array | null): SliceResult {
  const { stride } = inp;
  const local = (sliceRepeats ??= new FingerprintSet(1 << 16));
  local.clear();
  const done = new Set(inp.doneNames);
  const expander = new Expander(model, inp.symmetry, (name) => done.has(name), inp.sleepSets);
  expander.watch = watch;
  // sleep sets: read for the slice's states, written for its candidates (not at the last level)
  const reducing = expander.reducing;
  const footprints = reducing ? expander.footprintTable() : null;
  const words = reducing ? model.reduction!.footprintWords : 0;
  const sleepOut = reducing && inp.keepEncodings ? new SleepWriter(Math.max(64, Math.ceil(inp.expected)), words) : null;
  const sink = new SliceSink(inp.tables, local, stride, inp.expected, model.invariants.map((i) => i.name), model.witnesses.map((w) => w.name), inp.keepEncodings, sleepOut, footprints);
  let expanded = 0;
  let counted = 0; // candidates already added to the shared counter
  let complete = true;
  pieces: for (const piece of inp.pieces) {
    const pm = piece.meta;
    let rank = 0;
    for (let c = 0; c < piece.count && rank < piece.to; c++) {
      if ((pm[c * 4 + 3]! & NEW_STATE) === 0) continue;
      const r = rank++;
      if (r < piece.from) continue;
      if (flag !== undefined && expanded++ % POLL_EVERY === 0) {
        // the level's candidates so far bound the states it will store: --max-states holds within a level
        const all = Atomics.add(flag, STOP_CANDIDATES, sink.count - counted) + sink.count - counted;
        counted = sink.count;
        if (inp.maxStates !== undefined && inp.storedBefore + all >= inp.maxStates) requestStop(flag, 'max-states');
        if (Atomics.load(flag, STOP_REASON) !== 0) {
          complete = false;
          break pieces;
        }
      }
      const sleep = reducing && piece.sleep !== undefined ? readSleep(piece.sleep, c, footprints!) : null;
      expander.expand(piece.firstId + r, piece.encodings.subarray(c * stride, (c + 1) * stride), sink, sleep);
    }
  }
  if (flag !== undefined) Atomics.add(flag, STOP_CANDIDATES, sink.count - counted);
  return {
    meta: sink.meta,
    encodings: sink.encodings,
    count: sink.count,
    generated: expander.generated,
    found: sink.found,
    complete,
    ...(reducing ? { pruned: expander.pruned } : {}),
    ...(sleepOut !== null ? { sleep: sleepOut.table() } : {}),
  };
}

export interface PartitionInput {
  partition: number;
  partitions: number;
  /** The partition's table and how many fingerprints it holds. */
  table: Uint32Array;
  used: number;
  /** Every slice's candidates, in slice order. */
  slices: { meta: Uint32Array; count: number }[];
  /** The share of candidates expected to be new (the last level's): room is made for them up front. */
  newShare: number;
}

export interface PartitionResult {
  /** The partition's table (a new one when it had to grow) and its fill. */
  table: Uint32Array;
  used: number;
  /** Per slice, how many of its candidates this partition flagged as new. */
  newCounts: number[];
}

export function insertPartition(inp: PartitionInput): PartitionResult {
  const { partition, partitions } = inp;
  const table = FingerprintSet.over(inp.table, inp.used, true);
  const newCounts: number[] = [];
  // Room up front: growing while inserting would rehash several times. Not for every candidate
  // (repeats across slices are common): a table one size too large would stay so.
  let mine = 0;
  for (const sl of inp.slices) for (let c = 0; c < sl.count; c++) if (partitionOf(sl.meta[c * 4]!, partitions) === partition) mine += 1;
  table.reserve(table.used + Math.ceil(mine * inp.newShare));
  for (const sl of inp.slices) {
    const meta = sl.meta;
    let fresh = 0;
    for (let c = 0; c < sl.count; c++) {
      const hi = meta[c * 4]!;
      if (partitionOf(hi, partitions) !== partition) continue;
      if (!table.add(hi, meta[c * 4 + 1]!)) continue;
      meta[c * 4 + 3] = (meta[c * 4 + 3]! | NEW_STATE) >>> 0;
      fresh += 1;
    }
    newCounts.push(fresh);
  }
  return { table: table.fps, used: table.used, newCounts };
}
