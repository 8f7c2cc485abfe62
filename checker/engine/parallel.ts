// Parallel exploration with worker threads, giving the same result as `explore` for any number of
// workers: per-level counts, every verdict, its depth and its chosen trace.
//
// The visited set is partitioned by fingerprint, one partition per worker (checker/partitioned.ts).
// A level runs in three phases. (1) Expand: the level's states are cut into slices of consecutive
// states; workers expand slices in any order and return, per slice, the successors not visited at an
// earlier level and not repeated within the slice (the candidates), in (parent, action) order, in
// shared memory, with the first violation and witness of each property in the slice (state
// properties on the candidates: a state reached from two slices is checked in both). (2) Insert: each
// worker takes one partition and inserts the candidates that belong to it, slice after slice: the
// first occurrence of a new state is then its smallest (parent, action), exactly the one the
// single-threaded explorer keeps, and it is flagged. (3) On this thread: ids in slice order and
// candidate order (so exactly as one thread gives them) and the trace links. The candidate buffers,
// with their flags, are the next level's states: nothing is copied. Per property, the smallest (parent, action) among the slices'
// reports is the one one thread would have found first.
//
// Limits and Ctrl-C hold within a level: this thread only coordinates, so its supervisor polls them
// while the workers expand, and raises a flag in shared memory that the workers look at every few
// states. A stopped level keeps the slices expanded so far (each a prefix of its states), inserted as
// usual, and is reported as not finished, as on one thread. A worker that does not answer a stop (a
// step in an endless loop) is ended, and the run reports the levels it had, with that step.
import { Worker } from 'node:worker_threads';
import { ModelStepError, newWatch, watchedStep, WATCH_BUSY } from './expand.js';
import { FrontierBuffer } from './frontier.js';
import type { Model } from './model.js';
import type { Section } from './checkpoint.js';
import { PartitionedVisited, partitionOf } from './partitioned.js';
import { loadSearch, saveSearch } from './resume.js';
import { newStopFlag, Run, stopRequested, STOP_CANDIDATES, type ExploreOptions, type ExploreResult, type HungStep } from './run.js';
import { NEW_STATE, type Found, type PartitionResult, type Piece, type Segment, type SliceResult } from './slices.js';
import { Supervisor } from './thread.js';

/** Where a worker finds the model: a module URL, the factory it exports, and its (cloneable) argument. */
export interface ModelSpec {
  module: string;
  exportName: string;
  args: unknown;
  /** The URL of the compiled worker script (checker/worker.js). */
  workerUrl: string;
}

type StepReply = { parent: number; action: number; name: string; message: string; stack: string };
type WorkerReply =
  | { slice: number; error: string }
  | { slice: number; step: StepReply }
  | { ready: true }
  | ({ slice: number } & Record<string, unknown>);

/** The workers were ended because one did not answer a stop. */
class HungError extends Error {}

/** A step that threw in a worker, with the parent's global id (its path is on this thread). */
class WorkerStepError extends Error {
  constructor(readonly step: StepReply) {
    super(step.message);
  }
}

export async function exploreParallel<S, A, R>(model: Model<S, A, R>, spec: ModelSpec, workers: number, opts: ExploreOptions): Promise<ExploreResult> {
  if (opts.exact) throw new Error('exact mode runs on one worker');
  const stride = model.encodedSize;
  const visited = new PartitionedVisited(workers);
  const run = new Run(model, opts, visited);
  // sleep sets travel with the candidates (checker/engine/slices.ts); a resumed frontier sleeps on nothing
  const sleepSets = opts.sleepSets === true && model.reduction !== undefined;
  if (sleepSets) run.reduction = { method: 'sleep-sets', pruned: 0 };
  const tallies = new Map<number, Record<string, number>>();
  // the last level's ratios, to make room up front: candidates per parent, new states per candidate
  let candidatesPerParent = 8;
  let newShare = 1;

  const flag = opts.stopFlag ?? newStopFlag();
  const watches = Array.from({ length: workers }, () => newWatch());
  const pool = await startWorkers(spec, workers, flag, watches);
  let hung: HungStep | undefined;
  const supervisor = new Supervisor(
    opts,
    flag,
    () => {
      // A worker still expanding a grace period after the stop is in a step that does not return (or
      // one far too slow): where it was, then every worker ended (their tasks reject). Workers that
      // are inserting are left to finish: that is bounded work of the engine's own.
      const w = watches.find((x) => x[WATCH_BUSY] === 1);
      if (!w) return false;
      const at = watchedStep(w);
      hung = at.parent >= 0 && at.parent < visited.size ? { path: visited.path(at.parent), root: visited.root(at.parent), action: at.action } : { path: null, root: 0, action: at.action };
      for (const x of pool) void x.terminate();
      return true;
    },
    () => (opts.maxStates !== undefined && visited.size + Atomics.load(flag, STOP_CANDIDATES) >= opts.maxStates ? 'max-states' : null),
    run.t0,
  ).start();
  try {
    let frontier: Segment[];
    let frontierStates: number;
    let startDepth = 1;
    if (opts.resume !== undefined) {
      // a saved search: its fingerprints into this run's partitions, its frontier as one segment
      const saved = loadSearch(opts, stride, opts.maxDepth);
      const fps = saved.fingerprints!;
      for (let i = 0; i < fps.length; i += 2) visited.parts[partitionOf(fps[i]!, workers)]!.add(fps[i]!, fps[i + 1]!);
      visited.links.restore(saved.parents, saved.actions);
      run.restore(saved.state);
      const n = saved.state.frontier;
      const encodings = new Uint8Array(new SharedArrayBuffer(Math.max(1, n) * stride));
      let at = 0;
      saved.frontier((b) => {
        encodings.set(b, at);
        at += b.length;
      });
      const meta = new Uint32Array(new SharedArrayBuffer(Math.max(1, n) * 16));
      for (let c = 0; c < n; c++) meta[c * 4 + 3] = NEW_STATE;
      frontier = [{ meta, encodings, count: n, states: n, firstId: saved.state.size - n }];
      frontierStates = n;
      startDepth = saved.state.depth + 1;
    } else {
      // depth 0, on this thread; the initial states make the first segment
      const init = new FrontierBuffer(stride, 16, true);
      run.initial(init);
      const initMeta = new Uint32Array(new SharedArrayBuffer(Math.max(1, init.count) * 16));
      for (let c = 0; c < init.count; c++) initMeta[c * 4 + 3] = NEW_STATE;
      frontier = [{ meta: initMeta, encodings: init.buf, count: init.count, states: init.count, firstId: 0 }];
      frontierStates = init.count;
    }

    for (let depth = startDepth; depth <= opts.maxDepth; depth++) {
      if (frontierStates === 0) {
        run.fixpoint = true;
        break;
      }
      if (run.stopBeforeLevel(true)) break;

      const doneNames = [...run.violated.keys(), ...run.reached.keys()];
      const queue = frontierStates;
      const progress = () => run.progress(depth, 0, queue);
      Atomics.store(flag, STOP_CANDIDATES, 0);
      const storedBefore = visited.size;

      // (1) expand
      const tables = visited.tables();
      const sizes = sliceSizes(frontierStates, workers);
      const nSlices = sizes.length;
      const slicePieces = cutSlices(frontier, sizes);
      // after a stop, no further slice is handed out: the level keeps the slices expanded so far
      let slices: SliceResult[];
      try {
        slices = await runTasks<SliceResult>(pool, nSlices, (k) => ({
        task: 'expand',
        slice: k,
        pieces: slicePieces[k]!,
        stride,
        tables,
        doneNames,
        symmetry: opts.symmetry ?? false,
        expected: sizes[k]! * candidatesPerParent * 1.2,
        // the last level is only counted (unless a checkpoint keeps it for a deeper --resume)
        keepEncodings: depth < opts.maxDepth || opts.checkpoint !== undefined,
        sleepSets,
        maxStates: opts.maxStates,
        storedBefore,
      }), progress, () => stopRequested(flag) === null);
      } catch (e) {
        if (e instanceof WorkerStepError) {
          const st = e.step;
          const path = visited.path(st.parent);
          throw new ModelStepError({
            path: st.action >= 0 ? [...path, st.action] : path,
            root: visited.root(st.parent),
            inAction: st.action >= 0,
            name: st.name,
            message: st.message,
            stack: st.stack,
          });
        }
        throw e;
      }
      const levelComplete = slices.length === nSlices && slices.every((r) => r.complete);

      // (2) insert, one partition per worker
      const sliceCandidates = slices.map((r) => ({ meta: r.meta, count: r.count }));
      const parts = await runTasks<PartitionResult>(pool, workers, (p) => ({
        task: 'insert',
        slice: p,
        partition: p,
        partitions: workers,
        table: tables[p]!,
        used: visited.parts[p]!.used,
        slices: sliceCandidates,
        newShare,
      }), progress, () => true);
      parts.forEach((r, p) => visited.adopt(p, r.table, r.used));

      // (3) ids and links, in slice and candidate order; the candidate buffers are the next frontier
      const before = visited.size;
      let candidates = 0;
      let levelGenerated = 0;
      const next: Segment[] = [];
      let firstId = before;
      for (let k = 0; k < slices.length; k++) {
        const r = slices[k]!;
        let states = 0;
        for (const q of parts) states += q.newCounts[k]!;
        next.push({ meta: r.meta, encodings: r.encodings, count: r.count, states, firstId, ...(r.sleep ? { sleep: r.sleep } : {}) });
        if (run.reduction !== undefined) run.reduction.pruned += r.pruned ?? 0;
        firstId += states;
        candidates += r.count;
        levelGenerated += r.generated;
      }
      const added = firstId - before;
      visited.links.reserve(before + added);
      for (const r of slices) {
        const meta = r.meta;
        for (let c = 0; c < r.count; c++) {
          const action = meta[c * 4 + 3]!;
          if (action & NEW_STATE) visited.links.add(meta[c * 4 + 2]!, action & 0xffff);
        }
      }
      if (visited.size !== firstId || visited.fingerprints() !== visited.size) {
        throw new Error(`internal: ${visited.fingerprints()} fingerprints and ${visited.size} links for ${firstId} states`);
      }

      // Per property, the smallest (parent, action) among the first reports of every slice; at a tie
      // the transition part wins (the one expansion routine checks it first).
      const best = new Map<string, Found>();
      const consider = (f: Found) => {
        const b = best.get(f.name);
        if (!b || f.parent < b.parent || (f.parent === b.parent && (f.action < b.action || (f.action === b.action && !b.transition && f.transition)))) best.set(f.name, f);
      };
      for (const r of slices) for (const f of r.found) consider(f);
      for (const r of slices) if (r.tallies && r.thread !== undefined) tallies.set(r.thread, r.tallies);
      for (const f of [...best.values()].sort((x, y) => x.parent - y.parent || x.action - y.action)) {
        run.record(f.kind, f.name, depth, f.parent, f.action, f.message);
      }
      run.generated += levelGenerated;
      run.notePeakRss();
      if (!levelComplete) {
        run.stopped = stopRequested(flag) ?? 'interrupted';
        run.levels.push({ depth, distinct: added, generated: levelGenerated, complete: false });
        break;
      }
      if (added === 0) {
        run.fixpoint = true;
        break;
      }
      candidatesPerParent = candidates / frontierStates;
      newShare = added / Math.max(1, candidates);
      run.levels.push({ depth, distinct: added, generated: levelGenerated, complete: true });
      frontier = next;
      frontierStates = added;
      if (opts.checkpoint !== undefined) {
        const bytes = saveSearch(
          opts.checkpoint,
          run.saved(depth, visited.size, added, sumTallies(tallies)),
          { tables: visited.parts, encodings: null, links: visited.links },
          segmentsSection(frontier, added, stride),
        );
        run.checkpoints = { written: (run.checkpoints?.written ?? 0) + 1, lastBytes: bytes, depth };
      }
    }
    if (!run.stopped && !run.fixpoint && frontierStates === 0) run.fixpoint = true;
  } catch (e) {
    if (!(e instanceof HungError) || hung === undefined) throw e;
    // the level under way is lost with the workers: the report has the levels before it
    run.stopped = stopRequested(flag) ?? 'interrupted';
  } finally {
    supervisor.stop();
    await Promise.all(pool.map((w) => w.terminate()));
  }
  const result = run.result();
  if (hung !== undefined) result.hung = hung;
  // the model's counters are the workers', each cumulative: the sum of their last
  if (model.tallies) result.tallies = run.tallies(sumTallies(tallies)) ?? {};
  return result;
}

function sumTallies(tallies: Map<number, Record<string, number>>): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const t of tallies.values()) for (const [k, v] of Object.entries(t)) sum[k] = (sum[k] ?? 0) + v;
  return sum;
}

/** A level's states (the candidates flagged new, in order) as a checkpoint section. */
function segmentsSection(segments: readonly Segment[], states: number, stride: number): Section {
  return {
    bytes: states * stride,
    write: (emit) => {
      const per = Math.max(1, Math.floor((1 << 22) / stride));
      const buf = new Uint8Array(per * stride);
      let n = 0;
      for (const seg of segments) {
        for (let c = 0; c < seg.count; c++) {
          if ((seg.meta[c * 4 + 3]! & NEW_STATE) === 0) continue;
          buf.set(seg.encodings.subarray(c * stride, (c + 1) * stride), n * stride);
          if (++n === per) {
            emit(buf);
            n = 0;
          }
        }
      }
      if (n > 0) emit(buf.subarray(0, n * stride));
    },
  };
}

/**
 * How many states each slice of a level gets, in order: large slices first (few slices: a state
 * reached from two slices is a candidate twice, and checked twice), shrinking towards the end, so
 * that a worker that runs slower (another tenant on its core, a collection) is caught up by the
 * others taking the small last slices. Depends on the level's size only, never on timing.
 */
export function sliceSizes(total: number, workers: number): number[] {
  const sizes: number[] = [];
  const smallest = Math.max(64, Math.ceil(total / (workers * 16)));
  let left = total;
  while (left > 0) {
    const size = Math.min(left, Math.max(smallest, Math.ceil(left / (workers * 2))));
    sizes.push(size);
    left -= size;
  }
  return sizes;
}

/** Cuts the level's states (ranks 0..total-1 across the segments) into slices of the given sizes. */
export function cutSlices(segments: Segment[], sizes: readonly number[]): Piece[][] {
  const out: Piece[][] = [];
  let seg = 0;
  let offset = 0; // rank of segments[seg]'s first state
  let from = 0;
  for (const size of sizes) {
    const to = from + size;
    const pieces: Piece[] = [];
    while (from < to) {
      while (offset + segments[seg]!.states <= from) offset += segments[seg++]!.states;
      const s = segments[seg]!;
      const end = Math.min(to, offset + s.states);
      pieces.push({ ...s, from: from - offset, to: end - offset });
      from = end;
    }
    out.push(pieces);
  }
  return out;
}

async function startWorkers(spec: ModelSpec, n: number, flag: Int32Array, watches: Int32Array[]): Promise<Worker[]> {
  return Promise.all(
    Array.from({ length: n }, (_, i) => {
      // a larger young generation: fewer scavenges, which otherwise compete for the same cores
      const w = new Worker(new URL(spec.workerUrl), { workerData: { spec, flag, watch: watches[i] }, resourceLimits: { maxYoungGenerationSizeMb: 96 } });
      return new Promise<Worker>((resolve, reject) => {
        const onMessage = (m: WorkerReply) => {
          if ('ready' in m) {
            w.off('message', onMessage);
            w.off('error', reject);
            resolve(w);
          }
        };
        w.on('message', onMessage);
        w.once('error', reject);
      });
    }),
  );
}

/**
 * Sends tasks 0..n-1 to whichever worker is free, while `more()` says so; resolves with the results of
 * the tasks sent, in task order. A worker that is ended (hung) rejects with HungError.
 */
function runTasks<T>(pool: Worker[], n: number, input: (k: number) => object, onDone: () => void, more: () => boolean): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const results: T[] = new Array(n);
    let sent = 0;
    let done = 0;
    let failed = false;
    const cleanup = () => {
      for (const x of pool) {
        x.removeAllListeners('message');
        x.removeAllListeners('error');
        x.removeAllListeners('exit');
      }
    };
    const fail = (e: Error) => {
      if (failed) return;
      failed = true;
      cleanup();
      reject(e);
    };
    const finishIfDone = () => {
      if (done === sent && (sent === n || !more())) {
        cleanup();
        resolve(results.slice(0, sent));
        return true;
      }
      return false;
    };
    const feed = (w: Worker) => {
      if (sent < n && more()) w.postMessage(input(sent++));
    };
    for (const w of pool) {
      w.on('message', (m: WorkerReply) => {
        if ('ready' in m) return;
        if ('step' in m) return fail(new WorkerStepError((m as { step: StepReply }).step));
        if ('error' in m) return fail(new Error(`worker failed: ${m.error}`));
        results[m.slice as number] = m as unknown as T;
        done += 1;
        onDone();
        if (!finishIfDone() && !failed) {
          feed(w);
          finishIfDone();
        }
      });
      w.on('error', fail);
      w.on('exit', () => fail(new HungError('a worker was ended')));
    }
    for (const w of pool) feed(w);
    finishIfDone();
  });
}
