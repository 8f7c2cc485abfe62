// Level-synchronous breadth-first exploration.
//
// Ids are given in discovery order, and states of one level are expanded in id order with actions
// in index order. By induction the ids of each level are then sorted by their smallest action-index
// path, so the first violation found at the shortest depth is the one with the smallest path: the
// answer never depends on scheduling. Frontier states are kept as encodings and decoded to expand.
import { collisionProbability, fingerprint } from './fingerprint.js';
import type { Model } from './model.js';
import { VisitedSet } from './visited.js';

/** Action indices are stored in 16 bits. */
export const MAX_ACTIONS = 0xffff;

export interface ExploreOptions {
  /** Deepest level to compute; Infinity runs to the fixpoint. */
  maxDepth: number;
  /** Stop (exit 3) once this many distinct states are stored. */
  maxStates?: number;
  /** Stop once the process's resident memory passes this many bytes. */
  memoryLimitBytes?: number;
  /** End at the level of the first violation. */
  stopAtFirst?: boolean;
  /** Compare full encodings instead of trusting 64-bit fingerprints. */
  exact?: boolean;
  /** Identify symmetric states (the model's canonicalEncode). */
  symmetry?: boolean;
  /** Called about every `progressIntervalMs`. */
  progress?: (p: Progress) => void;
  progressIntervalMs?: number;
  /** Polled during a level: true ends the run with a partial report (Ctrl-C). */
  shouldStop?: () => boolean;
}

export interface Progress {
  depth: number;
  distinct: number;
  generated: number;
  elapsedMs: number;
  statesPerSecond: number;
  /** States still to expand at this level plus those already queued for the next. */
  queue: number;
}

export interface LevelStats {
  depth: number;
  /** New distinct states first reached at this depth. */
  distinct: number;
  /** Successors computed while expanding the previous level (1 per initial state at depth 0). */
  generated: number;
  /** False when the run stopped before the level was fully expanded. */
  complete: boolean;
}

export interface Discovery {
  name: string;
  depth: number;
  /** Index of the initial state the trace starts from. */
  root: number;
  /** Action indices from the initial state. */
  path: number[];
  /** The property's message (violations only). */
  message?: string;
}

export type StopReason = 'max-states' | 'memory' | 'interrupted' | 'stop-at-first';

export interface ExploreResult {
  levels: LevelStats[];
  distinct: number;
  generated: number;
  /** True when a level added no new state: the reachable graph is fully explored. */
  fixpoint: boolean;
  stopped: StopReason | null;
  violations: Discovery[];
  witnesses: Discovery[];
  elapsedMs: number;
  statesPerSecond: number;
  collisionProbability: number;
  /** Bytes of the visited set and trace links (typed arrays at their capacity). */
  visitedBytes: number;
  peakRssBytes: number;
}

/** A level's states, encoded back to back (in shared memory when worker threads read it). */
export class FrontierBuffer {
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
  /** Appends states [from, to) of `src`, a buffer of encodings of the same stride. */
  append(src: Uint8Array, from: number, to: number): void {
    this.makeRoom(to - from);
    this.buf.set(src.subarray(from * this.stride, to * this.stride), this.count * this.stride);
    this.count += to - from;
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
}

/** Runs the exploration to its end on this thread. */
export function explore<S, A, R>(model: Model<S, A, R>, opts: ExploreOptions): ExploreResult {
  const steps = exploreSteps(model, opts);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * The same, giving the event loop a turn every few hundred states, so that a signal handler (Ctrl-C)
 * can set the flag `shouldStop` reads.
 */
export async function exploreAsync<S, A, R>(model: Model<S, A, R>, opts: ExploreOptions): Promise<ExploreResult> {
  const steps = exploreSteps(model, opts);
  let last = performance.now();
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    const now = performance.now();
    if (now - last > 100) {
      last = now;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

function* exploreSteps<S, A, R>(model: Model<S, A, R>, opts: ExploreOptions): Generator<void, ExploreResult, void> {
  const t0 = performance.now();
  const stride = model.encodedSize;
  const visited = new VisitedSet(stride, opts.exact ?? false);
  const fp = new Uint32Array(2);
  const scratch = new Uint8Array(stride);
  const invariants = model.invariants;
  const witnesses = model.witnesses;
  const violated = new Map<string, Discovery>();
  const reached = new Map<string, Discovery>();
  const levels: LevelStats[] = [];
  let generated = 0;
  let stopped: StopReason | null = null;
  let fixpoint = false;
  let peakRss = process.memoryUsage().rss;
  const interval = opts.progressIntervalMs ?? 1000;
  let nextProgress = t0 + interval;

  const record = (map: Map<string, Discovery>, name: string, depth: number, parent: number, action: number, message?: string) =>
    recordDiscovery(visited, map, name, depth, parent, action, message);

  // Properties still to be found, as flat arrays: the hot loop tests a boolean, not a Map.
  const stateInv = invariants.filter((i) => i.state);
  const stateInvDone = stateInv.map(() => false);
  const transInv = invariants.filter((i) => i.transition);
  const transInvDone = transInv.map(() => false);
  const stateWit = witnesses.filter((w) => w.state);
  const stateWitDone = stateWit.map(() => false);
  const transWit = witnesses.filter((w) => w.transition);
  const transWitDone = transWit.map(() => false);

  const checkState = (s: S, depth: number, parent: number, action: number) => {
    for (let k = 0; k < stateInv.length; k++) {
      const inv = stateInv[k]!;
      if (stateInvDone[k] || violated.has(inv.name)) continue;
      const msg = inv.state!(s);
      if (msg !== null) {
        stateInvDone[k] = true;
        record(violated, inv.name, depth, parent, action, msg);
      }
    }
    for (let k = 0; k < stateWit.length; k++) {
      const w = stateWit[k]!;
      if (stateWitDone[k] || reached.has(w.name)) continue;
      if (w.state!(s)) {
        stateWitDone[k] = true;
        record(reached, w.name, depth, parent, action);
      }
    }
  };

  // depth 0
  let frontier = new FrontierBuffer(stride);
  let levelStart = 0;
  generated += exploreInitial(model, visited, frontier, violated, reached, opts.symmetry ?? false);
  const encode = identityEncoder(model, opts.symmetry ?? false);
  levels.push({ depth: 0, distinct: visited.size, generated, complete: true });
  let growth = 1; // new states per state of the level before

  for (let depth = 1; depth <= opts.maxDepth; depth++) {
    if (frontier.count === 0) {
      fixpoint = true;
      break;
    }
    if (opts.stopAtFirst && violated.size > 0) {
      stopped = 'stop-at-first';
      break;
    }
    if (opts.maxStates !== undefined && visited.size >= opts.maxStates) {
      stopped = 'max-states';
      break;
    }
    // room for the next level as the last one grew (unused room is never touched, so costs nothing)
    const next = new FrontierBuffer(stride, Math.max(1024, Math.ceil(frontier.count * growth * 1.25)));
    const before = visited.size;
    let levelGenerated = 0;
    let partial = false;
    for (let i = 0; i < frontier.count; i++) {
      const parentId = levelStart + i;
      const parentEnc = frontier.at(i);
      const s = model.decode(parentEnc);
      const acts = enabledActions(model, s);
      for (let ai = 0; ai < acts.length; ai++) {
        const a = acts[ai]!;
        const { next: n, result } = model.step(s, a);
        levelGenerated += 1;
        encode(n, scratch);
        const unchanged = sameBytes(scratch, parentEnc, stride);
        for (let k = 0; k < transInv.length; k++) {
          if (transInvDone[k]) continue;
          const inv = transInv[k]!;
          if (violated.has(inv.name)) {
            transInvDone[k] = true; // found by its state part
            continue;
          }
          const msg = inv.transition!(s, a, result, n, unchanged);
          if (msg !== null) {
            transInvDone[k] = true;
            record(violated, inv.name, depth, parentId, ai, msg);
          }
        }
        for (let k = 0; k < transWit.length; k++) {
          if (transWitDone[k]) continue;
          const w = transWit[k]!;
          if (w.transition!(s, a, result, n)) {
            transWitDone[k] = true;
            record(reached, w.name, depth, parentId, ai);
          }
        }
        if (unchanged) continue; // a self-loop: already visited
        fingerprint(scratch, stride, fp);
        const id = visited.insert(fp[0]!, fp[1]!, parentId, ai, scratch);
        if (id < 0) continue;
        next.push(scratch);
        checkState(n, depth, parentId, ai);
      }
      if ((i & 255) === 255 || i === frontier.count - 1) {
        yield;
        const now = performance.now();
        if (opts.progress && now >= nextProgress) {
          nextProgress = now + interval;
          const elapsedMs = now - t0;
          opts.progress({
            depth,
            distinct: visited.size,
            generated: generated + levelGenerated,
            elapsedMs,
            statesPerSecond: visited.size / (elapsedMs / 1000),
            queue: frontier.count - i - 1 + next.count,
          });
        }
        const rss = process.memoryUsage().rss;
        if (rss > peakRss) peakRss = rss;
        if (i < frontier.count - 1) {
          if (opts.shouldStop?.()) stopped = 'interrupted';
          else if (opts.memoryLimitBytes !== undefined && rss > opts.memoryLimitBytes) stopped = 'memory';
          else if (opts.maxStates !== undefined && visited.size >= opts.maxStates) stopped = 'max-states';
          if (stopped) {
            partial = true;
            break;
          }
        }
      }
    }
    generated += levelGenerated;
    const added = visited.size - before;
    if (added === 0 && !partial) {
      fixpoint = true;
      break;
    }
    levels.push({ depth, distinct: added, generated: levelGenerated, complete: !partial });
    if (stopped) break;
    growth = added / frontier.count;
    levelStart = before;
    frontier = next;
  }
  if (!stopped && !fixpoint && frontier.count === 0) fixpoint = true;

  return assembleResult(model, { t0, levels, visited, generated, fixpoint, stopped, violated, reached, exact: opts.exact ?? false, peakRss });
}

/**
 * Depth 0: stores the initial states, checks their state properties (an initial state has no parent:
 * its discovery's root is its index). Returns how many states were generated.
 */
export function exploreInitial<S, A, R>(
  model: Model<S, A, R>,
  visited: VisitedStore,
  frontier: FrontierBuffer,
  violated: Map<string, Discovery>,
  reached: Map<string, Discovery>,
  symmetry: boolean,
): number {
  const stride = model.encodedSize;
  const scratch = new Uint8Array(stride);
  const fp = new Uint32Array(2);
  const encode = identityEncoder(model, symmetry);
  const inits = model.init();
  inits.forEach((s, i) => {
    encode(s, scratch);
    fingerprint(scratch, stride, fp);
    if (visited.insert(fp[0]!, fp[1]!, -1, i, scratch) < 0) return;
    frontier.push(scratch);
    for (const inv of model.invariants) {
      const msg = inv.state && !violated.has(inv.name) ? inv.state(s) : null;
      if (msg !== null) recordDiscovery(visited, violated, inv.name, 0, -1, i, msg);
    }
    for (const w of model.witnesses) {
      if (w.state && !reached.has(w.name) && w.state(s)) recordDiscovery(visited, reached, w.name, 0, -1, i);
    }
  });
  return inits.length;
}

/** What a run's result and its traces need of the visited states. */
export interface VisitedLinks {
  readonly size: number;
  path(id: number): number[];
  root(id: number): number;
  bytes(): number;
}

/** A visited set that can be filled (depth 0 is filled the same way by every explorer). */
export interface VisitedStore extends VisitedLinks {
  /** The new state's id, or -1 when it was already there (`enc`: exact mode only). */
  insert(hi: number, lo: number, parent: number, action: number, enc: Uint8Array | null): number;
}

export interface RunState {
  t0: number;
  levels: LevelStats[];
  visited: VisitedLinks;
  generated: number;
  fixpoint: boolean;
  stopped: StopReason | null;
  violated: Map<string, Discovery>;
  reached: Map<string, Discovery>;
  exact: boolean;
  peakRss: number;
}

/** The result of a run, properties in the model's order. */
export function assembleResult<S, A, R>(model: Model<S, A, R>, r: RunState): ExploreResult {
  const elapsedMs = performance.now() - r.t0;
  const order = (names: readonly { name: string }[], m: Map<string, Discovery>) => names.filter((p) => m.has(p.name)).map((p) => m.get(p.name)!);
  return {
    levels: r.levels,
    distinct: r.visited.size,
    generated: r.generated,
    fixpoint: r.fixpoint,
    stopped: r.stopped,
    violations: order(model.invariants, r.violated),
    witnesses: order(model.witnesses, r.reached),
    elapsedMs,
    statesPerSecond: r.visited.size / Math.max(elapsedMs / 1000, 1e-9),
    collisionProbability: r.exact ? 0 : collisionProbability(r.visited.size, r.generated),
    visitedBytes: r.visited.bytes(),
    peakRssBytes: Math.max(r.peakRss, process.memoryUsage().rss),
  };
}

/** How states are identified: their encoding, or with symmetry their class's canonical encoding. */
export function identityEncoder<S, A, R>(model: Model<S, A, R>, symmetry: boolean): (s: S, out: Uint8Array) => void {
  if (!symmetry) return (s, out) => model.encode(s, out);
  const canon = model.canonicalEncode;
  if (!canon) throw new Error('this model has no canonical encoding: symmetry reduction is not available');
  return (s, out) => canon.call(model, s, out);
}

/** Records a property's discovery, with its trace rebuilt from the visited set's links. */
export function recordDiscovery(
  visited: VisitedLinks,
  map: Map<string, Discovery>,
  name: string,
  depth: number,
  parent: number,
  action: number,
  message?: string,
): void {
  const path = parent < 0 ? [] : [...visited.path(parent), action];
  const root = parent < 0 ? action : visited.root(parent);
  const d: Discovery = { name, depth, root, path };
  if (message !== undefined) d.message = message;
  map.set(name, d);
}

/** The actions of `s`, refusing more than action indices can hold (both explorers store 16 bits). */
export function enabledActions<S, A, R>(model: Model<S, A, R>, s: S): readonly A[] {
  const acts = model.actions(s);
  if (acts.length > MAX_ACTIONS) throw new RangeError(`a state has ${acts.length} actions; action indices are 16-bit (at most ${MAX_ACTIONS})`);
  return acts;
}

/** Whether the first n bytes agree (a successor equal to its parent is a self-loop). */
export function sameBytes(a: Uint8Array, b: Uint8Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Replays an action-index path; returns the states along it (or where an index was out of range). */
export function replayPath<S, A, R>(
  model: Model<S, A, R>,
  root: number,
  path: readonly number[],
): { states: S[]; actions: A[]; results: R[] } {
  const init = model.init()[root];
  if (init === undefined) throw new RangeError(`no initial state ${root}`);
  const states: S[] = [init as S];
  const actions: A[] = [];
  const results: R[] = [];
  let s: S = init as S;
  const buf = new Uint8Array(model.encodedSize);
  path.forEach((ai, k) => {
    const acts = model.actions(s);
    const a = acts[ai];
    if (a === undefined) throw new RangeError(`step ${k + 1}: action index ${ai} is not enabled (${acts.length} actions)`);
    const { next: stepped, result } = model.step(s, a);
    // `step` may hand back a scratch object: keep a copy of our own
    model.encode(stepped, buf);
    const next = model.decode(buf);
    states.push(next);
    actions.push(a);
    results.push(result);
    s = next;
  });
  return { states, actions, results };
}
