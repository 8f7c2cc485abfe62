// Level-synchronous breadth-first exploration on this thread.
//
// Ids are given in discovery order, and states of one level are expanded in id order with actions
// in index order. By induction the ids of each level are then sorted by their smallest action-index
// path, so the first violation found at the shortest depth is the one with the smallest path: the
// answer never depends on scheduling. Frontier states are kept as encodings and decoded to expand.
import { Expander, ModelStepError, StepError, stepFailure, watchPath, type ExpansionSink } from './expand.js';
import { FrontierBuffer } from './frontier.js';
import type { Model } from './model.js';
import { Run, type ExploreOptions, type ExploreResult } from './run.js';
import { VisitedSet } from './visited.js';

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
  next: FrontierBuffer;
  constructor(
    private readonly run: Run<S, A, R>,
    private readonly visited: VisitedSet,
    stride: number,
  ) {
    this.next = new FrontierBuffer(stride);
  }
  successor(hi: number, lo: number, parent: number, action: number, enc: Uint8Array): boolean {
    if (this.visited.insert(hi, lo, parent, action, enc) < 0) return false;
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

function* exploreSteps<S, A, R>(model: Model<S, A, R>, opts: ExploreOptions): Generator<void, ExploreResult, void> {
  const stride = model.encodedSize;
  const visited = new VisitedSet(stride, opts.exact ?? false);
  const run = new Run(model, opts, visited);
  let frontier = new FrontierBuffer(stride);
  run.initial(frontier);
  opts.onLevel?.(run.result());
  const expander = new Expander(model, opts.symmetry ?? false, (name) => run.done(name));
  const watch = opts.watch ?? null;
  expander.watch = watch;
  const sink = new LevelSink(run, visited, stride);
  let levelStart = 0;
  let growth = 1; // new states per state of the level before

  for (let depth = 1; depth <= opts.maxDepth; depth++) {
    if (frontier.count === 0) {
      run.fixpoint = true;
      break;
    }
    if (run.stopBeforeLevel(false)) break;
    // room for the next level as the last one grew (unused room is never touched, so costs nothing)
    const next = new FrontierBuffer(stride, Math.max(1024, Math.ceil(frontier.count * growth * 1.25)));
    sink.next = next;
    sink.depth = depth;
    const before = visited.size;
    const generatedBefore = expander.generated;
    let partial = false;
    for (let i = 0; i < frontier.count; i++) {
      if (watch !== null) watchPath(watch, visited.path(levelStart + i));
      try {
        expander.expand(levelStart + i, frontier.at(i), sink);
      } catch (e) {
        if (!(e instanceof StepError)) throw e;
        throw new ModelStepError(stepFailure(e, visited.path(e.parentId), visited.root(e.parentId)));
      }
      if ((i & 255) === 255 || i === frontier.count - 1) {
        yield;
        run.progress(depth, expander.generated - generatedBefore, frontier.count - i - 1 + next.count);
        if (i < frontier.count - 1) {
          run.stopped = run.limitReached();
          if (run.stopped) {
            partial = true;
            break;
          }
        }
      }
    }
    const levelGenerated = expander.generated - generatedBefore;
    run.generated += levelGenerated;
    run.notePeakRss();
    const added = visited.size - before;
    if (added === 0 && !partial) {
      run.fixpoint = true;
      break;
    }
    run.levels.push({ depth, distinct: added, generated: levelGenerated, complete: !partial });
    opts.onLevel?.(run.result());
    if (run.stopped) break;
    growth = added / frontier.count;
    levelStart = before;
    frontier = next;
  }
  if (!run.stopped && !run.fixpoint && frontier.count === 0) run.fixpoint = true;
  return run.result();
}
