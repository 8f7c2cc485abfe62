// `checker regress`: runs a matrix against its committed expectations and reports every deviation.
// An entry that cannot run (a variant that does not load or throws, an unknown mutant) is reported as
// that entry's error beside the others' results, as a CI report wants it; a matrix that does not fit
// its schema is refused before anything runs.
import { join, resolve } from 'node:path';
import { dirname } from 'node:path';
import { ConfigError } from '../../model/index.js';
import { entryReport, junitXml } from '../regress/junit.js';
import { defaultMatrixPath, errorOutcome, readMatrix, resolveEntries, runEntry, type EntryOutcome } from '../regress/run.js';
import { envelope } from '../trace/json.js';
import { EXIT, printable, UsageError } from './common.js';
import { checkOutputDir, checkOutputFile, writeFileAtomic, writeTraces } from './output.js';
import { stdoutStyle } from './terminal.js';

export interface RegressFlags {
  matrix?: string;
  junit?: string;
  json?: boolean;
  update?: boolean;
  only?: string;
  traceOut?: string;
  color?: boolean;
}

/** A folder name for an entry's traces: its name with anything but letters, digits, '.', '-' and '_' made '_'. */
export function entryFolder(name: string): string {
  return name.replace(/[^\w.-]+/g, '_').replace(/^\.+/, '_') || '_';
}

export async function runRegress(f: RegressFlags, out: (s: string) => void, err: (s: string) => void = () => {}): Promise<number> {
  const started = new Date();
  const file = resolve(f.matrix ?? defaultMatrixPath());
  const matrix = readMatrix(file);
  const matrixDir = dirname(file);
  const entries = f.only === undefined ? matrix.entries : matrix.entries.filter((e) => e.name.includes(f.only!));
  if (entries.length === 0) throw new UsageError(`--only: no entry of ${file} matches "${f.only}"`);
  // every output checked before the first exploration
  if (f.junit !== undefined) checkOutputFile(f.junit, '--junit');
  if (f.traceOut !== undefined) checkOutputDir(f.traceOut, '--trace-out');
  if (f.update) checkOutputFile(file, '--update');
  const targets = await resolveEntries(entries, matrixDir);
  const st = stdoutStyle(f.color);
  const outcomes: EntryOutcome[] = [];
  for (const [i, e] of entries.entries()) {
    const t = targets[i]!;
    const o = t instanceof ConfigError ? errorOutcome(e, matrixDir, t) : await runEntry(e, matrixDir, t);
    outcomes.push(o);
    if (f.update && o.observed !== null) e.expect = o.observed;
    if (!f.json) {
      const status =
        o.error !== null ? st.red('ERROR') : f.update ? 'recorded' : o.deviations.length === 0 ? st.green('ok  ') : st.red('FAIL');
      const states = o.observed === null ? '' : `${o.observed.distinct.toLocaleString('en-US').padStart(10)} states`;
      out(`${status} ${e.name.padEnd(52)} depth ${String(e.depth).padStart(2)} ${states.padStart(17)} ${(o.elapsedMs / 1000).toFixed(1).padStart(6)} s\n`);
      if (o.error !== null) out(`       ${printable(o.error)}\n`);
      if (!f.update) for (const d of o.deviations) out(`       ${d}\n`);
      if (!f.update && o.deviations.length > 0) out(`       reproduce: ${o.command}\n`);
    }
  }
  const failed = f.update ? [] : outcomes.filter((o) => o.error === null && o.deviations.length > 0);
  const broken = outcomes.filter((o) => o.error !== null);
  // a deviation wins (a real finding about the model), then an entry that could not run (bad input)
  const code = failed.length ? EXIT.violation : broken.length ? EXIT.usage : EXIT.ok;
  // where each failing entry's counterexamples go (known before writing, for the reports)
  const traceFiles = new Map<string, Map<string, string>>();
  if (f.traceOut !== undefined) {
    for (const o of failed) {
      if (o.traces.length === 0) continue;
      const dir = join(f.traceOut, entryFolder(o.name));
      traceFiles.set(o.name, new Map(o.traces.map((t) => [t.property, join(dir, `${t.property}.itf.json`)])));
    }
  }
  // the report first, then the files: a file that cannot be written after all must not lose it
  if (f.json) {
    out(JSON.stringify(regressJson(file, outcomes, traceFiles, code, f.update === true), null, 2) + '\n');
  } else {
    out(
      `${outcomes.length} entries, ${failed.length} with deviations${broken.length ? `, ${broken.length} could not run` : ''}; exit ${code}\n`,
    );
  }
  for (const o of broken) err(`checker: ${printable(o.error!)}\n`);
  try {
    // the whole file as read (its other fields kept), with the new expectations
    if (f.update) writeFileAtomic(file, JSON.stringify(matrix, null, 2) + '\n', '--update');
    if (f.update && !f.json) out(`expectations written to ${file}\n`);
    for (const o of failed) {
      const files = traceFiles.get(o.name);
      if (files === undefined || o.target === null) continue;
      writeTraces(join(f.traceOut!, entryFolder(o.name)), o.target.u, o.traces, o.target);
    }
    if (f.junit) {
      const shown = f.update ? outcomes.map((o) => ({ ...o, deviations: [] })) : outcomes;
      writeFileAtomic(resolve(f.junit), junitXml(shown, { matrix: file, started, traceFiles }), '--junit');
    }
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`checker: ${e.message}; the report above is complete\n`);
    return EXIT.usage;
  }
  return code;
}

/** The run as one JSON document (docs/schemas/regress.schema.json). */
function regressJson(file: string, outcomes: readonly EntryOutcome[], traceFiles: Map<string, Map<string, string>>, exitCode: number, update: boolean): unknown {
  return {
    ...envelope('regress'),
    matrix: file,
    update,
    entries: outcomes.map((o) => ({
      name: o.name,
      status: o.error !== null ? 'error' : update ? 'recorded' : o.deviations.length > 0 ? 'failed' : 'ok',
      observed: o.observed,
      deviations: update ? [] : o.deviations,
      error: o.error,
      elapsedMs: o.elapsedMs,
      command: o.command,
      counterexamples: o.traces.map((t) => ({ property: t.property, depth: t.depth, path: t.path, file: traceFiles.get(o.name)?.get(t.property) ?? null })),
      report: o.error !== null || (!update && o.deviations.length > 0) ? entryReport(o, traceFiles.get(o.name)) : null,
    })),
    totals: {
      entries: outcomes.length,
      failed: update ? 0 : outcomes.filter((o) => o.error === null && o.deviations.length > 0).length,
      errors: outcomes.filter((o) => o.error !== null).length,
    },
    exitCode,
  };
}
