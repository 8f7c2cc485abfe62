// A worker thread of the parallel explorer: builds the model from its spec, then does the tasks it is
// sent: expand a slice of the frontier, or insert a partition of the level's candidates.
import { parentPort, workerData } from 'node:worker_threads';
import { expandSlice, insertPartition, type PartitionInput, type SliceInput } from './slices.js';
import type { Model } from './model.js';
import type { ModelSpec } from './parallel.js';

const spec = (workerData as { spec: ModelSpec }).spec;
const mod = (await import(spec.module)) as Record<string, (args: unknown) => Model<unknown, unknown, unknown> | Promise<Model<unknown, unknown, unknown>>>;
const factory = mod[spec.exportName];
if (typeof factory !== 'function') throw new Error(`${spec.module} exports no function ${spec.exportName}`);
const model = await factory(spec.args);

type Task = (SliceInput & { slice: number; task: 'expand' }) | (PartitionInput & { slice: number; task: 'insert' });

parentPort!.on('message', (msg: Task) => {
  try {
    // the results' arrays are in shared memory: posting them shares, never copies
    const r = msg.task === 'insert' ? insertPartition(msg) : expandSlice(model, msg);
    parentPort!.postMessage({ slice: msg.slice, ...r });
  } catch (e) {
    parentPort!.postMessage({ slice: msg.slice, error: (e as Error).stack ?? String(e) });
  }
});
parentPort!.postMessage({ ready: true });
