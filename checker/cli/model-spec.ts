// How a worker thread rebuilds the run's model: the same flags, resolved the same way.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Model } from '../model.js';
import type { ModelSpec } from '../parallel.js';
import type { Action, Rc, State } from '../../model/index.js';
import { packageRoot, UsageError } from './common.js';
import { resolveTarget, selectInvariants, type ExploreFlags } from './explore.js';
import { wire } from './wiring.js';

export interface SpecArgs {
  flags: ExploreFlags;
}

/** The factory a worker calls (exported by name, see ModelSpec). */
export async function modelFromSpec(args: SpecArgs): Promise<Model<State, Action, Rc>> {
  const target = await resolveTarget(args.flags);
  return wire(target.u, { invariants: selectInvariants(args.flags.invariants), xen: target.xen, symmetry: args.flags.symmetry === true }).model;
}

/** The spec of a run's model, pointing at the compiled modules (workers run JavaScript). */
export function specFor(flags: ExploreFlags): ModelSpec {
  const dist = join(packageRoot(), 'dist', 'checker');
  const worker = join(dist, 'worker.js');
  const module = join(dist, 'cli', 'model-spec.js');
  if (!existsSync(worker) || !existsSync(module)) throw new UsageError('--workers needs the compiled checker (npm run build)');
  return { module: pathToFileURL(module).href, exportName: 'modelFromSpec', args: { flags: { ...flags } } satisfies SpecArgs, workerUrl: pathToFileURL(worker).href };
}
