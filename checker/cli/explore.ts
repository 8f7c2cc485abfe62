// `checker explore`: flags in, a check, the report out.
import { createHash } from 'node:crypto';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { CheckpointError, checkResumable, openCheckpoint, type ExploreOptions, type ExploreResult } from '../engine/index.js';
import { WITNESSES, type Invariant } from '../../invariants/index.js';
import { check } from '../check.js';
import { coverageReport } from '../trace/coverage.js';
import { exitCodeOf, renderJson, renderText, runNotes } from '../trace/report.js';
import { resolveTarget, targetInvariants, type Target, type TargetFlags } from '../xen-model.js';
import { EXIT, printable, TOOL_VERSION, UsageError } from './common.js';
import { defaultFrontierMemory, defaultMemoryLimit, parseDepth, parseDuration, parsePositive, parseSize, selectInvariants } from './flags.js';
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
  reduction?: string;
  coverage?: boolean;
  color?: boolean;
  gfns?: string;
  spareFrames?: string;
  checkpoint?: string;
  resume?: string;
  frontierMemory?: string;
  spillDir?: string;
}

export async function runExplore(f: ExploreFlags, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const target = await resolveTarget(f);
  const { u, label } = target;
  if (f.por && u.granularity !== 'steps') throw new UsageError('--por reduces interleavings of vCPUs: it needs --granularity steps');
  if (f.por) throw new UsageError('--por: persistent sets are not built (docs/semantics.md says why); sleep sets, the default with --granularity steps, already skip reordered segments');
  if (f.reduction !== undefined && f.reduction !== 'sleep' && f.reduction !== 'none') throw new UsageError(`--reduction: "${printable(f.reduction)}" is not one of sleep, none`);
  if (f.reduction !== undefined && u.granularity !== 'steps') throw new UsageError('--reduction reduces interleavings of vCPUs: it needs --granularity steps');
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
  // sleep sets by default with steps granularity, on any number of workers
  const sleepSets = u.granularity === 'steps' && f.reduction !== 'none';
  // each worker holds a model and a share of every level: more workers than cores only costs memory
  const cores = availableParallelism();
  if (workers > cores && !f.oversubscribe) {
    throw new UsageError(`--workers: this machine has ${cores} core${cores === 1 ? '' : 's'}; ${workers} workers would only share them (add --oversubscribe to insist)`);
  }
  if (workers > MAX_WORKERS) throw new UsageError(`--workers: at most ${MAX_WORKERS}, got ${workers}`);
  if (workers > 1 && f.exact) throw new UsageError('--exact runs on one worker: drop --workers or --exact');
  if (workers > 1 && f.coverage) throw new UsageError('--coverage runs on one worker: drop --workers or --coverage');
  if (f.coverage && (f.checkpoint !== undefined || f.resume !== undefined)) {
    throw new UsageError('--coverage counts one run from its start: drop --checkpoint and --resume, or --coverage');
  }
  const frontierBytes = parseSize('--frontier-memory', f.frontierMemory);
  if (workers > 1 && frontierBytes !== undefined) {
    throw new UsageError('--frontier-memory: the frontier goes to disk on one worker only; with --workers it stays in memory (drop one of them)');
  }
  if (f.spillDir !== undefined && workers > 1) throw new UsageError('--spill-dir: the frontier goes to disk on one worker only (drop --workers or --spill-dir)');
  const spillParent = resolve(f.spillDir ?? tmpdir());
  if (f.spillDir !== undefined) checkWritableDir(spillParent, '--spill-dir');

  // what a checkpoint must have been written by: the same model and the same search
  const identity = checkpointIdentity(target, f, invariants);
  let resume: ExploreOptions['resume'];
  if (f.resume !== undefined) {
    try {
      const c = openCheckpoint(f.resume);
      checkResumable(c, identity, c.state.stride, f.exact ?? false, depth);
      resume = { dir: f.resume, identity, verified: true };
      err(`checker: resuming at depth ${c.state.depth} (${c.state.size.toLocaleString('en-US')} states) from ${c.path}\n`);
    } catch (e) {
      if (e instanceof CheckpointError) throw new UsageError(`--resume: ${e.message}`);
      throw e;
    }
  }
  // made at the first level's end (refused now if it could not be)
  if (f.checkpoint !== undefined) checkOutputDir(f.checkpoint, '--checkpoint');

  const showProgress = f.progress ?? process.stderr.isTTY === true;
  const sink = showProgress ? progressSink(process.stderr, depth) : null;
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
  };
  process.on('SIGINT', onSigint);
  // the frontier's files: a folder of this run's own, removed at the end whatever happens
  // (on request only: a temporary folder in memory, as /tmp often is, would gain nothing)
  const spillBudget = workers > 1 ? undefined : (frontierBytes ?? (f.spillDir !== undefined ? defaultFrontierMemory(memoryLimitBytes) : undefined));
  let spillDir: string | null = null;
  const removeSpill = () => {
    if (spillDir !== null) rmSync(spillDir, { recursive: true, force: true });
    spillDir = null;
  };
  if (spillBudget !== undefined) {
    try {
      spillDir = mkdtempSync(join(spillParent, 'checker-frontier-'));
    } catch (e) {
      throw new UsageError(`--spill-dir: cannot make a folder in ${spillParent} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  process.on('exit', removeSpill);
  let checked;
  try {
    const exploreOpts: ExploreOptions = {
      ...(spillDir !== null ? { spill: { dir: spillDir, budgetBytes: spillBudget! } } : {}),
      ...(f.checkpoint !== undefined ? { checkpoint: { dir: resolve(f.checkpoint), identity } } : {}),
      ...(resume !== undefined ? { resume } : {}),
      symmetry: f.symmetry === true,
      sleepSets,
      maxDepth: depth,
      maxStates,
      memoryLimitBytes,
      timeLimitMs,
      stopAtFirst: f.stopAtFirst ?? false,
      exact: f.exact ?? false,
      shouldStop: () => interrupted,
      progress: sink ? (p) => sink.update(p) : undefined,
    };
    try {
      checked = await check(target, { ...exploreOpts, invariants, workers, flags: f, codeCoverage: f.coverage === true });
    } catch (e) {
      // a disk that fills up or goes away under the frontier or a checkpoint: the user's to fix
      const x = e as NodeJS.ErrnoException;
      if (typeof x.code === 'string' && ['open', 'write', 'read', 'fsync', 'rename', 'mkdir', 'close'].includes(x.syscall ?? '')) {
        const what = `${x.syscall}${x.path !== undefined ? ` ${x.path}` : ''}`;
        throw new UsageError(`cannot ${what} (${x.code}) for the frontier or a checkpoint: the run stopped${f.checkpoint !== undefined ? '; the last checkpoint written is whole' : ''}`);
      }
      throw e;
    }
  } finally {
    process.off('SIGINT', onSigint);
    sink?.done();
    removeSpill();
    process.off('exit', removeSpill);
  }
  const { w, result, traces, hung } = checked;
  storageNotes(result, f, err);
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
    reductionNote: reductionNote(u, f, result),
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

/** What the report says of partial-order reduction with steps granularity (null with atomic). */
function reductionNote(u: { granularity: string }, f: ExploreFlags, r: ExploreResult): string | null {
  if (u.granularity !== 'steps') return null;
  if (r.reduction !== undefined) {
    const all = r.generated + r.reduction.pruned;
    const pct = all === 0 ? 0 : (100 * r.reduction.pruned) / all;
    return `partial-order reduction: sleep sets; ${r.reduction.pruned.toLocaleString('en-US')} of ${all.toLocaleString('en-US')} transitions not stepped (${pct.toFixed(1)}%); the same states, depths and traces as without`;
  }
  if (f.reduction === 'none') return 'partial-order reduction: none (--reduction none)';
  return 'partial-order reduction: none (a transition property of your own, or --coverage, needs every transition stepped)';
}

/** How many times each of a variant's overrides ran during the exploration (null: not a variant, or not known). */
export function overrideReport(target: Target, tallies: Record<string, number> | undefined): { name: string; calls: number }[] | null {
  if (!target.overrides) return null;
  const counts = tallies ?? {};
  return target.overrides.names.map((name) => ({ name, calls: counts[name] ?? 0 }));
}

/**
 * What identifies a run's model and search in a checkpoint: a checkpoint written with any of these
 * different is refused on --resume. Limits and --depth may change (a resumed run may go deeper).
 */
export function checkpointIdentity(target: Target, f: ExploreFlags, invariants: readonly Invariant[]): Record<string, unknown> {
  const { version, targets: _derived, ...universe } = target.u as typeof target.u & { targets?: unknown };
  return {
    checker: TOOL_VERSION,
    xen: version,
    ...universe,
    mutant: target.mutant ?? null,
    variant: target.variantRecord ? `${target.variantRecord.name} (sha256 ${target.variantRecord.sha256})` : null,
    properties: f.properties === undefined ? null : fileHash(f.properties),
    invariants: invariants.map((i) => i.name),
    witnesses: [...WITNESSES, ...target.properties.witnesses].map((w) => w.name),
    symmetry: f.symmetry === true,
    exact: f.exact === true,
    stopAtFirst: f.stopAtFirst === true,
  };
}

function fileHash(file: string): string {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return 'unreadable';
  }
}

function checkWritableDir(dir: string, flag: string): void {
  try {
    if (!statSync(dir).isDirectory()) throw new UsageError(`${flag}: ${dir} is not a directory`);
    accessSync(dir, constants.W_OK);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${flag}: cannot write in ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** Where the run's frontier and checkpoints went, on stderr (the report is the same with or without them). */
function storageNotes(r: ExploreResult, f: ExploreFlags, err: (s: string) => void): void {
  const mib = (b: number) => `${(b / (1 << 20)).toFixed(1)} MiB`;
  if (r.spill && r.spill.levels > 0) err(`checker: the frontier of ${r.spill.levels} level${r.spill.levels === 1 ? '' : 's'} went to disk: ${mib(r.spill.bytesWritten)} written\n`);
  if (r.checkpoints) err(`checker: checkpoint of depth ${r.checkpoints.depth} in ${join(f.checkpoint!, 'checkpoint.bin')} (${mib(r.checkpoints.lastBytes)})\n`);
}
