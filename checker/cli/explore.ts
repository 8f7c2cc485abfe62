// `checker explore`: flags in, a check, the report out.
import { availableParallelism, totalmem } from 'node:os';
import type { ExploreOptions } from '../engine/index.js';
import { check } from '../check.js';
import { coverageReport } from '../trace/coverage.js';
import { exitCodeOf, renderJson, renderText, runNotes } from '../trace/report.js';
import { resolveTarget, targetInvariants, type Target, type TargetFlags } from '../xen-model.js';
import { EXIT, UsageError } from './common.js';
import { defaultMemoryLimit, parseDepth, parseDuration, parsePositive, selectInvariants } from './flags.js';
import { checkOutputDir, traceFileNames, writeTraces } from './output.js';
import { progressSink } from './progress.js';
import { stdoutStyle } from './terminal.js';

/** Workers beyond this are refused even with --oversubscribe (each costs a model and its buffers). */
const MAX_WORKERS = 64;

export interface ExploreFlags extends TargetFlags {
  invariants?: string;
  depth?: string;
  maxStates?: string;
  memoryLimit?: string;
  timeLimit?: string;
  json?: boolean;
  traceOut?: string;
  stopAtFirst?: boolean;
  exact?: boolean;
  progress?: boolean;
  workers?: string;
  oversubscribe?: boolean;
  symmetry?: boolean;
  por?: boolean;
  coverage?: boolean;
  color?: boolean;
  gfns?: string;
  spareFrames?: string;
}

export async function runExplore(f: ExploreFlags, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const target = await resolveTarget(f);
  const { u, label } = target;
  if (f.por && u.granularity !== 'steps') throw new UsageError('--por reduces interleavings of vCPUs: it needs --granularity steps');
  if (f.por) throw new UsageError('--por: partial-order reduction is not available yet; run --granularity steps without it');
  if (f.symmetry && u.granularity === 'steps') throw new UsageError('--symmetry is not available with --granularity steps yet: drop one of them');
  const depth = parseDepth(f.depth);
  const maxStates = parsePositive('--max-states', f.maxStates);
  const memMiB = parsePositive('--memory-limit', f.memoryLimit);
  const memoryLimitBytes = memMiB !== undefined ? memMiB * 1024 * 1024 : defaultMemoryLimit(totalmem());
  const timeLimitMs = parseDuration('--time-limit', f.timeLimit);
  const invariants = selectInvariants(f.invariants, targetInvariants(target));
  // refuse an unusable --trace-out before a long run, not after it
  if (f.traceOut !== undefined) checkOutputDir(f.traceOut, '--trace-out');
  const workers = parsePositive('--workers', f.workers) ?? 1;
  // each worker holds a model and a share of every level: more workers than cores only costs memory
  const cores = availableParallelism();
  if (workers > cores && !f.oversubscribe) {
    throw new UsageError(`--workers: this machine has ${cores} core${cores === 1 ? '' : 's'}; ${workers} workers would only share them (add --oversubscribe to insist)`);
  }
  if (workers > MAX_WORKERS) throw new UsageError(`--workers: at most ${MAX_WORKERS}, got ${workers}`);
  if (workers > 1 && f.exact) throw new UsageError('--exact runs on one worker: drop --workers or --exact');
  if (workers > 1 && f.coverage) throw new UsageError('--coverage runs on one worker: drop --workers or --coverage');

  const showProgress = f.progress ?? process.stderr.isTTY === true;
  const sink = showProgress ? progressSink(process.stderr, depth) : null;
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
  };
  process.on('SIGINT', onSigint);
  let checked;
  try {
    const exploreOpts: ExploreOptions = {
      symmetry: f.symmetry === true,
      maxDepth: depth,
      maxStates,
      memoryLimitBytes,
      timeLimitMs,
      stopAtFirst: f.stopAtFirst ?? false,
      exact: f.exact ?? false,
      shouldStop: () => interrupted,
      progress: sink ? (p) => sink.update(p) : undefined,
    };
    checked = await check(target, { ...exploreOpts, invariants, workers, flags: f, codeCoverage: f.coverage === true });
  } finally {
    process.off('SIGINT', onSigint);
    sink?.done();
  }
  const { w, result, traces, hung } = checked;
  // the report first: a file that cannot be written after all must not lose it
  const traceFiles = f.traceOut === undefined ? new Map<string, string>() : traceFileNames(f.traceOut, traces);
  const exitCode = exitCodeOf(result);
  const info = {
    u,
    label,
    mutant: target.mutant,
    variantRecord: target.variantRecord,
    search: {
      symmetry: f.symmetry === true,
      workers,
      stopAtFirst: f.stopAtFirst === true,
      maxStates: maxStates ?? null,
      timeLimitMs: timeLimitMs ?? null,
      memoryLimitBytes,
    },
    depthBound: depth,
    actionCount: w.xm.actions.length,
    invariants,
    witnesses: w.witnesses,
    result,
    traces,
    traceFiles,
    exact: f.exact ?? false,
    exitCode,
    notes: [...(hung ? [hung] : []), ...runNotes(u, label, result.violations.map((v) => v.message ?? ''))],
    overrides: overrideReport(target, result.tallies),
    coverage: f.coverage ? coverageReport(result, w.xm.ctx.xen) : null,
  };
  if (target.required && target.required.length > 0) {
    info.notes.push(`for variant ${target.variantRecord!.name}, as it requires: ${target.required.join('; ')}`);
  }
  // an override that never ran was never checked: the verdicts say nothing about it
  const idle = info.overrides?.filter((o) => o.calls === 0).map((o) => o.name) ?? [];
  if (idle.length > 0 && result.stopped === null) {
    const warning = `override${idle.length > 1 ? 's' : ''} ${idle.join(', ')} of the variant never ran: ${idle.length > 1 ? 'they are' : 'it is'} not exercised by this universe (see the variant's "requires", --ops, --backend)`;
    info.notes.push(warning);
    err(`checker: warning: ${warning}\n`);
  }
  if (hung) err(`checker: warning: ${hung}\n`);
  // a run that reaches no witness may be vacuous: every invariant holds of a model that does nothing
  if (result.stopped === null && w.witnesses.length > 0 && result.witnesses.length === 0) {
    const warning = 'no witness was reached: the invariants may hold only because nothing happens (deepen --depth, or check --ops)';
    info.notes.push(warning);
    err(`checker: warning: ${warning}\n`);
  }
  out(f.json ? JSON.stringify(renderJson(info), null, 2) + '\n' : renderText(info, stdoutStyle(f.color)));
  if (f.traceOut !== undefined && traces.length > 0) {
    try {
      writeTraces(f.traceOut, u, traces, target);
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      err(`checker: ${e.message}; the report above is complete\n`);
      return EXIT.usage;
    }
  }
  return exitCode;
}

/** How many times each of a variant's overrides ran during the exploration (null: not a variant, or not known). */
export function overrideReport(target: Target, tallies: Record<string, number> | undefined): { name: string; calls: number }[] | null {
  if (!target.overrides) return null;
  const counts = tallies ?? {};
  return target.overrides.names.map((name) => ({ name, calls: counts[name] ?? 0 }));
}
