// Explorations run off the main thread, which only supervises: it answers Ctrl-C, polls the limits
// (time, memory, states) while a level is being expanded, and asks the explorer to stop through shared
// memory. An explorer that does not answer within a grace period (a step in an endless loop, in a
// user's variant) is ended, and the run reports what it had, with the step that never returned.
import { Worker } from 'node:worker_threads';
import { ModelStepError, newWatch, watchedStep, type StepFailure } from './expand.js';
import { TALLY_DISTINCT, TALLY_SHRINKING, TALLY_SLOTS, TALLY_STEPS, TALLY_WALKS } from './tally.js';
import type { WalkOptions, WalkReport } from './walk.js';
import type { ModelSpec } from './parallel.js';
import { newStopFlag, peakResidentBytes, requestStop, stopRequested, type ExploreOptions, type ExploreResult, type Progress, type StopReason } from './run.js';

/** How long an explorer has to answer a stop before it is taken for hung and ended. */
export const GRACE_MS = 1000;
/** How often the supervisor polls the limits. */
const TICK_MS = 50;

/** Polls the limits on the main thread and raises the stop flag; ends a thread that does not answer it. */
export class Supervisor {
  private timer: NodeJS.Timeout | null = null;
  private stopAskedAt: number | null = null;
  private hungCalled = false;

  constructor(
    private readonly opts: ExploreOptions,
    readonly flag: Int32Array,
    /**
     * Called when a stop was asked a grace period ago and the explorer has not answered; false when
     * it is busy with bounded work after all (asked again at the next tick).
     */
    private readonly onHung: () => boolean | void,
    /** A further limit to poll (the states stored so far, for the parallel explorer). */
    private readonly extra: () => StopReason | null = () => null,
    /** When the run started (--time-limit counts from it). */
    private readonly t0: number = performance.now(),
    /** How long the explorer has to answer a stop (it may ask for longer while finishing something). */
    private readonly grace: () => number = () => GRACE_MS,
  ) {}

  start(): this {
    this.timer = setInterval(() => this.tick(), TICK_MS);
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private tick(): void {
    const o = this.opts;
    if (stopRequested(this.flag) === null) {
      let reason: StopReason | null = null;
      if (o.shouldStop?.()) reason = 'interrupted';
      else if (o.timeLimitMs !== undefined && performance.now() - this.t0 > o.timeLimitMs) reason = 'time';
      else if (o.memoryLimitBytes !== undefined && peakResidentBytes() > o.memoryLimitBytes) reason = 'memory';
      else reason = this.extra();
      if (reason !== null) requestStop(this.flag, reason);
    }
    if (stopRequested(this.flag) !== null) {
      const now = performance.now();
      this.stopAskedAt ??= now;
      if (now - this.stopAskedAt > this.grace() && !this.hungCalled) this.hungCalled = this.onHung() !== false;
    }
  }
}

/** The options a thread can be sent (functions stay here). */
export function plainOptions(o: ExploreOptions): ExploreOptions {
  return {
    maxDepth: o.maxDepth,
    coverage: o.coverage,
    maxStates: o.maxStates,
    memoryLimitBytes: o.memoryLimitBytes,
    timeLimitMs: o.timeLimitMs,
    stopAtFirst: o.stopAtFirst,
    exact: o.exact,
    symmetry: o.symmetry,
    progressIntervalMs: o.progressIntervalMs,
    checkpoint: o.checkpoint,
    resume: o.resume,
    spill: o.spill,
  };
}

type SoloReply =
  | { ready: true }
  | { progress: Progress }
  | { level: ExploreResult }
  | { result: ExploreResult }
  | { failure: StepFailure }
  | { error: string };

/**
 * The single-threaded exploration, on a thread of its own (the model rebuilt there from `spec`):
 * the same levels, the same ids, the same result as `explore` on this thread.
 */
export function exploreOnThread(spec: ModelSpec, opts: ExploreOptions): Promise<ExploreResult> {
  const flag = opts.stopFlag ?? newStopFlag();
  const watch = newWatch();
  const worker = new Worker(new URL(spec.workerUrl), {
    workerData: { spec, solo: { opts: plainOptions(opts), progress: opts.progress !== undefined, flag, watch } },
  });
  let last: ExploreResult | null = null;
  return new Promise<ExploreResult>((resolve, reject) => {
    const finish = settleOnce(worker, () => supervisor.stop());
    const supervisor = new Supervisor(opts, flag, () => {
      const at = watchedStep(watch);
      const reason = stopRequested(flag)!;
      if (last === null) {
        finish(() => reject(new Error('the explorer did not answer, and had not finished the initial states')));
        return;
      }
      const partial = last;
      finish(() => resolve({ ...partial, stopped: reason, hung: { path: at.path, root: 0, action: at.action } }));
    }).start();
    worker.on('message', (m: SoloReply) => {
      if ('progress' in m) opts.progress?.(m.progress);
      else if ('level' in m) last = m.level;
      else if ('result' in m) finish(() => resolve(m.result));
      else if ('failure' in m) finish(() => reject(new ModelStepError(m.failure)));
      else if ('error' in m) finish(() => reject(new Error(m.error)));
    });
    worker.on('error', (e) => finish(() => reject(e)));
    worker.on('exit', (code) => finish(() => reject(new Error(`the explorer thread ended (exit ${code}) without a result`))));
  });
}

/**
 * The one way a thread's promise settles: the first of its answer, its error, its exit or its
 * supervisor wins; the supervisor is stopped and the thread ended, so nothing settles twice.
 */
function settleOnce(worker: Worker, stopSupervisor: () => void): (f: () => void) => void {
  let settled = false;
  return (f) => {
    if (settled) return;
    settled = true;
    stopSupervisor();
    f();
    void worker.terminate();
  };
}

/** How long a failing walk being shrunk may take to finish after Ctrl-C: its counterexample is the point. */
const SHRINK_GRACE_MS = 30_000;

/**
 * Random walks on a thread of their own, so that Ctrl-C (`shouldStop`) is answered at once: the
 * thread stops between walks, and if it does not answer (fast-check still drawing the walks it no
 * longer runs, or a walk that never returns) it is ended and the walks so far are reported from the
 * tally it keeps in shared memory. A failing walk being shrunk is given time to finish.
 */
export function walksOnThread(spec: ModelSpec, o: Omit<WalkOptions, 'shouldStop' | 'tally'>, shouldStop: () => boolean): Promise<WalkReport & { ended: boolean }> {
  const flag = newStopFlag();
  const tally = new Float64Array(new SharedArrayBuffer(TALLY_SLOTS * 8));
  const worker = new Worker(new URL(spec.workerUrl), { workerData: { spec, walks: { opts: o, flag, tally } } });
  return new Promise((resolve, reject) => {
    const finish = settleOnce(worker, () => supervisor.stop());
    const supervisor = new Supervisor(
      { maxDepth: 0, shouldStop },
      flag,
      () =>
        finish(() =>
          resolve({ seed: o.seed, runs: tally[TALLY_WALKS]!, steps: tally[TALLY_STEPS]!, distinct: tally[TALLY_DISTINCT]!, interrupted: true, failure: null, ended: true }),
        ),
      () => null,
      performance.now(),
      () => (tally[TALLY_SHRINKING] === 1 ? SHRINK_GRACE_MS : GRACE_MS),
    ).start();
    worker.on('message', (m: { walks: WalkReport } | { failure: StepFailure } | { error: string; name?: string; message?: string }) => {
      if ('walks' in m) finish(() => resolve({ ...m.walks, ended: false }));
      else if ('failure' in m) finish(() => reject(new ModelStepError(m.failure)));
      else finish(() => reject(Object.assign(new Error(m.message ?? m.error), { name: m.name ?? 'Error', stack: m.error })));
    });
    worker.on('error', (e) => finish(() => reject(e)));
    worker.on('exit', (code) => finish(() => reject(new Error(`the walking thread ended (exit ${code}) without a result`))));
  });
}
