// The parallel explorer's visited set. Fingerprints are split into partitions by their high half,
// one table each in shared memory: while a level's new states are inserted, each worker owns one
// partition, so no two threads ever write the same table and no atomics are needed. Between
// insertions every worker reads every table (is a successor already visited at an earlier level?).
// The trace links (parent id, action index) stay on the main thread, which gives the ids.
import type { VisitedStore } from './run.js';
import { FingerprintSet, LinkedStates, TraceLinks } from './visited.js';

/** The partition a fingerprint belongs to (the slot within it comes from the low half). */
export function partitionOf(hi: number, partitions: number): number {
  return hi % partitions;
}

export class PartitionedVisited extends LinkedStates implements VisitedStore {
  readonly parts: FingerprintSet[];

  constructor(readonly partitions: number) {
    super(new TraceLinks());
    this.parts = Array.from({ length: partitions }, () => new FingerprintSet(1 << 10, true));
  }

  /** Inserts on this thread (the initial states). */
  insert(hi: number, lo: number, parent: number, action: number): number {
    if (!this.parts[partitionOf(hi, this.partitions)]!.add(hi, lo)) return -1;
    return this.links.add(parent, action);
  }

  /** Takes back partition `p` after a worker added to it (and may have moved it to a larger table). */
  adopt(p: number, fps: Uint32Array, used: number): void {
    this.parts[p] = FingerprintSet.over(fps, used, true);
  }

  /** The tables, for the workers to read. */
  tables(): Uint32Array[] {
    return this.parts.map((t) => t.fps);
  }

  /** How many fingerprints the tables hold in all. */
  fingerprints(): number {
    return this.parts.reduce((n, t) => n + t.used, 0);
  }

  bytes(): number {
    return this.parts.reduce((n, t) => n + t.bytes(), 0) + this.links.bytes();
  }
}
