// `checker regress`: runs a matrix against its committed expectations and reports every deviation.
import { writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { defaultMatrixPath, junitXml, readMatrix, runEntry, type EntryOutcome } from '../regress/run.js';
import { EXIT, UsageError } from './common.js';

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
