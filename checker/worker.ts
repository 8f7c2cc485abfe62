// A worker thread of the parallel explorer: builds the model from its spec, then expands the frontier
// slices it is sent.
import { parentPort, workerData } from 'node:worker_threads';
import { checkSlice, expandSlice, type CheckInput, type SliceInput } from './expand.js';
import type { Model } from './model.js';
import type { ModelSpec } from './parallel.js';

const spec = (workerData as { spec: ModelSpec }).spec;
const mod = (await import(spec.module)) as Record<string, (args: unknown) => Model<unknown, unknown, unknown> | Promise<Model<unknown, unknown, unknown>>>;
const factory = mod[spec.exportName];
if (typeof factory !== 'function') throw new Error(`${spec.module} exports no function ${spec.exportName}`);
const model = await factory(spec.args);

parentPort!.on('message', (msg: (SliceInput & { slice: number; task: 'expand' }) | (CheckInput & { slice: number; task: 'check' })) => {
  try {
    if (msg.task === 'check') {
      parentPort!.postMessage({ slice: msg.slice, found: checkSlice(model, msg) });
      return;
    }
    const r = expandSlice(model, msg);
    parentPort!.postMessage({ slice: msg.slice, ...r }, [r.meta.buffer as ArrayBuffer, r.encodings.buffer as ArrayBuffer]);
  } catch (e) {
    parentPort!.postMessage({ slice: msg.slice, error: (e as Error).stack ?? String(e) });
  }
});
parentPort!.postMessage({ ready: true });
