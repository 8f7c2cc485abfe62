// What both explorers do with checkpoints: the sections of a visited set to write, and a saved search
// read back and checked against the run that resumes it.
import {
  arraySection,
  CheckpointError,
  identityDifference,
  openCheckpoint,
  readSection,
  readSectionChunks,
  SECTION,
  writeCheckpoint,
  type CheckpointSections,
  type CheckpointState,
  type CheckpointTarget,
  type OpenedCheckpoint,
  type Section,
} from './checkpoint.js';
import type { ExploreOptions } from './run.js';
import type { FingerprintSet, TraceLinks } from './visited.js';

/** Pairs of a fingerprint per write. */
const PAIRS = 1 << 18;

/** The fingerprints of some tables, as one list (the order of the tables, then of their slots). */
export function fingerprintSection(tables: readonly FingerprintSet[]): Section {
  return {
    bytes: tables.reduce((n, t) => n + t.used * 8, 0),
    write: (emit) => {
      for (const t of tables) t.forEachChunk(PAIRS, (pairs) => emit(new Uint8Array(pairs.buffer, pairs.byteOffset, pairs.byteLength)));
    },
  };
}

const EMPTY: Section = { bytes: 0, write: () => {} };

/** Writes a checkpoint of a search; returns its bytes. */
export function saveSearch(
  target: CheckpointTarget,
  state: CheckpointState,
  visited: { tables: readonly FingerprintSet[] | null; encodings: Uint8Array | null; links: TraceLinks },
  frontier: Section,
): number {
  const { parents, actions } = visited.links.saved();
  const sections: CheckpointSections = {
    fingerprints: visited.tables ? fingerprintSection(visited.tables) : EMPTY,
    parents: arraySection(parents),
    actions: arraySection(actions),
    encodings: visited.encodings ? arraySection(visited.encodings) : EMPTY,
    frontier,
  };
  return writeCheckpoint(target, state, sections);
}

/** A saved search, read back: the arrays of its visited set, and its frontier to read in order. */
export interface LoadedSearch {
  state: CheckpointState;
  fingerprints: Uint32Array | null;
  encodings: Uint8Array | null;
  parents: Int32Array;
  actions: Uint16Array;
  /** Calls back with the frontier's states, whole states at a time. */
  frontier: (each: (b: Uint8Array) => void) => void;
}

/**
 * Reads the checkpoint `opts.resume` names, refusing (CheckpointError) one of another model or search,
 * or one that does not hold together.
 */
export function loadSearch(opts: ExploreOptions, stride: number, maxDepth: number): LoadedSearch {
  const r = opts.resume!;
  const c = openCheckpoint(r.dir, r.verified !== true);
  checkResumable(c, r.identity, stride, opts.exact ?? false, maxDepth);
  const s = c.state;
  const bad = (why: string) => new CheckpointError(`${c.path} is not a usable checkpoint: ${why}`);
  const parents = readSection(c, SECTION.parents, (n) => new Int32Array(n));
  const actions = readSection(c, SECTION.actions, (n) => new Uint16Array(n));
  if (parents.length !== s.size || actions.length !== s.size) throw bad('its links do not match its states');
  let fingerprints: Uint32Array | null = null;
  let encodings: Uint8Array | null = null;
  if (s.exact) {
    encodings = readSection(c, SECTION.encodings, (n) => new Uint8Array(n));
    if (encodings.length !== s.size * stride) throw bad('its encodings do not match its states');
  } else {
    fingerprints = readSection(c, SECTION.fingerprints, (n) => new Uint32Array(n));
    if (fingerprints.length !== 2 * s.size) throw bad('its fingerprints do not match its states');
  }
  return { state: s, fingerprints, encodings, parents, actions, frontier: (each) => readSectionChunks(c, SECTION.frontier, stride, each) };
}

/** Whether a checkpoint can continue this search; CheckpointError (one line) when not. */
export function checkResumable(c: OpenedCheckpoint, identity: Record<string, unknown>, stride: number, exact: boolean, maxDepth: number): void {
  const s = c.state;
  const bad = (why: string) => new CheckpointError(`${c.path} is not a usable checkpoint: ${why}`);
  const d = identityDifference(c.identity, identity);
  if (d !== null) {
    const show = (v: unknown) => (v === undefined ? 'none' : typeof v === 'string' ? v : JSON.stringify(v));
    throw new CheckpointError(`the checkpoint in ${c.path} is of another run: its ${d.key} is ${show(d.saved)}, this run's is ${show(d.now)}`);
  }
  if (typeof s.depth !== 'number' || !Array.isArray(s.levels) || s.levels.length !== s.depth + 1) throw bad('its levels do not match its depth');
  if (s.stride !== stride) throw bad(`its states are ${String(s.stride)} bytes, this model's ${stride}`);
  if (s.exact !== exact) throw new CheckpointError(`the checkpoint in ${c.path} was written ${s.exact ? 'with' : 'without'} --exact: resume it ${s.exact ? 'with' : 'without'} it`);
  if (!(s.size >= 0 && s.frontier >= 0 && s.frontier <= s.size)) throw bad('its counts do not hold together');
  if (c.lengths[SECTION.frontier] !== s.frontier * stride) throw bad('its frontier does not match its count');
  if (s.levels.reduce((n, l) => n + l.distinct, 0) !== s.size) throw bad('its levels do not add up to its states');
  if (s.depth > maxDepth) throw new CheckpointError(`the checkpoint in ${c.path} is at depth ${s.depth}, deeper than this run's depth bound ${maxDepth}`);
}
