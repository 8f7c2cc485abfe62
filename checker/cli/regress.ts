// `checker regress`: runs a matrix of configurations (versions × backends, mutants, variants)
// against committed expectations and reports every deviation.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { explore } from '../engine.js';
import { findMutant } from '../../model/index.js';
import { EXIT, packageRoot, UsageError } from './common.js';
import { resolveTarget, type ExploreFlags } from './explore.js';
import { wire } from './wiring.js';

export interface MatrixEntry {
  name: string;
  version?: string;
  backend?: string;
  domains?: string;
  gfns?: number;
  spareFrames?: number;
  ops?: string[];
  preemptibleTeardown?: boolean;
  destroyableDom0?: boolean;
  mutant?: string;
  /** A --variant file, relative to the matrix file. */
  variant?: string;
  depth: number;
  expect?: Expectations;
}

export interface Expectations {
  distinct: number;
  /** Every violated invariant with its shortest depth; any other invariant must hold. */
  violations: Record<string, number>;
  /** Every reached witness with its depth; any other must stay unreached. */
  witnesses: Record<string, number>;
}

export interface Matrix {
  entries: MatrixEntry[];
}

export interface EntryOutcome {
  name: string;
  observed: Expectations;
  deviations: string[];
  elapsedMs: number;
}

/** The project's own matrix: every version × backend, every mutant, the worked variant. */
export function defaultMatrixPath(): string {
  return join(packageRoot(), 'checker', 'cli', 'regress-matrix.json');
}

export function readMatrix(file: string): Matrix {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`${file}: cannot read the matrix (${(e as Error).message.split('\n')[0]})`);
  }
  const entries = (v as Matrix | null)?.entries;
  if (!Array.isArray(entries)) throw new UsageError(`${file}: expected { "entries": [ ... ] }`);
  entries.forEach((e, i) => {
    if (typeof e?.name !== 'string') throw new UsageError(`${file}: entries[${i}] needs a "name"`);
    if (!Number.isInteger(e.depth) || e.depth < 0) throw new UsageError(`${file}: entry "${e.name}" needs a whole "depth"`);
  });
  return { entries };
}

export async function runEntry(e: MatrixEntry, matrixDir: string): Promise<EntryOutcome> {
  const flags: ExploreFlags = {
    version: e.version,
    backend: e.backend,
    domains: e.domains,
    gfns: e.gfns === undefined ? undefined : String(e.gfns),
    spareFrames: e.spareFrames === undefined ? undefined : String(e.spareFrames),
    ops: e.ops?.join(','),
    preemptibleTeardown: e.preemptibleTeardown,
    destroyableDom0: e.destroyableDom0,
    mutant: e.mutant,
    variant: e.variant === undefined ? undefined : isAbsolute(e.variant) ? e.variant : resolve(matrixDir, e.variant),
  };
  const target = await resolveTarget(flags);
  const w = wire(target.u, { xen: target.xen });
  const r = explore(w.model, { maxDepth: e.depth });
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

export interface RegressFlags {
  matrix?: string;
  junit?: string;
  json?: boolean;
  update?: boolean;
  only?: string;
}

export async function runRegress(f: RegressFlags, out: (s: string) => void): Promise<number> {
  const file = resolve(f.matrix ?? defaultMatrixPath());
  const matrix = readMatrix(file);
  const entries = f.only === undefined ? matrix.entries : matrix.entries.filter((e) => e.name.includes(f.only!));
  if (entries.length === 0) throw new UsageError(`--only: no entry of ${file} matches "${f.only}"`);
  const outcomes: EntryOutcome[] = [];
  for (const e of entries) {
    const o = await runEntry(e, dirname(file));
    outcomes.push(o);
    if (f.update) e.expect = o.observed;
    if (!f.json) {
      const status = f.update ? 'recorded' : o.deviations.length === 0 ? 'ok  ' : 'FAIL';
      out(`${status} ${e.name.padEnd(52)} depth ${String(e.depth).padStart(2)} ${o.observed.distinct.toLocaleString('en-US').padStart(10)} states ${(o.elapsedMs / 1000).toFixed(1).padStart(6)} s\n`);
      if (!f.update) for (const d of o.deviations) out(`       ${d}\n`);
    }
  }
  if (f.update) {
    writeFileSync(file, JSON.stringify(matrix, null, 2) + '\n');
    if (!f.json) out(`expectations written to ${file}\n`);
  }
  const failed = f.update ? [] : outcomes.filter((o) => o.deviations.length > 0);
  if (f.junit) writeFileSync(f.junit, junitXml(f.update ? outcomes.map((o) => ({ ...o, deviations: [] })) : outcomes));
  if (f.json) {
    out(JSON.stringify({ matrix: file, entries: outcomes, deviations: failed.length, exitCode: failed.length ? EXIT.violation : EXIT.ok }, null, 2) + '\n');
  } else {
    out(`${outcomes.length} entries, ${failed.length} with deviations\n`);
  }
  return failed.length ? EXIT.violation : EXIT.ok;
}
