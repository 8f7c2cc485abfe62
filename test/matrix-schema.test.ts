// Regression matrices are validated against a schema (checker/regress/schema.ts): an unknown key, a
// wrong type or an impossible value is refused with one line naming the entry and the field, before
// anything runs; --update keeps what it does not own.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readMatrix } from '../checker/regress/run.js';
import { matrixProblem } from '../checker/regress/schema.js';
import { cli, expectUsageError, ROOT } from './cli-run.js';

const dir = mkdtempSync(join(tmpdir(), 'checker-matrix-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function matrix(name: string, v: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, JSON.stringify(v, null, 2));
  return p;
}

describe('the schema', () => {
  it('accepts the project matrix', () => {
    expect(() => readMatrix(join(ROOT, 'checker', 'regress', 'matrix.json'))).not.toThrow();
  });

  it.each([
    ['a misspelt key', { entries: [{ name: 'typo', verison: 'xen-4.5', depth: 1 }] }, /entry "typo" \(entries\[0\]\): unknown field "verison"; known: name, version/],
    ['a boolean given as a string', { entries: [{ name: 'p', preemptibleTeardown: 'false', depth: 1 }] }, /entry "p" \(entries\[0\]\): "preemptibleTeardown": expected boolean, received string/],
    ['a depth given as a string', { entries: [{ name: 'd', depth: '6' }] }, /entry "d".*"depth": expected number/],
    ['a negative depth', { entries: [{ name: 'd', depth: -1 }] }, /entry "d".*"depth"/],
    ['ops as a string', { entries: [{ name: 'o', ops: 'destroy', depth: 1 }] }, /entry "o".*"ops": expected array/],
    ['a missing depth', { entries: [{ name: 'm' }] }, /entry "m".*"depth" is missing/],
    ['a missing name', { entries: [{ depth: 1 }] }, /entries\[0\]: "name" is missing/],
    ['an unknown expectation key', { entries: [{ name: 'x', depth: 1, expect: { distinct: 1, violations: {}, witnesses: {}, extra: 1 } }] }, /entry "x".*unknown field "extra"/],
    ['an unknown top-level key', { entries: [], verison: 1 }, /the matrix: unknown field "verison"/],
    ['no entries', { entry: [] }, /the matrix: /],
  ])('refuses %s, naming the entry and the field', (_what, v, message) => {
    expect(matrixProblem(v)).toMatch(message);
  });
});

describe('checker regress', () => {
  it('a misspelt key is refused before anything runs, and --update records nothing', async () => {
    const p = matrix('typo.json', { entries: [{ name: 'typo', verison: 'xen-4.5', depth: 1 }] });
    const before = readFileSync(p, 'utf8');
    expectUsageError(await cli('regress', '--matrix', p, '--update'), /"verison"/);
    expect(readFileSync(p, 'utf8')).toBe(before);
  });

  it('an entry that cannot run is that entry\'s error: the others run, one line names it, exit 2', async () => {
    const p = matrix('late.json', { entries: [{ name: 'fine', depth: 1 }, { name: 'bad mutant', mutant: 'nope', depth: 1 }] });
    const r = await cli('regress', '--matrix', p);
    expect(r.stdout).toMatch(/^FAIL fine /m); // no expectations recorded: a deviation of its own
    expect(r.stdout).toMatch(/^ERROR bad mutant /m);
    expect(r.status).toBe(12); // the deviation wins over the entry in error
    expectUsageError({ ...r, status: 2, stdout: '' }, /entry "bad mutant": --mutant: unknown mutant "nope"/);
    const q = matrix('only-bad.json', { entries: [{ name: 'bad mutant', mutant: 'nope', depth: 1 }] });
    const s = await cli('regress', '--matrix', q);
    expect(s.status).toBe(2);
    expect(s.stdout).toMatch(/1 entries, 0 with deviations, 1 could not run; exit 2/);
  });

  it('--update keeps the top-level fields it does not own', async () => {
    const p = matrix('keep.json', { $schema: './matrix.schema.json', description: 'mine', entries: [{ name: 'seed shallow', depth: 1 }] });
    const r = await cli('regress', '--matrix', p, '--update');
    expect(r.status, r.stderr).toBe(0);
    const after = JSON.parse(readFileSync(p, 'utf8'));
    expect(after.$schema).toBe('./matrix.schema.json');
    expect(after.description).toBe('mine');
    expect(after.entries[0].expect.distinct).toBeGreaterThan(1);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});
