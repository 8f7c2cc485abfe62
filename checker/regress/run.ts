// The regression matrix: configurations (versions × backends, mutants, variants) explored and
// compared with committed expectations, every deviation named.
import { readFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { ConfigError, findMutant, VariantError } from '../../model/index.js';
import { packageRoot } from '../paths.js';
import { INVARIANTS } from '../../invariants/index.js';
import { check } from '../check.js';
import type { Trace } from '../trace/build.js';
import { shellJoin } from '../trace/command.js';
import { resolveTarget, type Target, type TargetFlags } from '../xen-model.js';
import { matrixProblem, type Expectations, type MatrixEntry, type MatrixFile } from './schema.js';

export type { Expectations, MatrixEntry } from './schema.js';

/** A matrix as read: the whole file (its other top-level fields are written back by --update), validated. */
export type Matrix = MatrixFile;

export interface EntryOutcome {
  name: string;
  /** What was observed; null when the entry could not run. */
  observed: Expectations | null;
  deviations: string[];
  /** Why the entry could not run (a variant that does not load or throws, an unknown mutant), else null. */
  error: string | null;
  elapsedMs: number;
  /** The command line that runs the entry again. */
  command: string;
  /** Its counterexamples (with the universe to write them as ITF). */
  traces: Trace[];
  target: Target | null;
}

/** The project's own matrix: every version × backend, every mutant, the worked variant. */
export function defaultMatrixPath(): string {
  return join(packageRoot(), 'checker', 'regress', 'matrix.json');
}

export function readMatrix(file: string): Matrix {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const why = (e as Error).message.split('\n')[0]!.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?').slice(0, 160);
    throw new ConfigError(`${file}: cannot read the matrix (${why})`);
  }
  const problem = matrixProblem(v);
  if (problem !== null) throw new ConfigError(`${file}: ${problem}`);
  return v as Matrix;
}

/** What an entry checks, as the command line would say it. */
export function entryFlags(e: MatrixEntry, matrixDir: string): TargetFlags {
  return {
    version: e.version,
    backend: e.backend,
    domains: e.domains,
    gfns: e.gfns === undefined ? undefined : String(e.gfns),
    spareFrames: e.spareFrames === undefined ? undefined : String(e.spareFrames),
    ops: e.ops?.join(','),
    preemptibleTeardown: e.preemptibleTeardown,
    destroyableDom0: e.destroyableDom0,
    build: e.build,
    superpages: e.superpages,
    granularity: e.granularity,
    vcpus: e.vcpus === undefined ? undefined : String(e.vcpus),
    mutant: e.mutant,
    variant: e.variant === undefined ? undefined : isAbsolute(e.variant) ? e.variant : resolve(matrixDir, e.variant),
  };
}

/**
 * Every entry's target, resolved before any is explored: an entry that cannot run (an unknown
 * version, a variant that does not load) is refused up front, naming the entry, not after an hour.
 */
export async function resolveEntries(entries: readonly MatrixEntry[], matrixDir: string): Promise<(Target | ConfigError)[]> {
  const out: (Target | ConfigError)[] = [];
  for (const e of entries) {
    try {
      out.push(await resolveTarget(entryFlags(e, matrixDir)));
    } catch (err) {
      // an entry that cannot run is that entry's error, reported with the others' results (a CI
      // report with one test case in error, rather than no report at all)
      if (err instanceof ConfigError || err instanceof VariantError) out.push(new ConfigError(`entry "${e.name}": ${err.message}`));
      else throw err;
    }
  }
  return out;
}

/** The command line that explores an entry again, from where the user stands: its fields as flags. */
export function entryCommand(e: MatrixEntry, matrixDir: string): string {
  const args = ['checker', 'explore'];
  if (e.mutant !== undefined) args.push('--mutant', e.mutant);
  if (e.variant !== undefined) args.push('--variant', typedPath(isAbsolute(e.variant) ? e.variant : resolve(matrixDir, e.variant)));
  if (e.version !== undefined) args.push('--xen', e.version);
  if (e.backend !== undefined) args.push('--backend', e.backend);
  if (e.domains !== undefined) args.push('--domains', e.domains);
  if (e.gfns !== undefined) args.push('--gfns', String(e.gfns));
  if (e.spareFrames !== undefined) args.push('--spare-frames', String(e.spareFrames));
  if (e.ops !== undefined) args.push('--ops', e.ops.join(','));
  if (e.destroyableDom0) args.push('--destroyable-dom0');
  if (e.preemptibleTeardown) args.push('--preemptible-teardown');
  if (e.build !== undefined) args.push('--build', e.build);
  if (e.superpages) args.push('--superpages');
  if (e.granularity !== undefined) args.push('--granularity', e.granularity);
  if (e.vcpus !== undefined) args.push('--vcpus', String(e.vcpus));
  args.push('--depth', String(e.depth));
  return shellJoin(args);
}

/** A path as the user would type it from the current folder. */
function typedPath(p: string): string {
  const rel = relative(process.cwd(), p);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : p;
}

/** An entry that could not run, as an outcome. */
export function errorOutcome(e: MatrixEntry, matrixDir: string, error: Error): EntryOutcome {
  return { name: e.name, observed: null, deviations: [], error: error.message, elapsedMs: 0, command: entryCommand(e, matrixDir), traces: [], target: null };
}

export async function runEntry(e: MatrixEntry, matrixDir: string, resolved?: Target): Promise<EntryOutcome> {
  const flags = entryFlags(e, matrixDir);
  let target: Target;
  try {
    target = resolved ?? (await resolveTarget(flags));
  } catch (err) {
    if (err instanceof ConfigError || err instanceof VariantError) return errorOutcome(e, matrixDir, new ConfigError(`entry "${e.name}": ${err.message}`));
    throw err;
  }
  // through check, as explore: off the main thread, and a variant's exception is the user's error
  let checked;
  const t0 = performance.now();
  try {
    // with steps granularity, the default reduction (sleep sets), as explore runs it
    checked = await check(target, { maxDepth: e.depth, invariants: INVARIANTS, workers: 1, flags, sleepSets: target.u.granularity === 'steps' });
  } catch (err) {
    if (err instanceof VariantError) {
      return { ...errorOutcome(e, matrixDir, new VariantError(`entry "${e.name}": ${err.message}`)), elapsedMs: Math.round(performance.now() - t0), command: entryCommand(e, matrixDir), target };
    }
    throw err;
  }
  const { w, result: r } = checked;
  const observed: Expectations = {
    distinct: r.distinct,
    violations: Object.fromEntries(r.violations.map((v) => [v.name, v.depth])),
    witnesses: Object.fromEntries(r.witnesses.map((v) => [v.name, v.depth])),
  };
  const deviations: string[] = [];
  const x = e.expect;
  if (!x) {
    deviations.push('no expectations recorded (run with --update to record them)');
  } else {
    if (x.distinct !== observed.distinct) {
      deviations.push(`distinct states changed: expected ${x.distinct}, got ${observed.distinct}`);
    }
    for (const inv of w.invariants) {
      const want = x.violations[inv.name];
      const got = observed.violations[inv.name];
      if (want === undefined && got !== undefined) deviations.push(`${inv.name}: expected to hold, violated at depth ${got}`);
      else if (want !== undefined && got === undefined) deviations.push(`${inv.name}: expected violated at depth ${want}, now holds (no longer caught)`);
      else if (want !== got) deviations.push(`${inv.name}: expected violated at depth ${want}, now at depth ${got}`);
    }
    for (const wt of w.witnesses) {
      const want = x.witnesses[wt.name];
      const got = observed.witnesses[wt.name];
      if (want !== undefined && got === undefined) deviations.push(`witness ${wt.name}: no longer reached (a vacuous model?)`);
      else if (want === undefined && got !== undefined) deviations.push(`witness ${wt.name}: now reached at depth ${got}, expected unreached`);
      else if (want !== got) deviations.push(`witness ${wt.name}: expected at depth ${want}, reached at ${got}`);
    }
  }
  // a finding must stay where docs/findings.md says it is, whatever --update records
  for (const f of e.findings ?? []) {
    const got = observed.violations[f.invariant];
    if (f.role === 'affected' && got === undefined) deviations.push(`finding ${f.id}: ${f.invariant} should be violated here (docs/findings.md), but holds`);
    if (f.role === 'unaffected' && got !== undefined) deviations.push(`finding ${f.id}: ${f.invariant} should hold here (docs/findings.md), violated at depth ${got}`);
  }
  if (e.mutant !== undefined) {
    const m = findMutant(e.mutant)!;
    const got = observed.violations[m.expect.invariant];
    if (got !== m.expect.depth) {
      deviations.push(`mutant ${m.name}: its catalogue expects ${m.expect.invariant} at depth ${m.expect.depth}, got ${got === undefined ? 'no violation' : `depth ${got}`}`);
    }
  }
  return { name: e.name, observed, deviations, error: null, elapsedMs: Math.round(r.elapsedMs), command: entryCommand(e, matrixDir), traces: checked.traces, target };
}

