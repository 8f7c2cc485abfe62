// `checker replay FILE` re-executes an ITF counterexample on the configuration in its #meta (or, for a
// trace another tool wrote, the universe the flags give); with `--variant FIX.ts` naming another table
// than the one the trace was made with, it says whether the fix removes the violation;
// `checker replay --path TOKEN [flags]` re-executes a replay token as every report prints it, with no
// file at all.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError, VariantError } from '../../model/index.js';
import { userFrame } from '../check.js';
import { parseItf, TraceFormatError, type ItfMeta } from '../trace/itf.js';
import { readTraceFile, traceUniverse } from '../trace/load.js';
import { judgePath, recordedRcs, replayTrace } from '../trace/replay.js';
import { resolveTarget, targetInvariants, wireTarget, type TargetFlags } from '../xen-model.js';
import { PathError, parsePathToken, replayPath } from '../trace/replay-path.js';
import { EXIT, UsageError } from './common.js';
import { checkOutputDir, writeTraces } from './output.js';
import { buildTrace } from '../trace/build.js';
import { selectInvariants } from './flags.js';

export interface ReplayFlags extends TargetFlags {
  path?: string;
  invariants?: string;
  gfns?: string;
  spareFrames?: string;
  traceOut?: string;
}

/** Whether any flag of the universe (or a mutant) was given: they describe a run, not a trace file's. */
function universeGiven(f: ReplayFlags): boolean {
  return [f.version, f.backend, f.domains, f.gfns, f.spareFrames, f.ops, f.build, f.mutant, f.destroyableDom0, f.preemptibleTeardown, f.superpages, f.granularity, f.vcpus].some((x) => x !== undefined);
}

export async function runReplay(file: string | undefined, f: ReplayFlags, out: (s: string) => void): Promise<number> {
  if (f.path !== undefined) {
    if (file !== undefined) throw new UsageError('replay: give a trace file or --path, not both');
    return replayToken(f, out);
  }
  if (f.traceOut !== undefined) throw new UsageError('--trace-out goes with --path: a trace file is already a trace');
  if (file === undefined) throw new UsageError('replay: give a trace file (written by --trace-out) or --path TOKEN with the universe flags of the run that printed it');
  if (f.invariants !== undefined) throw new UsageError('--invariants goes with --path: a trace file names its own property');
  if (f.variant !== undefined && !universeGiven(f)) {
    const meta = ourMeta(file);
    if (meta !== null && !isTraceOf(meta, f.variant)) return replayUnderFix(file, f.variant, out);
  }
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
  // refuse an unusable --trace-out before replaying
  if (f.traceOut !== undefined) checkOutputDir(f.traceOut, '--trace-out');
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
  if (f.traceOut !== undefined && r.violations.length > 0) {
    // each violation's trace: the token up to the step that violates it, as explore --trace-out writes it
    const traces = r.violations.map((v) =>
      buildTrace(wireTarget(target, [v.property]), { name: v.property, depth: v.depth, root: 0, path: path.slice(0, v.depth), message: v.message }),
    );
    const files = writeTraces(f.traceOut, target.u, traces, target);
    out([...files.values()].map((file) => `trace: ${file}\n`).join(''));
  }
  return r.violations.length ? EXIT.violation : EXIT.ok;
}

/** A trace file's #meta when the checker wrote it (with its configuration), else null (readTraceFile says why). */
function ourMeta(file: string): ItfMeta | null {
  try {
    return parseItf(readFileSync(file, 'utf8'), file).meta;
  } catch {
    return null;
  }
}

/** Whether the trace was made with this very variant file (its name and hash): then it replays exactly. */
function isTraceOf(meta: ItfMeta, variantFile: string): boolean {
  const rec = meta.configuration.variant;
  if (typeof rec !== 'object' || rec === null) return false;
  try {
    return createHash('sha256').update(readFileSync(variantFile)).digest('hex') === rec.sha256;
  } catch {
    return false;
  }
}

/**
 * The trace's operations, run under the fix in the trace's own universe: fixed (0) when the property
 * holds all along, still violated (12), or the trace no longer applies (2: a step now returns another
 * code, which the fix may well intend: say which).
 */
async function replayUnderFix(file: string, variantFile: string, out: (s: string) => void): Promise<number> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new TraceFormatError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const { meta, states } = parseItf(text, file);
  if (meta === null) throw new TraceFormatError(`${file}: not a trace of the checker's own (no configuration): replay it with the universe flags instead`);
  const c = meta.configuration;
  const fix = await resolveTarget({
    ...traceUniverse(c),
    variant: variantFile,
    exactUniverse: true,
  }).catch((e: unknown) => {
    if (e instanceof ConfigError) throw new TraceFormatError(`--variant ${variantFile} does not apply to ${file}: ${e.message}`);
    throw e;
  });
  const inv = targetInvariants(fix).find((i) => i.name === meta.property);
  if (!inv) throw new TraceFormatError(`${file}: #meta.property "${meta.property}" is not an invariant of ${variantFile}`);
  const w = wireTarget(fix, [inv.name]);
  const name = fix.variantRecord!.name;
  let v;
  try {
    v = judgePath(w, inv, meta.path, recordedRcs(states));
  } catch (e) {
    // an exception in the fix's own code is the user's error, with where it was thrown in their file
    const err = e instanceof Error ? e : new Error(String(e));
    const line = userFrame(err.stack ?? '', fix.variant!);
    throw new VariantError(`--variant ${name} threw ${err.name}: ${err.message.split('\n')[0]}${line ? ` at ${line}` : ''}, replaying ${file}`);
  }
  const lines = [`replaying ${file} under variant ${name} (${variantFile}): ${fix.u.version} on ${fix.u.backend}, ${meta.path.length} steps, property ${meta.property}`];
  lines.push(...v.steps.map((l) => `  ${l}`));
  if (v.violation !== null) {
    lines.push(`still violated under ${name}: ${meta.property} at step ${v.at}: ${v.violation}`);
    out(lines.join('\n') + '\n');
    return EXIT.violation;
  }
  if (v.diverged !== null) {
    lines.push(`the trace no longer applies under ${name}: step ${v.diverged.step}: ${v.diverged.why}`);
    out(lines.join('\n') + '\n');
    return EXIT.usage;
  }
  lines.push(`fixed by ${name}: ${meta.property} holds along the whole trace`);
  out(lines.join('\n') + '\n');
  return EXIT.ok;
}
