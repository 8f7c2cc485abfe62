// The regression matrix: configurations (versions × backends, mutants, variants) explored and
// compared with committed expectations, every deviation named.
import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { ConfigError, findMutant, VariantError } from '../../model/index.js';
import { packageRoot } from '../paths.js';
import { INVARIANTS } from '../../invariants/index.js';
import { check } from '../check.js';
import { resolveTarget, type Target, type TargetFlags } from '../xen-model.js';
import { matrixProblem, type Expectations, type MatrixEntry, type MatrixFile } from './schema.js';

export type { Expectations, MatrixEntry } from './schema.js';

/** A matrix as read: the whole file (its other top-level fields are written back by --update), validated. */
export type Matrix = MatrixFile;

export interface EntryOutcome {
  name: string;
  observed: Expectations;
  deviations: string[];
  elapsedMs: number;
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
    mutant: e.mutant,
    variant: e.variant === undefined ? undefined : isAbsolute(e.variant) ? e.variant : resolve(matrixDir, e.variant),
  };
}

/**
 * Every entry's target, resolved before any is explored: an entry that cannot run (an unknown
 * version, a variant that does not load) is refused up front, naming the entry, not after an hour.
 */
export async function resolveEntries(file: string, entries: readonly MatrixEntry[], matrixDir: string): Promise<Target[]> {
  const out: Target[] = [];
  for (const e of entries) {
    try {
      out.push(await resolveTarget(entryFlags(e, matrixDir)));
    } catch (err) {
      if (err instanceof ConfigError || err instanceof VariantError) throw new ConfigError(`${file}: entry "${e.name}": ${err.message}`);
      throw err;
    }
  }
  return out;
}

export async function runEntry(e: MatrixEntry, matrixDir: string, resolved?: Target): Promise<EntryOutcome> {
  const flags = entryFlags(e, matrixDir);
  const target = resolved ?? (await resolveTarget(flags));
  // through check, as explore: off the main thread, and a variant's exception is the user's error
  let checked;
  try {
    checked = await check(target, { maxDepth: e.depth, invariants: INVARIANTS, workers: 1, flags });
  } catch (err) {
    if (err instanceof VariantError) throw new VariantError(`entry "${e.name}": ${err.message}`);
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
  if (e.mutant !== undefined) {
    const m = findMutant(e.mutant)!;
    const got = observed.violations[m.expect.invariant];
    if (got !== m.expect.depth) {
      deviations.push(`mutant ${m.name}: its catalogue expects ${m.expect.invariant} at depth ${m.expect.depth}, got ${got === undefined ? 'no violation' : `depth ${got}`}`);
    }
  }
  return { name: e.name, observed, deviations, elapsedMs: r.elapsedMs };
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function junitXml(outcomes: EntryOutcome[]): string {
  const failures = outcomes.filter((o) => o.deviations.length > 0).length;
  const total = outcomes.reduce((t, o) => t + o.elapsedMs, 0) / 1000;
  const cases = outcomes.map((o) => {
    const head = `  <testcase classname="checker.regress" name="${xmlEscape(o.name)}" time="${(o.elapsedMs / 1000).toFixed(3)}"`;
    if (o.deviations.length === 0) return `${head}/>`;
    return `${head}>\n    <failure message="${xmlEscape(o.deviations[0]!)}">${xmlEscape(o.deviations.join('\n'))}</failure>\n  </testcase>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="checker regress" tests="${outcomes.length}" failures="${failures}" time="${total.toFixed(3)}">\n${cases.join('\n')}\n</testsuite>\n`;
}

