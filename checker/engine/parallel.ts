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
// reports is the one one thread would have found first. Limits are checked at level boundaries.
import { Worker } from 'node:worker_threads';
import { FrontierBuffer } from './frontier.js';
import type { Model } from './model.js';
import { PartitionedVisited } from './partitioned.js';
import { Run, type ExploreOptions, type ExploreResult } from './run.js';
import { NEW_STATE, type Found, type PartitionResult, type Piece, type Segment, type SliceResult } from './slices.js';

/** Where a worker finds the model: a module URL, the factory it exports, and its (cloneable) argument. */
export interface ModelSpec {
  module: string;
  exportName: string;
  args: unknown;
  /** The URL of the compiled worker script (checker/worker.js). */
  workerUrl: string;
}

type WorkerReply = { slice: number; error: string } | { ready: true } | ({ slice: number } & Record<string, unknown>);

export async function exploreParallel<S, A, R>(model: Model<S, A, R>, spec: ModelSpec, workers: number, opts: ExploreOptions): Promise<ExploreResult> {
  if (opts.exact) throw new Error('exact mode runs on one worker');
  const stride = model.encodedSize;
  const visited = new PartitionedVisited(workers);
  const run = new Run(model, opts, visited);
  // the last level's ratios, to make room up front: candidates per parent, new states per candidate
  let candidatesPerParent = 8;
  let newShare = 1;

  const pool = await startWorkers(spec, workers);
  try {
    // depth 0, on this thread; the initial states make the first segment
    const init = new FrontierBuffer(stride, 16, true);
    run.initial(init);
    const initMeta = new Uint32Array(new SharedArrayBuffer(Math.max(1, init.count) * 16));
    for (let c = 0; c < init.count; c++) initMeta[c * 4 + 3] = NEW_STATE;
    let frontier: Segment[] = [{ meta: initMeta, encodings: init.buf, count: init.count, states: init.count, firstId: 0 }];
    let frontierStates = init.count;

    for (let depth = 1; depth <= opts.maxDepth; depth++) {
      if (frontierStates === 0) {
        run.fixpoint = true;
        break;
      }
      if (run.stopBeforeLevel(true)) break;

      const doneNames = [...run.violated.keys(), ...run.reached.keys()];
      const queue = frontierStates;
      const progress = () => run.progress(depth, 0, queue);

      // (1) expand
      const tables = visited.tables();
      const sizes = sliceSizes(frontierStates, workers);
      const nSlices = sizes.length;
      const slicePieces = cutSlices(frontier, sizes);
      const slices = await runTasks<SliceResult>(pool, nSlices, (k) => ({
        task: 'expand',
        slice: k,
        pieces: slicePieces[k]!,
        stride,
        tables,
        doneNames,
        symmetry: opts.symmetry ?? false,
        expected: sizes[k]! * candidatesPerParent * 1.2,
      }), progress);

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
      }), progress);
      parts.forEach((r, p) => visited.adopt(p, r.table, r.used));

      // (3) ids and links, in slice and candidate order; the candidate buffers are the next frontier
      const before = visited.size;
      let candidates = 0;
      let levelGenerated = 0;
      const next: Segment[] = [];
      let firstId = before;
      for (let k = 0; k < nSlices; k++) {
        const r = slices[k]!;
        let states = 0;
        for (const q of parts) states += q.newCounts[k]!;
        next.push({ meta: r.meta, encodings: r.encodings, count: r.count, states, firstId });
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
      for (const f of [...best.values()].sort((x, y) => x.parent - y.parent || x.action - y.action)) {
        run.record(f.kind, f.name, depth, f.parent, f.action, f.message);
      }
      run.generated += levelGenerated;
      run.notePeakRss();
      if (added === 0) {
        run.fixpoint = true;
        break;
      }
      candidatesPerParent = candidates / frontierStates;
      newShare = added / Math.max(1, candidates);
      run.levels.push({ depth, distinct: added, generated: levelGenerated, complete: true });
      frontier = next;
      frontierStates = added;
    }
    if (!run.stopped && !run.fixpoint && frontierStates === 0) run.fixpoint = true;
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
  return run.result();
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

async function startWorkers(spec: ModelSpec, n: number): Promise<Worker[]> {
  return Promise.all(
    Array.from({ length: n }, () => {
      // a larger young generation: fewer scavenges, which otherwise compete for the same cores
      const w = new Worker(new URL(spec.workerUrl), { workerData: { spec }, resourceLimits: { maxYoungGenerationSizeMb: 96 } });
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

/** Sends tasks 0..n-1 to whichever worker is free; resolves with the results in task order. */
function runTasks<T>(pool: Worker[], n: number, input: (k: number) => object, onDone: () => void): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const results: T[] = new Array(n);
    let sent = 0;
    let done = 0;
    let failed = false;
    const feed = (w: Worker) => {
      if (sent < n) w.postMessage(input(sent++));
    };
    for (const w of pool) {
      const onMessage = (m: WorkerReply) => {
        if ('ready' in m) return;
        if ('error' in m) {
          failed = true;
          cleanup();
          reject(new Error(`worker failed: ${m.error}`));
          return;
        }
        results[m.slice as number] = m as unknown as T;
        done += 1;
        onDone();
        if (done === n) {
          cleanup();
          resolve(results);
        } else if (!failed) feed(w);
      };
      const onError = (e: Error) => {
        failed = true;
        cleanup();
        reject(e);
      };
      const cleanup = () => {
        for (const x of pool) {
          x.removeAllListeners('message');
          x.removeAllListeners('error');
        }
      };
      w.on('message', onMessage);
      w.on('error', onError);
    }
    for (const w of pool) feed(w);
  });
}
