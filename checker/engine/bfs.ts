// Level-synchronous breadth-first exploration on this thread.
//
// Ids are given in discovery order, and states of one level are expanded in id order with actions
// in index order. By induction the ids of each level are then sorted by their smallest action-index
// path, so the first violation found at the shortest depth is the one with the smallest path: the
// answer never depends on scheduling. Frontier states are kept as encodings and decoded to expand.
import { Expander, ModelStepError, StepError, stepFailure, watchPath, type ExpansionSink } from './expand.js';
import type { CheckpointTarget, Section } from './checkpoint.js';
import { CountedLevel, FrontierBuffer, SpillFrontier, type LevelStates, type SpillOptions, type SpillStats } from './frontier.js';
import type { Model } from './model.js';
import { Run, type ExploreOptions, type ExploreResult } from './run.js';
import { loadSearch, saveSearch } from './resume.js';
import { VisitedSet } from './visited.js';
import { LevelSleep, type SleepSource } from './sleep.js';

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

/** The single thread's sink: a new successor goes into the visited set and the next frontier. */
class LevelSink<S, A, R> implements ExpansionSink {
  depth = 0;
  next: LevelStates;
  /** With sleep sets: the next level's. */
  nextSleep: LevelSleep | null = null;
  constructor(
    private readonly run: Run<S, A, R>,
    private readonly visited: VisitedSet,
    stride: number,
  ) {
    this.next = new FrontierBuffer(stride);
  }
  successor(hi: number, lo: number, parent: number, action: number, enc: Uint8Array, sleep: SleepSource | null): boolean {
    if (this.visited.insert(hi, lo, parent, action, enc) < 0) return false;
    if (this.nextSleep !== null) this.nextSleep.add(this.next.count, sleep!);
    this.next.push(enc);
    return true;
  }
  violation(k: number, parent: number, action: number, message: string): void {
    this.run.record('violation', this.run.model.invariants[k]!.name, this.depth, parent, action, message);
  }
  witness(k: number, parent: number, action: number): void {
    this.run.record('witness', this.run.model.witnesses[k]!.name, this.depth, parent, action);
  }
}

/** A level's states: in memory, or past the spill budget on disk. */
function newLevel(stride: number, cap: number, spill: SpillOptions | undefined, stats: SpillStats | undefined): LevelStates {
  return spill === undefined ? new FrontierBuffer(stride, cap) : new SpillFrontier(stride, spill, stats!, cap);
}

/** A level's states as a checkpoint section. */
export function levelSection(level: LevelStates): Section {
  return {
    bytes: level.count * level.stride,
    write: (emit) => {
      for (const chunk of level.chunks()) emit(chunk);
    },
  };
}

/** Fills an empty run, visited set and level from the checkpoint `opts.resume` names. */
function resumeInto<S, A, R>(run: Run<S, A, R>, visited: VisitedSet, frontier: LevelStates, opts: ExploreOptions): { startDepth: number; levelStart: number; growth: number } {
  const stride = visited.stride;
  const saved = loadSearch(opts, stride, opts.maxDepth);
  visited.restore(saved.fingerprints, saved.encodings, saved.parents, saved.actions);
  run.restore(saved.state);
  saved.frontier((b) => {
    for (let o = 0; o < b.length; o += stride) frontier.push(b.subarray(o, o + stride));
  });
  const lv = saved.state.levels;
  const growth = lv.length >= 2 && lv[lv.length - 2]!.distinct > 0 ? lv[lv.length - 1]!.distinct / lv[lv.length - 2]!.distinct : 1;
  return { startDepth: saved.state.depth + 1, levelStart: saved.state.size - saved.state.frontier, growth };
}

/** Writes a checkpoint at the end of level `depth`, whose states `frontier` holds. */
function saveLevel<S, A, R>(target: CheckpointTarget, run: Run<S, A, R>, visited: VisitedSet, frontier: LevelStates, depth: number): void {
  const bytes = saveSearch(
    target,
    run.saved(depth, visited.size, frontier.count, run.model.tallies?.()),
    { tables: visited.exact ? null : [visited.fingerprintTable()!], encodings: visited.savedEncodings(), links: visited.links },
    levelSection(frontier),
  );
  run.checkpoints = { written: (run.checkpoints?.written ?? 0) + 1, lastBytes: bytes, depth };
}

function* exploreSteps<S, A, R>(model: Model<S, A, R>, opts: ExploreOptions): Generator<void, ExploreResult, void> {
  const stride = model.encodedSize;
  const visited = new VisitedSet(stride, opts.exact ?? false);
  const run = new Run(model, opts, visited);
  const spill = opts.spill;
  if (spill !== undefined) run.spill = { bytesWritten: 0, levels: 0 };
  let frontier = newLevel(stride, 1024, spill, run.spill);
  let next: LevelStates | null = null;
  let startDepth = 1;
  let levelStart = 0;
  let growth = 1; // new states per state of the level before
  try {
    if (opts.resume !== undefined) ({ startDepth, levelStart, growth } = resumeInto(run, visited, frontier, opts));
    else run.initial(frontier);
    opts.onLevel?.(run.result());
    const expander = new Expander(model, opts.symmetry ?? false, (name) => run.done(name), opts.sleepSets === true && model.reduction !== undefined);
    // the frontier's sleep sets (none for the initial states, nor for a resumed frontier: an empty
    // sleep set takes every transition, which is always sound)
    let sleep: LevelSleep | null = null;
    if (expander.reducing) run.reduction = { method: 'sleep-sets', pruned: 0 };
    const watch = opts.watch ?? null;
    expander.watch = watch;
    const sink = new LevelSink(run, visited, stride);

    for (let depth = startDepth; depth <= opts.maxDepth; depth++) {
      if (frontier.count === 0) {
        run.fixpoint = true;
        break;
      }
      if (run.stopBeforeLevel(false)) break;
      // room for the next level as the last one grew (unused room is never touched, so costs nothing)
      // the last level is only counted (unless a checkpoint keeps it for a deeper --resume)
      const last = depth === opts.maxDepth && opts.checkpoint === undefined;
      next = last ? new CountedLevel(stride) : newLevel(stride, Math.max(1024, Math.ceil(frontier.count * growth * 1.25)), spill, run.spill);
      sink.next = next;
      sink.depth = depth;
      sink.nextSleep = expander.reducing && !last ? new LevelSleep() : null;
      const before = visited.size;
      const generatedBefore = expander.generated;
      const count = frontier.count;
      let partial = false;
      let i = 0;
      states: for (const chunk of frontier.chunks()) {
        for (let o = 0; o < chunk.length; o += stride, i++) {
          if (watch !== null) watchPath(watch, visited.path(levelStart + i));
          try {
            expander.expand(levelStart + i, chunk.subarray(o, o + stride), sink, sleep === null ? null : sleep.get(i));
          } catch (e) {
            if (!(e instanceof StepError)) throw e;
            throw new ModelStepError(stepFailure(e, visited.path(e.parentId), visited.root(e.parentId)));
          }
          if ((i & 255) === 255 || i === count - 1) {
            yield;
            run.progress(depth, expander.generated - generatedBefore, count - i - 1 + next.count);
            if (i < count - 1) {
              run.stopped = run.limitReached();
              if (run.stopped) {
                partial = true;
                break states;
              }
            }
          }
        }
      }
      const levelGenerated = expander.generated - generatedBefore;
      run.generated += levelGenerated;
      if (run.reduction !== undefined) run.reduction.pruned = expander.pruned;
      run.notePeakRss();
      const added = visited.size - before;
      if (added === 0 && !partial) {
        run.fixpoint = true;
        break;
      }
      run.levels.push({ depth, distinct: added, generated: levelGenerated, complete: !partial });
      opts.onLevel?.(run.result());
      if (run.stopped) break;
      growth = added / count;
      levelStart = before;
      frontier.dispose();
      frontier = next;
      next = null;
      sleep = sink.nextSleep;
      if (opts.checkpoint !== undefined) saveLevel(opts.checkpoint, run, visited, frontier, depth);
    }
    if (!run.stopped && !run.fixpoint && frontier.count === 0) run.fixpoint = true;
    return run.result();
  } finally {
    frontier.dispose();
    next?.dispose();
  }
}
