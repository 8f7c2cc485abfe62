// Checkpoints: a search saved at a level boundary, to be resumed with identical results.
//
// One file, DIR/checkpoint.bin, replaced atomically: the new one is written to a temporary file in DIR
// (a name starting with '.', which a reader never opens), flushed to disk, then renamed over the old
// one, and the directory flushed; a crash at any point leaves the previous checkpoint whole.
//
// Layout: MAGIC (8 bytes), the header's length (u32 LE), the header (JSON, UTF-8), the sections in
// the header's order (typed arrays' bytes, little-endian), then the SHA-256 of all that (32 bytes).
// The visited fingerprints are saved as a plain list (not a table), so a checkpoint written by one
// thread can be resumed by several workers and the other way round.
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import type { Discovery, LevelStats } from './run.js';

/** The version of the file format: a checkpoint of another format is refused. */
export const CHECKPOINT_FORMAT = 1;
export const CHECKPOINT_FILE = 'checkpoint.bin';
const MAGIC = 'XFCKPT01';
const HASH_BYTES = 32;
/** Bytes per write or read. */
const CHUNK = 1 << 22;

/** A checkpoint that cannot be used: missing, truncated, corrupt or of another format. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

/** What a run writes its checkpoints with. */
export interface CheckpointTarget {
  dir: string;
  /**
   * What identifies the model and the search (version, universe, properties, options that change the
   * state space...): a resumed run must have the same, key for key. The engine only stores it.
   */
  identity: Record<string, unknown>;
}

/** The search at a level boundary, apart from the arrays. */
export interface CheckpointState {
  /** The last level completed (the frontier holds its states). */
  depth: number;
  levels: LevelStats[];
  generated: number;
  violations: Discovery[];
  witnesses: Discovery[];
  /** The model's counters so far (Model.tallies), summed over threads. */
  tallies: Record<string, number> | null;
  /** States visited (ids 0..size-1) and, of them, the frontier (the last `frontier` ids). */
  size: number;
  frontier: number;
  stride: number;
  exact: boolean;
}

interface Header {
  format: number;
  endian: string;
  identity: Record<string, unknown>;
  state: CheckpointState;
  /** Byte lengths of the sections, in file order: fingerprints, parents, actions, encodings, frontier. */
  sections: number[];
}

/** A section's bytes, produced in pieces (a table compacted on the fly, a frontier read from disk). */
export type Section = { bytes: number; write: (emit: (b: Uint8Array) => void) => void };

/** A typed array as a section. */
export function arraySection(a: ArrayBufferView): Section {
  const b = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  return {
    bytes: b.length,
    write: (emit) => {
      for (let o = 0; o < b.length; o += CHUNK) emit(b.subarray(o, Math.min(b.length, o + CHUNK)));
    },
  };
}

/** The sections of a checkpoint, in file order. */
export interface CheckpointSections {
  /** hi, lo of every visited fingerprint (fingerprint mode; empty in exact mode). */
  fingerprints: Section;
  /** Per id: the parent's id (Int32), the action index (Uint16). */
  parents: Section;
  actions: Section;
  /** Exact mode: every visited state's encoding, in id order (empty otherwise). */
  encodings: Section;
  /** The frontier's states, encoded, in id order. */
  frontier: Section;
}

/**
 * The temporary files of writers that died mid-write (killed, the machine down): a file
 * `.checkpoint.bin.PID.*.tmp` whose process no longer exists. A live writer's file (another run
 * checkpointing into the same folder) is left alone.
 */
export function removeStaleTemporaries(dir: string): number {
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  const prefix = `.${CHECKPOINT_FILE}.`;
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const pid = Number(name.slice(prefix.length).split('.')[0]);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || processExists(pid)) continue;
    try {
      unlinkSync(join(dir, name));
      removed += 1;
    } catch {
      // gone already, or not ours to remove
    }
  }
  return removed;
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, another user's
  }
}

/**
 * Writes a checkpoint atomically. Returns the bytes written. A failure leaves the previous checkpoint
 * as it was, and no temporary file.
 */
export function writeCheckpoint(target: CheckpointTarget, state: CheckpointState, s: CheckpointSections): number {
  mkdirSync(target.dir, { recursive: true });
  removeStaleTemporaries(target.dir);
  const order = [s.fingerprints, s.parents, s.actions, s.encodings, s.frontier];
  const header: Header = { format: CHECKPOINT_FORMAT, endian: endianness(), identity: target.identity, state, sections: order.map((x) => x.bytes) };
  const tmp = join(target.dir, `.${CHECKPOINT_FILE}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  const fd = openSync(tmp, 'wx');
  let written = 0;
  try {
    const hash = createHash('sha256');
    const emit = (b: Uint8Array) => {
      hash.update(b);
      let o = 0;
      while (o < b.length) o += writeSync(fd, b, o, b.length - o);
      written += b.length;
    };
    const json = Buffer.from(JSON.stringify(header), 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(json.length, 0);
    emit(Buffer.from(MAGIC, 'latin1'));
    emit(len);
    emit(json);
    order.forEach((sec, k) => {
      const before = written;
      sec.write(emit);
      if (written - before !== sec.bytes) throw new Error(`internal: checkpoint section ${k} wrote ${written - before} bytes, not ${sec.bytes}`);
    });
    const digest = hash.digest();
    writeSync(fd, digest);
    written += digest.length;
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, join(target.dir, CHECKPOINT_FILE));
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    try {
      unlinkSync(tmp);
    } catch {
      // not there
    }
    throw e;
  }
  // the rename itself is durable once the directory is flushed (not every platform can)
  try {
    const dfd = openSync(target.dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // best effort
  }
  return written;
}

/** A checkpoint opened and checked, before its arrays are read. */
export interface OpenedCheckpoint {
  path: string;
  identity: Record<string, unknown>;
  state: CheckpointState;
  /** Where each section starts in the file, and its length. */
  offsets: number[];
  lengths: number[];
}

/**
 * Opens DIR's checkpoint and checks it whole: its format, its length, its checksum (the file is read
 * once). Throws CheckpointError with one line for a person.
 */
export function openCheckpoint(dir: string, verify = true): OpenedCheckpoint {
  const path = join(dir, CHECKPOINT_FILE);
  let size: number;
  try {
    const st = statSync(dir);
    if (!st.isDirectory()) throw new CheckpointError(`${dir} is not a directory`);
    size = statSync(path).size;
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new CheckpointError(code === 'ENOENT' ? `no checkpoint in ${dir} (no ${CHECKPOINT_FILE})` : `cannot read ${path} (${code ?? (e as Error).message})`);
  }
  const bad = (why: string) => new CheckpointError(`${path} is not a usable checkpoint: ${why}`);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new CheckpointError(`cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    if (size < MAGIC.length + 4 + HASH_BYTES) throw bad('truncated');
    const head = Buffer.alloc(MAGIC.length + 4);
    readFully(fd, head, 0);
    if (head.subarray(0, MAGIC.length).toString('latin1') !== MAGIC) throw bad('not a checkpoint of this checker, or of another format');
    const hlen = head.readUInt32LE(MAGIC.length);
    if (MAGIC.length + 4 + hlen + HASH_BYTES > size) throw bad('truncated');
    const json = Buffer.alloc(hlen);
    readFully(fd, json, MAGIC.length + 4);
    let header: Header;
    try {
      header = JSON.parse(json.toString('utf8')) as Header;
    } catch {
      throw bad('its header is damaged');
    }
    if (typeof header !== 'object' || header === null || !Array.isArray(header.sections) || typeof header.state !== 'object' || typeof header.identity !== 'object') throw bad('its header is damaged');
    if (header.format !== CHECKPOINT_FORMAT) throw bad(`format ${String(header.format)}, this checker reads format ${CHECKPOINT_FORMAT}`);
    if (header.endian !== endianness()) throw bad(`written on a ${String(header.endian)}-endian machine`);
    const start = MAGIC.length + 4 + hlen;
    const body = header.sections.reduce((a, b) => a + b, 0);
    if (start + body + HASH_BYTES !== size) throw bad(start + body + HASH_BYTES > size ? 'truncated' : 'it has bytes past its end');
    if (verify) {
      const hash = createHash('sha256');
      const buf = Buffer.alloc(CHUNK);
      let o = 0;
      while (o < size - HASH_BYTES) {
        const n = readSync(fd, buf, 0, Math.min(CHUNK, size - HASH_BYTES - o), o);
        if (n <= 0) throw bad('truncated');
        hash.update(buf.subarray(0, n));
        o += n;
      }
      const want = Buffer.alloc(HASH_BYTES);
      readFully(fd, want, size - HASH_BYTES);
      if (!hash.digest().equals(want)) throw bad('its checksum does not match (damaged)');
    }
    const offsets: number[] = [];
    let at = start;
    for (const len of header.sections) {
      offsets.push(at);
      at += len;
    }
    return { path, identity: header.identity, state: header.state, offsets, lengths: header.sections };
  } finally {
    closeSync(fd);
  }
}

function readFully(fd: number, into: Uint8Array, position: number): void {
  let o = 0;
  while (o < into.length) {
    const n = readSync(fd, into, o, into.length - o, position + o);
    if (n <= 0) throw new CheckpointError('a checkpoint file ended early (truncated)');
    o += n;
  }
}

/** Section indices in the file. */
export const SECTION = { fingerprints: 0, parents: 1, actions: 2, encodings: 3, frontier: 4 } as const;

/** Reads a section whole into a typed array of its own. */
export function readSection<T extends Uint32Array | Int32Array | Uint16Array | Uint8Array>(c: OpenedCheckpoint, k: number, make: (n: number) => T): T {
  const bytes = c.lengths[k]!;
  const per = make(0).BYTES_PER_ELEMENT;
  if (bytes % per !== 0) throw new CheckpointError(`${c.path} is not a usable checkpoint: a section has a bad length`);
  const out = make(bytes / per);
  const fd = openSync(c.path, 'r');
  try {
    const view = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    for (let o = 0; o < bytes; o += CHUNK) readFully(fd, view.subarray(o, Math.min(bytes, o + CHUNK)), c.offsets[k]! + o);
  } finally {
    closeSync(fd);
  }
  return out;
}

/** Reads a section in order, a whole number of `stride`-byte records at a time. */
export function readSectionChunks(c: OpenedCheckpoint, k: number, stride: number, each: (b: Uint8Array) => void): void {
  const bytes = c.lengths[k]!;
  const per = Math.max(stride, Math.floor(CHUNK / stride) * stride);
  const buf = new Uint8Array(per);
  const fd = openSync(c.path, 'r');
  try {
    for (let o = 0; o < bytes; o += per) {
      const n = Math.min(per, bytes - o);
      readFully(fd, buf.subarray(0, n), c.offsets[k]! + o);
      each(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
}

/** The first key on which two identities differ, with both values, or null when they agree. */
export function identityDifference(saved: Record<string, unknown>, now: Record<string, unknown>): { key: string; saved: unknown; now: unknown } | null {
  const keys = [...new Set([...Object.keys(now), ...Object.keys(saved)])];
  for (const key of keys) {
    if (JSON.stringify(saved[key]) !== JSON.stringify(now[key])) return { key, saved: saved[key], now: now[key] };
  }
  return null;
}
