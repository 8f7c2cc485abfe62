// Parallel exploration with worker threads, giving the same result as `explore` for any number of
// workers: per-level counts, every verdict, its depth and its chosen trace.
//
// Each level's frontier (in shared memory) is cut into slices of consecutive states; workers expand
// slices in any order and return, per slice, the successors not already visited at an earlier level
// (read from the fingerprint table in shared memory, which nobody writes during a level), in
// (parent, action) order, with the first violation and witness of each property in the slice. The
// main thread then inserts the slices' successors in slice order: ids are assigned exactly as the
// single-threaded explorer assigns them, and the first slice reporting a property holds its smallest
// (parent, action) at that depth. Limits are checked at level boundaries.
import { Worker } from 'node:worker_threads';
import type { Found, SliceResult } from './expand.js';
import { assembleResult, exploreInitial, FrontierBuffer, recordDiscovery, type Discovery, type ExploreOptions, type ExploreResult, type LevelStats, type StopReason } from './engine.js';
import type { Model } from './model.js';
import { VisitedSet } from './visited.js';

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
  const t0 = performance.now();
  const stride = model.encodedSize;
  const visited = new VisitedSet(stride, false, 1 << 12, true);
  const violated = new Map<string, Discovery>();
  const reached = new Map<string, Discovery>();
  const levels: LevelStats[] = [];
  let generated = 0;
  let stopped: StopReason | null = null;
  let fixpoint = false;
  let peakRss = process.memoryUsage().rss;
  const interval = opts.progressIntervalMs ?? 1000;
  let nextProgress = t0 + interval;

  const pool = await startWorkers(spec, workers);
  try {
    // depth 0, on this thread
    let frontier = new FrontierBuffer(stride, 1024, true);
    let levelStart = 0;
    generated += exploreInitial(model, visited, frontier, violated, reached, opts.symmetry ?? false);
    levels.push({ depth: 0, distinct: visited.size, generated, complete: true });

    for (let depth = 1; depth <= opts.maxDepth; depth++) {
      if (frontier.count === 0) {
        fixpoint = true;
        break;
      }
      if (opts.stopAtFirst && violated.size > 0) stopped = 'stop-at-first';
      else if (opts.maxStates !== undefined && visited.size >= opts.maxStates) stopped = 'max-states';
      else if (opts.memoryLimitBytes !== undefined && process.memoryUsage().rss > opts.memoryLimitBytes) stopped = 'memory';
      else if (opts.shouldStop?.()) stopped = 'interrupted';
      if (stopped) break;

      const { table, mask } = visited.sharedTable();
      const doneNames = [...violated.keys(), ...reached.keys()];
      // few slices: a state reached from two slices is checked twice (dedup happens on insert)
      const nSlices = Math.min(frontier.count, workers * 2);
      const bounds = Array.from({ length: nSlices + 1 }, (_, k) => Math.floor((k * frontier.count) / nSlices));
      const results = await runSlices<SliceResult>(pool, nSlices, (k) => ({
        task: 'expand',
        slice: k,
        frontier: frontier.buf,
        stride,
        levelStart,
        from: bounds[k]!,
        to: bounds[k + 1]!,
        table,
        mask,
        doneNames,
        symmetry: opts.symmetry ?? false,
      }), () => {
        const now = performance.now();
        if (opts.progress && now >= nextProgress) {
          nextProgress = now + interval;
          opts.progress({ depth, distinct: visited.size, generated, elapsedMs: now - t0, statesPerSecond: visited.size / ((now - t0) / 1000), queue: frontier.count });
        }
      });

      const before = visited.size;
      const next = new FrontierBuffer(stride, Math.max(1024, frontier.count), true);
      let levelGenerated = 0;
      for (const r of results) {
        levelGenerated += r.generated;
        for (let c = 0; c < r.count; c++) {
          const id = visited.insert(r.meta[c * 4]!, r.meta[c * 4 + 1]!, r.meta[c * 4 + 2]!, r.meta[c * 4 + 3]!, null);
          if (id >= 0) next.push(r.encodings.subarray(c * stride, (c + 1) * stride));
        }
      }
      // The state properties of the new states, each checked once, in parallel too (unless all are
      // already found).
      const stateLeft = [...model.invariants.filter((i) => i.state && !violated.has(i.name)), ...model.witnesses.filter((w) => w.state && !reached.has(w.name))];
      const checked: Found[][] = [];
      if (stateLeft.length > 0 && next.count > 0) {
        const nCheck = Math.min(next.count, workers * 2);
        const cb = Array.from({ length: nCheck + 1 }, (_, k) => Math.floor((k * next.count) / nCheck));
        const replies = await runSlices<{ found: Found[] }>(pool, nCheck, (k) => ({
          task: 'check',
          slice: k,
          frontier: next.buf,
          stride,
          firstId: before,
          from: cb[k]!,
          to: cb[k + 1]!,
          doneNames,
        }), () => {});
        for (const r of replies) checked.push(r.found.map((f) => ({ ...f, parent: visited.parent(f.id), action: visited.action(f.id) })));
      }
      // Per property, the smallest (parent, action) among the first report of each slice of either
      // phase; at a tie the transition part wins (the single-threaded explorer checks it first).
      const best = new Map<string, Found>();
      const consider = (f: Found) => {
        const b = best.get(f.name);
        if (!b || f.parent < b.parent || (f.parent === b.parent && (f.action < b.action || (f.action === b.action && b.id >= 0 && f.id < 0)))) best.set(f.name, f);
      };
      for (const r of results) for (const f of r.found) consider(f);
      for (const fs of checked) for (const f of fs) consider(f);
      for (const f of [...best.values()].sort((x, y) => x.parent - y.parent || x.action - y.action)) {
        const map = f.kind === 'violation' ? violated : reached;
        if (!map.has(f.name)) recordDiscovery(visited, map, f.name, depth, f.parent, f.action, f.message);
      }
      generated += levelGenerated;
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      const added = visited.size - before;
      if (added === 0) {
        fixpoint = true;
        break;
      }
      levels.push({ depth, distinct: added, generated: levelGenerated, complete: true });
      levelStart = before;
      frontier = next;
    }
    if (!stopped && !fixpoint && frontier.count === 0) fixpoint = true;
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }

  return assembleResult(model, { t0, levels, visited, generated, fixpoint, stopped, violated, reached, exact: false, peakRss });
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

/** Sends slices 0..n-1 to whichever worker is free; resolves with the results in slice order. */
function runSlices<T>(pool: Worker[], n: number, input: (k: number) => object, onSlice: () => void): Promise<T[]> {
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
        onSlice();
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
