// A worker thread of the explorer: builds the model from its spec, then either runs a whole
// single-threaded exploration (solo), or does the tasks the parallel explorer sends: expand a slice of
// the frontier, or insert a partition of the level's candidates.
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { explore } from './bfs.js';
import { startCoverage, takeCoverage } from './coverage.js';
import { ModelStepError, StepError, WATCH_BUSY } from './expand.js';
import { expandSlice, insertPartition, type PartitionInput, type SliceInput } from './slices.js';
import type { Model } from './model.js';
import type { ModelSpec } from './parallel.js';
import { STOP_REASON, type ExploreOptions } from './run.js';
import { randomWalks, type WalkOptions } from './walk.js';

interface Solo {
  opts: ExploreOptions;
  progress: boolean;
  flag: Int32Array;
  watch: Int32Array;
}

interface Walks {
  opts: Omit<WalkOptions, 'shouldStop' | 'tally'>;
  flag: Int32Array;
  tally: Float64Array;
}

const data = workerData as { spec: ModelSpec; solo?: Solo; walks?: Walks; flag?: Int32Array; watch?: Int32Array };
const spec = data.spec;
const port = parentPort!;

const errorText = (e: unknown) => (e instanceof Error ? (e.stack ?? e.message) : String(e));

// code coverage counts only what is compiled after it starts: before the model is loaded
const coverageSession = data.solo?.opts.coverage ? await startCoverage() : null;

let model: Model<unknown, unknown, unknown>;
try {
  const mod = (await import(spec.module)) as Record<string, (args: unknown) => Model<unknown, unknown, unknown> | Promise<Model<unknown, unknown, unknown>>>;
  const factory = mod[spec.exportName];
  if (typeof factory !== 'function') throw new Error(`${spec.module} exports no function ${spec.exportName}`);
  model = await factory(spec.args);
} catch (e) {
  port.postMessage({ error: errorText(e), slice: -1 });
  throw e;
}

if (data.walks) {
  const { opts, flag, tally } = data.walks;
  try {
    port.postMessage({ walks: randomWalks(model, { ...opts, tally, shouldStop: () => Atomics.load(flag, STOP_REASON) !== 0 }) });
  } catch (e) {
    if (e instanceof ModelStepError) port.postMessage({ failure: e.failure });
    else port.postMessage({ error: errorText(e), name: e instanceof Error ? e.name : 'Error', message: e instanceof Error ? e.message : String(e) });
  }
} else if (data.solo) {
  const { opts, flag, watch } = data.solo;
  try {
    const result = explore(model, {
      ...opts,
      stopFlag: flag,
      watch,
      progress: data.solo.progress ? (p) => port.postMessage({ progress: p }) : undefined,
      onLevel: (partial) => port.postMessage({ level: partial }),
    });
    if (coverageSession !== null) result.codeCoverage = await takeCoverage(coverageSession, opts.coverage!);
    port.postMessage({ result });
  } catch (e) {
    port.postMessage(e instanceof ModelStepError ? { failure: e.failure } : { error: errorText(e) });
  }
} else {
  type Task = (SliceInput & { slice: number; task: 'expand' }) | (PartitionInput & { slice: number; task: 'insert' });
  const watch = data.watch ?? null;
  port.on('message', (msg: Task) => {
    // busy: expanding, where a user's step may never return (inserting is the engine's own, bounded work)
    if (watch !== null && msg.task === 'expand') watch[WATCH_BUSY] = 1;
    try {
      // the results' arrays are in shared memory: posting them shares, never copies
      const r = msg.task === 'insert' ? insertPartition(msg) : { ...expandSlice(model, msg, data.flag, watch), tallies: model.tallies?.(), thread: threadId };
      port.postMessage({ slice: msg.slice, ...r });
    } catch (e) {
      if (e instanceof StepError) {
        const c = e.cause instanceof Error ? e.cause : null;
        port.postMessage({
          slice: msg.slice,
          step: { parent: e.parentId, action: e.action, name: c?.name ?? 'Error', message: c?.message ?? String(e.cause), stack: c?.stack ?? String(e.cause) },
        });
      } else {
        port.postMessage({ slice: msg.slice, error: errorText(e) });
      }
    } finally {
      if (watch !== null) watch[WATCH_BUSY] = 0;
    }
  });
  port.postMessage({ ready: true });
}
