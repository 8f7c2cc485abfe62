// `checker simulate`: random deep walks, shrunk by fast-check. Where `explore` is exhaustive to a
// small depth, a walk goes far deeper (50 operations by default) at the price of completeness; a
// violation found on a long walk is shrunk (fewer operations, smaller action indices) to a short
// counterexample, printed and written exactly as explore's.
//
// A walk is a list of action indices into the model's fixed enumeration (every action is enabled in
// every unfaulted state; a faulted state has none, and the walk stops there). The property replays it
// from the booted state through the engine's fast path and checks every selected invariant, the
// transition part on every step and the state part on every state, exactly as the wired engine model
// judges them (a faulted state by no-hypervisor-fault alone). It is deterministic in the walk, which
// is what lets fast-check shrink it and replay it from (seed, path).
import { DEFAULT_DOMAINS, makeUniverse } from '../../model/index.js';
import { ModelStepError, walksOnThread } from '../engine/index.js';
import { stepError } from '../check.js';
import { universeToConfig } from '../trace/itf.js';
import { configurationJson, envelope, stepJson } from '../trace/json.js';
import { renderCounterexample, runNotes, targetText } from '../trace/report.js';
import { wrapText } from '../trace/style.js';
import { stdoutStyle } from './terminal.js';
import { buildTrace, type Trace } from '../trace/build.js';
import { resolveTarget, specFor, targetInvariants, wireTarget, type UniverseFlags } from '../xen-model.js';
import { EXIT, UsageError } from './common.js';
import { selectInvariants } from './flags.js';
import { checkOutputDir, traceFileNames, writeTraces } from './output.js';

export const DEFAULT_STEPS = 50;
export const DEFAULT_RUNS = 100;

export interface SimulateFlags extends UniverseFlags {
  /** Maximum operations per walk (default 50). */
  steps?: string;
  /** Number of walks (default 100). */
  runs?: string;
  /** fast-check seed (an integer); default: random, always printed. */
  seed?: string;
  /** fast-check replay path (with --seed): reproduces a failure exactly. */
  path?: string;
  invariants?: string;
  traceOut?: string;
  json?: boolean;
  color?: boolean;
  mutant?: string;
  variant?: string;
}

function parseCount(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < 1 || !Number.isSafeInteger(Number(v))) {
    throw new UsageError(`${name}: expected a whole number ≥ 1, got "${v}"`);
  }
  return Number(v);
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

function parseSeed(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v) || Number(v) < INT32_MIN || Number(v) > INT32_MAX) {
    throw new UsageError(`--seed: expected an integer from ${INT32_MIN} to ${INT32_MAX}, got "${v}"`);
  }
  return Number(v);
}

function parsePath(v: string | undefined, seed: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+(:\d+)*$/.test(v)) throw new UsageError(`--path: expected fast-check's counterexample path (numbers separated by ":"), got "${v}"`);
  if (seed === undefined) throw new UsageError('--path replays a failure of one seed: give --seed too');
  return v;
}

/** A random seed as fast-check's own default would pick (non-negative, to read and retype easily). */
function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}

const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;

/** Shell-quotes an argument when it needs it. */
function shq(a: string): string {
  return /^[\w.,:/=@+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

/** The flags of this run that change what is walked, for the reproduction command. */
function reproFlags(f: SimulateFlags): string[] {
  const d = makeUniverse();
  const args: string[] = [];
  if (f.mutant !== undefined) args.push('--mutant', f.mutant);
  if (f.variant !== undefined) args.push('--variant', f.variant);
  if (f.version !== undefined) args.push('--xen', f.version);
  if (f.backend !== undefined) args.push('--backend', f.backend);
  if (f.domains !== undefined && f.domains !== DEFAULT_DOMAINS) args.push('--domains', f.domains);
  if (f.gfns !== undefined && Number(f.gfns) !== d.gfns) args.push('--gfns', String(f.gfns));
  if (f.spareFrames !== undefined && Number(f.spareFrames) !== d.spareFrames) args.push('--spare-frames', String(f.spareFrames));
  if (f.ops !== undefined) args.push('--ops', f.ops);
  if (f.destroyableDom0) args.push('--destroyable-dom0');
  if (f.preemptibleTeardown) args.push('--preemptible-teardown');
  if (f.build !== undefined) args.push('--build', f.build);
  if (f.superpages) args.push('--superpages');
  if (f.invariants !== undefined) args.push('--invariants', f.invariants);
  if (f.steps !== undefined) args.push('--steps', f.steps);
  if (f.runs !== undefined) args.push('--runs', f.runs);
  return args;
}

export async function runSimulate(f: SimulateFlags, out: (s: string) => void, _err: (s: string) => void): Promise<number> {
  // flags first: one line for bad input before anything is loaded
  const steps = parseCount('--steps', f.steps, DEFAULT_STEPS);
  const runs = parseCount('--runs', f.runs, DEFAULT_RUNS);
  const givenSeed = parseSeed(f.seed);
  const path = parsePath(f.path, f.seed);
  if (f.traceOut !== undefined) checkOutputDir(f.traceOut, '--trace-out');
  const target = await resolveTarget(f);
  if (target.u.granularity === 'steps') throw new UsageError('simulate walks whole hypercalls: --granularity steps is not available here yet (use explore)');
  const invariants = selectInvariants(f.invariants, targetInvariants(target));
  const { u, label } = target;
  const w = wireTarget(target, invariants.map((i) => i.name));
  const nActions = w.xm.actions.length;
  if (nActions === 0) throw new UsageError('the universe has no actions to walk (see --ops)');
  const seed = givenSeed ?? randomSeed();
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
  };
  const t0 = performance.now();
  process.on('SIGINT', onSigint);
  // the walks run on a thread of their own: this one answers Ctrl-C with the walks so far
  const spec = specFor({ target: { ...f, variant: target.variant }, invariants: invariants.map((i) => i.name) });
  let found;
  try {
    found = await walksOnThread(spec, { actions: nActions, maxSteps: steps, runs, seed, path }, () => interrupted);
  } catch (e) {
    if (e instanceof ModelStepError) throw stepError(w, target, e.failure);
    if ((e as Error).name === 'WalkPathError') throw new UsageError(`${(e as Error).message} with these flags (same --steps, --invariants and universe as the failing run?)`);
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
  }
  const report = found;
  const elapsedMs = performance.now() - t0;
  const details = { seed: report.seed, numRuns: report.runs, numShrinks: report.failure?.shrinks ?? 0 };
  const steps0 = report.steps;
  const visited = { size: report.distinct };
  const shrinkWalks = report.failure?.shrinkWalks ?? 0;
  const shrinkSteps = report.failure?.shrinkSteps ?? 0;

  let violation: { trace: Trace; file: string | null; original: { run: number; length: number; property: string }; replayPath: string } | null = null;
  if (report.failure) {
    const fl = report.failure;
    const trace = buildTrace(w, { name: fl.violation.property, depth: fl.walk.length, root: 0, path: fl.walk, message: fl.violation.message });
    const files = f.traceOut === undefined ? null : traceFileNames(f.traceOut, [trace]);
    violation = { trace, file: files?.get(trace.property) ?? null, original: fl.original, replayPath: fl.replayPath };
  }

  const exitCode = violation ? EXIT.violation : report.interrupted ? EXIT.limit : EXIT.ok;
  const repro = violation ? ['checker', 'simulate', '--seed', String(details.seed), '--path', violation.replayPath, ...reproFlags(f)].map(shq).join(' ') : null;
  const notes = runNotes(u, label, violation ? [violation.trace.message ?? ''] : []);
  const cfg = universeToConfig(u);

  if (f.json) {
    const t = violation?.trace;
    const j = {
      ...envelope('simulate'),
      configuration: configurationJson(u, target),
      actions: nActions,
      invariants: invariants.map((i) => i.name),
      maxSteps: steps,
      runsRequested: runs,
      seed: details.seed,
      path: path ?? null,
      runs: details.numRuns,
      steps: steps0,
      distinctStates: visited.size,
      stepsCounted: 'generated walks up to and including the first failing one; shrinking is counted under shrinking',
      shrinking: { shrinks: details.numShrinks, walks: shrinkWalks, steps: shrinkSteps },
      elapsedMs: Math.round(elapsedMs),
      interrupted: report.interrupted,
      threadEnded: found.ended,
      violation:
        violation && t
          ? {
              property: t.property,
              message: t.message ?? null,
              depth: t.depth,
              foundInRun: violation.original.run,
              originalLength: violation.original.length,
              path: t.path,
              steps: t.steps.map((s) => stepJson(u, s)),
              file: violation.file,
              replay: { seed: details.seed, path: violation.replayPath, command: repro },
            }
          : null,
      notes,
      exitCode,
    };
    out(JSON.stringify(j, null, 2) + '\n');
    return writeAfterReport(exitCode);
  }

  const st = stdoutStyle(f.color);
  const lines: string[] = [];
  lines.push(
    st.bold(`checker simulate: ${targetText(u, label)}`) +
      ` on ${u.backend}; domains ${cfg.domains}; ${u.gfns} gfns each, ${u.domains.length * u.gfns + u.spareFrames} frames; ` +
      `${nActions} actions; ${runs} walks of at most ${steps} operations; seed ${details.seed}${path !== undefined ? `, path ${path}` : ''}`,
  );
  lines.push('');
  if (violation) {
    const o = violation.original;
    const t = violation.trace;
    lines.push(
      `${path !== undefined ? `path ${path}` : `run ${o.run}`}: ${o.property} violated on a walk of ${o.length} operations; ` +
        `shrunk in ${details.numShrinks} shrink steps (${shrinkWalks} walks tried) to ${t.depth} operation${t.depth === 1 ? '' : 's'}`,
    );
    lines.push(`${plural(details.numRuns, 'run')}, ${plural(steps0, 'step')}, ${visited.size} distinct states up to the violation (shrinking not counted)`);
  } else if (report.interrupted) {
    lines.push(`interrupted: partial result: ${plural(details.numRuns, 'run')}, ${plural(steps0, 'step')}, ${visited.size} distinct states: no invariant violated so far`);
    lines.push(`rerun: ${['checker', 'simulate', '--seed', String(details.seed), ...reproFlags(f)].map(shq).join(' ')}`);
  } else {
    lines.push(`${plural(details.numRuns, 'run')}, ${plural(steps0, 'step')}, ${visited.size} distinct states: no invariant violated`);
  }
  lines.push(`time ${(elapsedMs / 1000).toFixed(2)} s`);
  for (const note of notes) lines.push('', `note: ${note}`);
  if (violation) {
    lines.push('', ...renderCounterexample(violation.trace, violation.file ?? undefined, st));
    lines.push('', `reproduce: ${repro}`);
  }
  // the closing line, as explore's: the outcome where a person's eye ends up
  const t = violation?.trace;
  lines.push(
    '',
    `verdict: ${
      t
        ? st.red(st.bold(`${t.property} violated`)) + ` (shrunk to depth ${t.depth})`
        : report.interrupted
          ? st.yellow(`interrupted after ${plural(details.numRuns, 'walk')}`) + ': nothing violated so far'
          : st.green(`no invariant violated in ${plural(details.numRuns, 'walk')}`) + ' (not exhaustive)'
    }; exit ${exitCode}`,
  );
  out(wrapText(lines, st.width).join('\n') + '\n');
  return writeAfterReport(exitCode);

  /** The trace file, after the report (which must never be lost to a file that cannot be written). */
  function writeAfterReport(code: number): number {
    if (f.traceOut === undefined || violation === null) return code;
    try {
      writeTraces(f.traceOut, u, [violation.trace], target);
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      _err(`checker: ${e.message}; the report above is complete\n`);
      return EXIT.usage;
    }
    return code;
  }
}
