// `checker regress`: runs a matrix against its committed expectations and reports every deviation.
import { dirname, resolve } from 'node:path';
import { defaultMatrixPath, junitXml, readMatrix, resolveEntries, runEntry, type EntryOutcome } from '../regress/run.js';
import { EXIT, UsageError } from './common.js';
import { checkOutputFile, writeFileAtomic } from './output.js';

export interface RegressFlags {
  matrix?: string;
  junit?: string;
  json?: boolean;
  update?: boolean;
  only?: string;
}

export async function runRegress(f: RegressFlags, out: (s: string) => void, err: (s: string) => void = () => {}): Promise<number> {
  const file = resolve(f.matrix ?? defaultMatrixPath());
  const matrix = readMatrix(file);
  const entries = f.only === undefined ? matrix.entries : matrix.entries.filter((e) => e.name.includes(f.only!));
  if (entries.length === 0) throw new UsageError(`--only: no entry of ${file} matches "${f.only}"`);
  // every output and every entry's target checked before the first exploration
  if (f.junit !== undefined) checkOutputFile(f.junit, '--junit');
  if (f.update) checkOutputFile(file, '--update');
  const targets = await resolveEntries(file, entries, dirname(file));
  const outcomes: EntryOutcome[] = [];
  for (const [i, e] of entries.entries()) {
    const o = await runEntry(e, dirname(file), targets[i]);
    outcomes.push(o);
    if (f.update) e.expect = o.observed;
    if (!f.json) {
      const status = f.update ? 'recorded' : o.deviations.length === 0 ? 'ok  ' : 'FAIL';
      out(`${status} ${e.name.padEnd(52)} depth ${String(e.depth).padStart(2)} ${o.observed.distinct.toLocaleString('en-US').padStart(10)} states ${(o.elapsedMs / 1000).toFixed(1).padStart(6)} s\n`);
      if (!f.update) for (const d of o.deviations) out(`       ${d}\n`);
    }
  }
  const failed = f.update ? [] : outcomes.filter((o) => o.deviations.length > 0);
  const code = failed.length ? EXIT.violation : EXIT.ok;
  // the report first, then the files: a file that cannot be written after all must not lose it
  if (f.json) {
    out(JSON.stringify({ matrix: file, entries: outcomes, deviations: failed.length, exitCode: code }, null, 2) + '\n');
  } else {
    out(`${outcomes.length} entries, ${failed.length} with deviations\n`);
  }
  try {
    // the whole file as read (its other fields kept), with the new expectations
    if (f.update) writeFileAtomic(file, JSON.stringify(matrix, null, 2) + '\n', '--update');
    if (f.update && !f.json) out(`expectations written to ${file}\n`);
    if (f.junit) writeFileAtomic(resolve(f.junit), junitXml(f.update ? outcomes.map((o) => ({ ...o, deviations: [] })) : outcomes), '--junit');
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`checker: ${e.message}; the report above is complete\n`);
    return EXIT.usage;
  }
  return code;
}
