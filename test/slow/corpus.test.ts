// The corpus of bad inputs (test/corpus/cases.json): flags, traces, matrices and variant files, each
// answered with one line naming the problem and exit 2, never a stack trace, and no file left behind.
// Each case runs in an empty folder of its own; "{corpus}" in an argument is test/corpus, "{tmp}" that
// folder. Afterwards the folder must be as empty as it was, and test/corpus unchanged.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliIn, expectUsageError, ROOT } from '../cli-run.js';

const CORPUS = join(ROOT, 'test', 'corpus');

interface Case {
  name: string;
  args: string[];
  /** A regular expression the one line must match. */
  match: string;
  /**
   * A matrix entry that cannot run: regress reports it beside the others (stdout has the report, the
   * entry's line says ERROR), still with one line on stderr and exit 2.
   */
  report?: boolean;
}

const cases = JSON.parse(readFileSync(join(CORPUS, 'cases.json'), 'utf8')) as Case[];

/** Every file under a folder, with its size and modification time. */
function listing(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else out.push(`${relative(dir, p)} ${st.size} ${st.mtimeMs}`);
    }
  };
  walk(dir);
  return out.sort();
}

const before = listing(CORPUS);
const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

describe('every bad input: one line, exit 2, nothing left behind', () => {
  it('the corpus has cases of every kind', () => {
    const all = cases.map((c) => c.args.join(' '));
    for (const kind of ['traces/', 'matrices/', 'variants/']) expect(all.some((a) => a.includes(`{corpus}/${kind}`)), kind).toBe(true);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  it.concurrent.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const cwd = mkdtempSync(join(tmpdir(), 'checker-corpus-'));
    roots.push(cwd);
    const args = c.args.map((a) => a.replaceAll('{corpus}', CORPUS).replaceAll('{tmp}', cwd));
    const r = await cliIn(cwd, 60_000, args);
    if (c.report) {
      expect(r.stdout).toMatch(/^ERROR /m);
      expectUsageError({ ...r, stdout: '' }, new RegExp(c.match));
    } else expectUsageError(r, new RegExp(c.match));
    expect(readdirSync(cwd), 'files left behind').toEqual([]);
  });

  it('leaves test/corpus as it was', () => {
    expect(listing(CORPUS)).toEqual(before);
  });
});
