// What every explorer shares around its levels: the options, the discoveries, the level statistics,
// progress, limits and the result. The single-threaded and the parallel explorer both set a run up
// here and differ only in how a level is expanded.
import { collisionProbability, fingerprint } from './fingerprint.js';
import type { CheckpointState, CheckpointTarget } from './checkpoint.js';
import type { SpillOptions, SpillStats } from './frontier.js';
import type { FunctionCoverage } from './coverage.js';
import { identityEncoder } from './expand.js';
import type { Model } from './model.js';

export interface ExploreOptions {
  /**
   * Collect the code coverage of the scripts whose URL contains one of these (on the exploring
   * thread, from before the model is loaded): FunctionCoverage in the result.
   */
  coverage?: string[];
  /** Deepest level to compute; Infinity runs to the fixpoint. */
  maxDepth: number;
  /** Stop (exit 3) once this many distinct states are stored. */
  maxStates?: number;
  /** Stop once the process's resident memory passes this many bytes. */
  memoryLimitBytes?: number;
  /** Stop once this many milliseconds have passed. */
  timeLimitMs?: number;
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
  /**
   * Shared memory another thread sets to stop the run (see STOP_*): polled where shouldStop is, so
   * that a run on a worker thread stops when the main thread says so.
   */
  stopFlag?: Int32Array;
  /** Shared memory where the explorer says which step it is in (see WATCH_*), for a watchdog. */
  watch?: Int32Array;
  /** Called at the end of each level with the result so far (a run on a worker thread reports it). */
  onLevel?: (partial: ExploreResult) => void;
  /** Write the search to a checkpoint at the end of every level (checker/engine/checkpoint.ts). */
  checkpoint?: CheckpointTarget;
  /**
   * Continue the search saved in this directory's checkpoint instead of starting from the initial
   * states. `identity` must equal the saved one; `verified`: its checksum was checked already.
   */
  resume?: { dir: string; identity: Record<string, unknown>; verified?: boolean };
  /** Keep the frontier on disk past a memory budget (the single-threaded explorer). */
  spill?: SpillOptions;
  /**
   * Partial-order reduction by sleep sets, where the model offers it (Model.reduction): fewer
   * transitions stepped, the same states, depths and traces (checker/engine/sleep.ts).
   */
  sleepSets?: boolean;
}

/** What partial-order reduction did: the transitions it did not step. */
export interface ReductionStats {
  method: 'sleep-sets';
  /** Transitions skipped because they slept (not counted in `generated`). */
  pruned: number;
}

/** In a stop flag: index of the reason (0: none) and of the candidates counter of a parallel level. */
export const STOP_REASON = 0;
export const STOP_CANDIDATES = 1;
export const STOP_SLOTS = 2;
const REASONS: readonly (StopReason | null)[] = [null, 'interrupted', 'time', 'memory', 'max-states'];

export function newStopFlag(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(STOP_SLOTS * 4));
}

/** Asks every thread polling `flag` to stop (the first reason given is kept). */
export function requestStop(flag: Int32Array, reason: StopReason): void {
  Atomics.compareExchange(flag, STOP_REASON, 0, Math.max(1, REASONS.indexOf(reason)));
}

/** The reason a stop was requested, or null. */
export function stopRequested(flag: Int32Array | undefined): StopReason | null {
  return flag === undefined ? null : REASONS[Atomics.load(flag, STOP_REASON)] ?? null;
}

export interface Progress {
  depth: number;
  distinct: number;
  generated: number;
  elapsedMs: number;
  statesPerSecond: number;
  /** States still to expand at this level plus those already queued for the next. */
  queue: number;
  /** New distinct states of each level finished so far (for an estimate of the next). */
  levels: number[];
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

export type StopReason = 'max-states' | 'memory' | 'time' | 'interrupted' | 'stop-at-first';

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
  /**
   * A step that never returned (a user's variant in an endless loop): after a stop was asked and not
   * answered, the explorer's threads were ended. The path of actions to the state being expanded and
   * the action being stepped, as far as known.
   */
  hung?: HungStep;
  /** The model's own counters (Model.tallies), from the thread that explored. */
  tallies?: Record<string, number>;
  /** With `coverage`: which functions ran, and which of their blocks never did. */
  codeCoverage?: FunctionCoverage[];
  /** With `spill`: what went to disk. */
  spill?: SpillStats;
  /** With `checkpoint`: checkpoints written, and the bytes of the last one. */
  checkpoints?: { written: number; lastBytes: number; depth: number };
  /** With `resume`: the depth the search was resumed at. */
  resumedAt?: number;
  /** With `sleepSets` (and a model that offers reduction): what it pruned. */
  reduction?: ReductionStats;
}

export interface HungStep {
  /** Action indices from the initial state `root` to the state being expanded (null: too deep to say). */
  path: number[] | null;
  root: number;
  /** The action index being stepped (-1: the state itself, before its actions). */
  action: number;
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

/** How often a run polling its limits reads its resident size. */
const RSS_POLL_MS = 20;

/**
 * The process's peak resident size (getrusage's ru_maxrss, all threads): a few microseconds, where
 * reading the current size from /proc took up to 1.4 ms on this VM when polled during a run. The
 * peak is what a memory limit compares with: the size has passed the limit once the peak has.
 */
export function peakResidentBytes(): number {
  // (resourceUsage builds an object of sixteen fields: callers poll it every RSS_POLL_MS or so)
  return process.resourceUsage().maxRSS * 1024;
}

/** A run under way: its discoveries, levels, counters and limits. */
export class Run<S, A, R> {
  readonly t0 = performance.now();
  readonly violated = new Map<string, Discovery>();
  readonly reached = new Map<string, Discovery>();
  readonly levels: LevelStats[] = [];
  generated = 0;
  stopped: StopReason | null = null;
  fixpoint = false;
  private peakRss = peakResidentBytes();
  private rssReadAt = -Infinity;
  private nextProgress: number;
  /** Counters of the model saved in a checkpoint, added to the model's own (a resumed run). */
  baseTallies: Record<string, number> | null = null;
  spill: SpillStats | undefined;
  reduction: ReductionStats | undefined;
  checkpoints: { written: number; lastBytes: number; depth: number } | undefined;
  resumedAt: number | undefined;
  private readonly interval: number;

  constructor(
    readonly model: Model<S, A, R>,
    readonly opts: ExploreOptions,
    readonly visited: VisitedStore,
  ) {
    this.interval = opts.progressIntervalMs ?? 1000;
    this.nextProgress = this.t0 + this.interval;
  }

  /** Whether a property (by name) is already violated or reached. */
  done(name: string): boolean {
    return this.violated.has(name) || this.reached.has(name);
  }

  /** Records a property's discovery, with its trace rebuilt from the visited set's links. */
  record(kind: 'violation' | 'witness', name: string, depth: number, parent: number, action: number, message?: string): void {
    const map = kind === 'violation' ? this.violated : this.reached;
    if (map.has(name)) return;
    const path = parent < 0 ? [] : [...this.visited.path(parent), action];
    const root = parent < 0 ? action : this.visited.root(parent);
    const d: Discovery = { name, depth, root, path };
    if (message !== undefined) d.message = message;
    map.set(name, d);
  }

  /**
   * Depth 0: stores the initial states in `frontier` and checks their state properties (an initial
   * state has no parent: its discovery's root is its index).
   */
  initial(frontier: { push(enc: Uint8Array): void }): void {
    const model = this.model;
    const stride = model.encodedSize;
    const scratch = new Uint8Array(stride);
    const fp = new Uint32Array(2);
    const encode = identityEncoder(model, this.opts.symmetry ?? false);
    const inits = model.init();
    inits.forEach((s, i) => {
      encode(s, scratch);
      fingerprint(scratch, stride, fp);
      if (this.visited.insert(fp[0]!, fp[1]!, -1, i, scratch) < 0) return;
      frontier.push(scratch);
      for (const inv of model.invariants) {
        const msg = inv.state && !this.violated.has(inv.name) ? inv.state(s) : null;
        if (msg !== null) this.record('violation', inv.name, 0, -1, i, msg);
      }
      for (const w of model.witnesses) {
        if (w.state && !this.reached.has(w.name) && w.state(s)) this.record('witness', w.name, 0, -1, i);
      }
    });
    this.generated += inits.length;
    this.levels.push({ depth: 0, distinct: this.visited.size, generated: inits.length, complete: true });
  }

  /**
   * Whether the run must end before the next level: --stop-at-first, or a limit. `interrupts`: poll
   * Ctrl-C here too (an explorer that polls it only during a level would otherwise miss it).
   */
  stopBeforeLevel(interrupts: boolean): boolean {
    if (this.opts.stopAtFirst && this.violated.size > 0) this.stopped = 'stop-at-first';
    else this.stopped = this.limitReached(interrupts);
    return this.stopped !== null;
  }

  /** A limit that ends the run now, if any (polled during a level too). */
  limitReached(interrupts = true): StopReason | null {
    const o = this.opts;
    const asked = stopRequested(o.stopFlag);
    if (asked !== null) return asked;
    if (interrupts && o.shouldStop?.()) return 'interrupted';
    if (o.maxStates !== undefined && this.visited.size >= o.maxStates) return 'max-states';
    const now = performance.now();
    // the resident size at most every RSS_POLL_MS: this is polled every 256 states
    if (now - this.rssReadAt >= RSS_POLL_MS) {
      this.rssReadAt = now;
      const rss = peakResidentBytes();
      if (rss > this.peakRss) this.peakRss = rss;
      if (o.memoryLimitBytes !== undefined && rss > o.memoryLimitBytes) return 'memory';
    }
    if (o.timeLimitMs !== undefined && now - this.t0 > o.timeLimitMs) return 'time';
    return null;
  }

  /** Reports progress when the interval has passed. `generated`: this level's so far. */
  progress(depth: number, levelGenerated: number, queue: number): void {
    if (!this.opts.progress) return;
    const now = performance.now();
    if (now < this.nextProgress) return;
    this.nextProgress = now + this.interval;
    const elapsedMs = now - this.t0;
    this.opts.progress({
      depth,
      distinct: this.visited.size,
      generated: this.generated + levelGenerated,
      elapsedMs,
      statesPerSecond: this.visited.size / (elapsedMs / 1000),
      queue,
      levels: this.levels.map((l) => l.distinct),
    });
  }

  /** Takes the discoveries, levels and counters of a checkpoint (a resumed run). */
  restore(c: CheckpointState): void {
    this.levels.push(...c.levels);
    this.generated = c.generated;
    for (const v of c.violations) this.violated.set(v.name, v);
    for (const w of c.witnesses) this.reached.set(w.name, w);
    this.baseTallies = c.tallies;
    this.resumedAt = c.depth;
  }

  /** The model's counters, with those of the checkpoint resumed from. */
  tallies(own: Record<string, number> | undefined): Record<string, number> | undefined {
    return addTallies(this.baseTallies, own);
  }

  /** What a checkpoint keeps of the run (`size`, `frontier`: states visited, of them in the frontier). */
  saved(depth: number, size: number, frontier: number, tallies: Record<string, number> | undefined): CheckpointState {
    const r = this.result();
    return {
      depth,
      levels: this.levels.map((l) => ({ ...l })),
      generated: this.generated,
      violations: r.violations,
      witnesses: r.witnesses,
      tallies: this.tallies(tallies) ?? null,
      size,
      frontier,
      stride: this.model.encodedSize,
      exact: this.opts.exact ?? false,
    };
  }

  notePeakRss(): void {
    const rss = peakResidentBytes();
    if (rss > this.peakRss) this.peakRss = rss;
  }

  /** The result of the run, properties in the model's order. */
  result(): ExploreResult {
    const elapsedMs = performance.now() - this.t0;
    const order = (names: readonly { name: string }[], m: Map<string, Discovery>) => names.filter((p) => m.has(p.name)).map((p) => m.get(p.name)!);
    const visited = this.visited;
    return {
      levels: this.levels,
      distinct: visited.size,
      generated: this.generated,
      fixpoint: this.fixpoint,
      stopped: this.stopped,
      violations: order(this.model.invariants, this.violated),
      witnesses: order(this.model.witnesses, this.reached),
      elapsedMs,
      statesPerSecond: visited.size / Math.max(elapsedMs / 1000, 1e-9),
      collisionProbability: this.opts.exact ? 0 : collisionProbability(visited.size, this.generated),
      visitedBytes: visited.bytes(),
      peakRssBytes: Math.max(this.peakRss, peakResidentBytes()),
      ...(this.model.tallies ? { tallies: this.tallies(this.model.tallies())! } : {}),
      ...(this.spill ? { spill: { ...this.spill } } : {}),
      ...(this.reduction ? { reduction: { ...this.reduction } } : {}),
      ...(this.checkpoints ? { checkpoints: { ...this.checkpoints } } : {}),
      ...(this.resumedAt !== undefined ? { resumedAt: this.resumedAt } : {}),
    };
  }
}

/** Two sets of counters summed (null or undefined: none). */
export function addTallies(a: Record<string, number> | null | undefined, b: Record<string, number> | null | undefined): Record<string, number> | undefined {
  if (!a) return b ?? undefined;
  if (!b) return { ...a };
  const sum: Record<string, number> = { ...a };
  for (const [k, v] of Object.entries(b)) sum[k] = (sum[k] ?? 0) + v;
  return sum;
}
