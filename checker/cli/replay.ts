// `checker replay FILE` re-executes an ITF counterexample on the configuration in its #meta (or, for a
// trace another tool wrote, the universe the flags give); `checker replay --path TOKEN [flags]`
// re-executes a replay token as every report prints it, with no file at all.
import { resolveTarget, type TargetFlags } from '../xen-model.js';
import { readTraceFile } from '../trace/load.js';
import { replayTrace } from '../trace/replay.js';
import { PathError, parsePathToken, replayPath } from '../trace/replay-path.js';
import { EXIT, UsageError } from './common.js';
import { selectInvariants } from './flags.js';

export interface ReplayFlags extends TargetFlags {
  path?: string;
  invariants?: string;
  gfns?: string;
  spareFrames?: string;
}

/** Whether any flag of the universe (or a mutant) was given: they describe a run, not a trace file's. */
function universeGiven(f: ReplayFlags): boolean {
  return [f.version, f.backend, f.domains, f.gfns, f.spareFrames, f.ops, f.build, f.mutant, f.destroyableDom0, f.preemptibleTeardown, f.superpages].some((x) => x !== undefined);
}

export async function runReplay(file: string | undefined, f: ReplayFlags, out: (s: string) => void): Promise<number> {
  if (f.path !== undefined) {
    if (file !== undefined) throw new UsageError('replay: give a trace file or --path, not both');
    return replayToken(f, out);
  }
  if (file === undefined) throw new UsageError('replay: give a trace file (written by --trace-out) or --path TOKEN with the universe flags of the run that printed it');
  if (f.invariants !== undefined) throw new UsageError('--invariants goes with --path: a trace file names its own property');
  const tf = await readTraceFile(file, { variant: f.variant, universe: universeGiven(f) ? f : undefined });
  const { meta, target } = tf;
  const r = replayTrace(tf);
  const lines = [`replaying ${file}: ${target.u.version} on ${target.u.backend}, ${meta.path.length} steps, property ${meta.property}`];
  lines.push(...r.steps.map((l) => `  ${l}`));
  if (r.violation !== null) {
    lines.push(`still violated: ${meta.property}: ${r.violation}`);
    out(lines.join('\n') + '\n');
    return EXIT.violation;
  }
  lines.push(`no longer violated: ${meta.property} holds along the whole trace`);
  out(lines.join('\n') + '\n');
  return EXIT.ok;
}

async function replayToken(f: ReplayFlags, out: (s: string) => void): Promise<number> {
  const invariants = selectInvariants(f.invariants);
  let path: number[];
  try {
    path = parsePathToken(f.path!);
  } catch (e) {
    if (e instanceof PathError) throw new UsageError(e.message);
    throw e;
  }
  const target = await resolveTarget(f);
  let r;
  try {
    r = replayPath(target, path, invariants);
  } catch (e) {
    if (e instanceof PathError) throw new UsageError(e.message);
    throw e;
  }
  const what = target.label ?? target.u.version;
  const lines = [`replaying token ${path.join(',') || '(initial state)'}: ${what} on ${target.u.backend}, ${path.length} steps, ${invariants.length} invariant${invariants.length === 1 ? '' : 's'}`];
  lines.push(...r.steps.map((l) => `  ${l}`));
  for (const v of r.violations) lines.push(`violated at depth ${v.depth}: ${v.property}: ${v.message}`);
  if (r.violations.length === 0) lines.push(`no invariant violated along the path`);
  lines.push(`verdict: ${r.violations.length === 0 ? 'nothing violated' : `${r.violations.length} of ${invariants.length} violated`}; exit ${r.violations.length ? EXIT.violation : EXIT.ok}`);
  out(lines.join('\n') + '\n');
  return r.violations.length ? EXIT.violation : EXIT.ok;
}
