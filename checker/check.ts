// A run of the checker on a target: the exploration, then each counterexample rebuilt for a person.
// The command line, the regression matrix and any other front end start here.
//
// This thread must always answer Ctrl-C and poll the limits. The checker's own model steps in
// microseconds, so on one worker it explores here, giving the event loop a turn every few hundred
// states; a user's variant may take any time in a step (an endless loop), so it is explored on a
// thread of its own, which this one can end. Several workers are threads anyway. An exception in a
// step comes back with the path of hypercalls that led to it.
import { relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { exploreAsync, exploreOnThread, exploreParallel, ModelStepError, type ExploreOptions, type ExploreResult, type StepFailure } from './engine/index.js';
import { formatAction, VariantError } from '../model/index.js';
import type { Invariant } from '../invariants/index.js';
import { buildTrace, realizePath, type Trace } from './trace/build.js';
import { specFor, wireTarget, type Target, type TargetFlags, type Wired } from './xen-model.js';

export interface CheckOptions extends ExploreOptions {
  invariants: readonly Invariant[];
  /** Worker threads (1: one explorer thread). */
  workers: number;
  /** For the explorer's threads: how they resolve the same target again. */
  flags: TargetFlags;
  /** Count what the exploration exercised, and which blocks of the model's code never ran (one thread). */
  codeCoverage?: boolean;
}

export interface Checked {
  w: Wired;
  result: ExploreResult;
  /** One per violation, in the order of the result's violations. */
  traces: Trace[];
  /** When a step never returned and the run was ended: which, for a person. */
  hung: string | null;
}

export async function check(target: Target, o: CheckOptions): Promise<Checked> {
  const w = wireTarget(target, o.invariants.map((i) => i.name), o.symmetry === true);
  const spec = () =>
    specFor({
      target: { ...o.flags, variant: target.variant ?? o.flags.variant },
      invariants: o.invariants.map((i) => i.name),
      symmetry: o.symmetry === true,
      coverage: o.codeCoverage === true,
    });
  let result: ExploreResult;
  try {
    // coverage is taken on a thread of its own, started before the model's code is compiled
    if (o.codeCoverage) result = await exploreOnThread(spec(), { ...o, coverage: coverageSources(target) });
    else if (o.workers > 1) result = await exploreParallel(w.model, spec(), o.workers, o);
    else if (target.variant !== undefined) result = await exploreOnThread(spec(), o);
    else result = await exploreAsync(w.model, o);
  } catch (e) {
    if (e instanceof ModelStepError) throw stepError(w, target, e.failure);
    throw e;
  }
  const traces = result.violations.map((v) => buildTrace(w, v));
  // With symmetry the explorer judged representatives: the paths and messages a person reads are
  // those of the real run the trace rebuilt.
  if (w.symmetric) {
    result.violations.forEach((v, i) => {
      v.path = traces[i]!.path;
      v.message = traces[i]!.message;
    });
    for (const wt of result.witnesses) wt.path = realizePath(w, wt.path);
  }
  let hung: string | null = null;
  if (result.hung) {
    const h = result.hung;
    const at = h.path === null ? 'a state too deep to name' : describePath(w, h.action >= 0 ? [...h.path, h.action] : h.path);
    hung = `the explorer did not answer the stop within a second (a step that never returns?) and was ended in: ${at}`;
  }
  return { w, result, traces, hung };
}

/** A path of action indices as a person reads it (with symmetry, of the representatives explored). */
export function describePath(w: Wired, path: readonly number[]): string {
  if (path.length === 0) return 'the initial state';
  const steps = path.map((ai, k) => `${k + 1}. ${w.xm.u.granularity === 'atomic' && w.xm.actions[ai] ? formatAction(w.xm.u, w.xm.actions[ai]!) : `action ${ai}`}`);
  return `${steps.join(', ')} (replay token ${path.join(',')}${w.symmetric ? ', of the symmetric states explored' : ''})`;
}

/** Where in the user's own file an error was thrown, from its stack: "file:line:col", or null. */
export function userFrame(stack: string, file: string): string | null {
  for (const line of stack.split('\n')) {
    const i = line.indexOf(file);
    if (i < 0) continue;
    const m = /^:(\d+):(\d+)/.exec(line.slice(i + file.length));
    const rel = relative(process.cwd(), file);
    if (m) return `${rel === '' || rel.startsWith('..') ? file : rel}:${m[1]}:${m[2]}`;
  }
  return null;
}

/**
 * An exception in a step: in a user's variant it is the user's error (exit 2), named with the path of
 * hypercalls that led to it and the line of their file; in the checker's own model, an internal error.
 */
export function stepError(w: Wired, target: Target, f: StepFailure): Error {
  const where = f.inAction ? `in the last step of ${describePath(w, f.path)}` : `listing the actions of the state after ${describePath(w, f.path)}`;
  const what = `${f.name}: ${f.message.split('\n')[0]}`;
  if (target.variant !== undefined) {
    const line = userFrame(f.stack, target.variant);
    const name = target.variantRecord?.name ?? 'the variant';
    return new VariantError(`--variant ${name} threw ${what}${line ? ` at ${line}` : ''}; ${where}`);
  }
  return new Error(`the model threw ${what}, ${where}\n${f.stack}`);
}

/** The scripts whose coverage is reported: the model's compiled code, and a variant's file. */
export function coverageSources(target: Target): string[] {
  return ['/dist/model/', ...(target.variant ? [pathToFileURL(target.variant).href, target.variant] : [])];
}
