// `checker replay FILE`: re-executes an ITF counterexample on the configuration in its #meta, or,
// with `--variant FIX.ts` naming another table than the one the trace was made with, says whether
// the fix removes the violation.
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { EXIT } from './common.js';
import { parseItf, TraceFormatError, type ItfMeta } from '../trace/itf.js';
import { readTraceFile, traceUniverse } from '../trace/load.js';
import { judgePath, recordedRcs, replayTrace } from '../trace/replay.js';
import { resolveTarget, targetInvariants, wireTarget } from '../xen-model.js';
import { ConfigError, VariantError } from '../../model/index.js';
import { userFrame } from '../check.js';

export async function runReplay(file: string, f: { variant?: string }, out: (s: string) => void): Promise<number> {
  if (f.variant !== undefined && !isTraceOf(file, f.variant)) return replayUnderFix(file, f.variant, out);
  const tf = await readTraceFile(file, { variant: f.variant });
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

/** Whether the trace was made with this very variant file (its name and hash): then it replays exactly. */
function isTraceOf(file: string, variantFile: string): boolean {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return false; // readTraceFile says why
  }
  let meta: ItfMeta;
  try {
    meta = parseItf(text, file).meta;
  } catch {
    return false;
  }
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
