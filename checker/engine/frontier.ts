// A level's states, encoded back to back (in shared memory when worker threads read it), and the
// same kept on disk past a memory budget (SpillFrontier): a level is written once, in order, and read
// once, in order, which is what disks do well.
import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** What the single-threaded explorer needs of a level's states. */
export interface LevelStates {
  readonly stride: number;
  readonly count: number;
  push(enc: Uint8Array): void;
  /** The states in order, a run of whole states at a time (a view valid until the next run). */
  chunks(): Iterable<Uint8Array>;
  /** Gives back what the states hold outside the heap (a file). */
  dispose(): void;
}

/**
 * The last level of a bounded search: nothing expands it, so its states are counted, not kept (its
 * states are in the visited set, and its traces are rebuilt from the links). Not with a checkpoint,
 * which keeps the level for a deeper --resume.
 */
export class CountedLevel implements LevelStates {
  count = 0;
  constructor(readonly stride: number) {}
  push(): void {
    this.count += 1;
  }
  *chunks(): Iterable<Uint8Array> {
    if (this.count > 0) throw new Error('internal: the states of the last level were not kept');
  }
  dispose(): void {}
}

export class FrontierBuffer implements LevelStates {
  buf: Uint8Array;
  count = 0;
  constructor(
    readonly stride: number,
    cap = 1024,
    readonly shared = false,
  ) {
    this.buf = this.alloc(Math.max(1, stride) * cap);
  }
  private alloc(bytes: number): Uint8Array {
    return this.shared ? new Uint8Array(new SharedArrayBuffer(bytes)) : new Uint8Array(bytes);
  }
  push(enc: Uint8Array): void {
    this.makeRoom(1);
    // no subarray when the encoding is exactly one state long (the explorers' scratch buffers)
    this.buf.set(enc.length === this.stride ? enc : enc.subarray(0, this.stride), this.count * this.stride);
    this.count += 1;
  }
  private makeRoom(states: number): void {
    const need = (this.count + states) * this.stride;
    if (need > this.buf.length) {
      const bigger = this.alloc(Math.max(need, this.buf.length * 2));
      bigger.set(this.buf);
      this.buf = bigger;
    }
  }
  at(i: number): Uint8Array {
    return this.buf.subarray(i * this.stride, (i + 1) * this.stride);
  }
  *chunks(): Iterable<Uint8Array> {
    yield this.buf.subarray(0, this.count * this.stride);
  }
  dispose(): void {}
}

/** Where and past what size a frontier goes to disk, and what it wrote there. */
export interface SpillOptions {
  /** A directory of the run's own (the caller creates it, and removes it at the end). */
  dir: string;
  /**
   * Bytes of frontier states kept in memory: a level being read and the next being written each
   * hold at most half, as their states or as a buffer in front of their file.
   */
  budgetBytes: number;
}

export interface SpillStats {
  /** Bytes written to frontier files. */
  bytesWritten: number;
  /** Levels that went to disk. */
  levels: number;
}

/** Bytes per write or read of a spilled level (at most; less under a small budget). */
const SPILL_CHUNK = 4 << 20;

let fileSerial = 0;

/**
 * A level's states, in memory while they fit in half the budget, then in a file of their own (written
 * through a buffer, read back through another one). States keep their order.
 */
export class SpillFrontier implements LevelStates {
  count = 0;
  /** In memory: all the states; once on disk: the write buffer. */
  private mem: Uint8Array;
  private inMem = 0;
  private fd = -1;
  private path = '';
  private onDisk = 0;
  private readonly memCap: number;
  private readonly chunkBytes: number;

  constructor(
    readonly stride: number,
    private readonly spill: SpillOptions,
    private readonly stats: SpillStats,
    cap = 1024,
  ) {
    const s = Math.max(1, stride);
    this.memCap = Math.max(s, Math.floor(spill.budgetBytes / 2 / s) * s);
    this.chunkBytes = Math.max(s, Math.floor(Math.min(SPILL_CHUNK, spill.budgetBytes / 4) / s) * s);
    this.mem = new Uint8Array(Math.min(this.memCap, Math.max(1, cap) * s));
  }

  /** Whether the states went to disk. */
  get spilled(): boolean {
    return this.fd >= 0;
  }

  push(enc: Uint8Array): void {
    if ((this.inMem + 1) * this.stride > this.mem.length) this.makeRoom();
    this.mem.set(enc.length === this.stride ? enc : enc.subarray(0, this.stride), this.inMem * this.stride);
    this.inMem += 1;
    this.count += 1;
  }

  private makeRoom(): void {
    if (this.fd >= 0) {
      this.flush();
      return;
    }
    if (this.mem.length < this.memCap) {
      const bigger = new Uint8Array(Math.min(this.memCap, this.mem.length * 2));
      bigger.set(this.mem);
      this.mem = bigger;
      return;
    }
    // past half the budget: the states so far go to a file, the rest through a smaller buffer
    this.path = join(this.spill.dir, `frontier-${process.pid}-${fileSerial++}.bin`);
    this.fd = openSync(this.path, 'wx+');
    this.stats.levels += 1;
    this.flush();
    this.mem = new Uint8Array(this.chunkBytes);
  }

  private flush(): void {
    const n = this.inMem * this.stride;
    let o = 0;
    while (o < n) o += writeSync(this.fd, this.mem, o, n - o, this.onDisk * this.stride + o);
    this.onDisk += this.inMem;
    this.stats.bytesWritten += n;
    this.inMem = 0;
  }

  *chunks(): Iterable<Uint8Array> {
    if (this.fd < 0) {
      yield this.mem.subarray(0, this.inMem * this.stride);
      return;
    }
    if (this.inMem > 0) this.flush();
    // the write buffer is done with: it becomes the read buffer
    const buf = this.mem;
    const total = this.onDisk * this.stride;
    for (let at = 0; at < total; ) {
      const want = Math.min(buf.length, total - at);
      let got = 0;
      while (got < want) {
        const n = readSync(this.fd, buf, got, want - got, at + got);
        if (n <= 0) throw new Error(`frontier file ${this.path} ended early`);
        got += n;
      }
      at += want;
      yield buf.subarray(0, want);
    }
  }

  dispose(): void {
    if (this.fd < 0) return;
    try {
      closeSync(this.fd);
    } finally {
      this.fd = -1;
      try {
        unlinkSync(this.path);
      } catch {
        // already gone (the run's directory removed)
      }
    }
  }
}
