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
    ['a finding id with capitals', { entries: [{ name: 'f', depth: 1, findings: [{ id: 'Leak', role: 'affected', invariant: 'refcount-matches-holders' }] }] }, /entry "f".*a finding id is lower case/],
    ['a finding pinned only where it is violated', { entries: [{ name: 'f', depth: 1, findings: [{ id: 'leak', role: 'affected', invariant: 'refcount-matches-holders' }] }] }, /finding leak on refcount-matches-holders: no entry where it holds \(role "unaffected"\)/],
    ['a finding pinned only where it holds', { entries: [{ name: 'f', depth: 1, findings: [{ id: 'leak', role: 'unaffected', invariant: 'refcount-matches-holders' }] }] }, /finding leak on refcount-matches-holders: no entry where it is violated/],
    ['a finding whose two sides name different invariants', { entries: [{ name: 'a', depth: 1, findings: [{ id: 'leak', role: 'affected', invariant: 'cleanup-possible' }] }, { name: 'b', depth: 1, findings: [{ id: 'leak', role: 'unaffected', invariant: 'refcount-matches-holders' }] }] }, /finding leak on (cleanup-possible|refcount-matches-holders): no entry where/],
  ])('refuses %s, naming the entry and the field', (_what, v, message) => {
    expect(matrixProblem(v)).toMatch(message);
  });
});

describe('findings', () => {
  const m = readMatrix(join(ROOT, 'checker', 'regress', 'matrix.json'));
  const doc = readFileSync(join(ROOT, 'docs', 'findings.md'), 'utf8');
  const ids = [...new Set(m.entries.flatMap((e) => (e.findings ?? []).map((f) => f.id)))];

  it('every finding pinned in the matrix has its section and its row in docs/findings.md, and every section is pinned', () => {
    expect(ids.length).toBeGreaterThanOrEqual(8);
    for (const id of ids) {
      expect(doc, id).toContain(`\n## ${id}\n`);
      expect(doc, id).toMatch(new RegExp(`^\\| \\[${id.replace(/\./g, '\\.')}\\]\\(#`, 'm'));
    }
    const sections = [...doc.matchAll(/^## ([a-z0-9.-]+)$/gm)].map((x) => x[1]);
    expect(sections.sort()).toEqual([...ids].sort());
  });

  it('an affected entry expects its invariant violated and an unaffected one expects it to hold', () => {
    for (const e of m.entries) {
      for (const f of e.findings ?? []) {
        const depth = e.expect?.violations[f.invariant];
        if (f.role === 'affected') expect(depth, `${e.name}: ${f.id}`).toBeTypeOf('number');
        else expect(depth, `${e.name}: ${f.id}`).toBeUndefined();
      }
    }
  });

  it('a finding that moves is a deviation, whatever the recorded expectations say', async () => {
    // xen-4.19 at depth 3 is clean: pinned as affected by the seed's leak, it must fail
    const p = matrix('moved.json', {
      entries: [
        { name: 'clean', version: 'xen-4.19', depth: 2, findings: [{ id: 'leak', role: 'affected', invariant: 'refcount-matches-holders' }] },
        { name: 'seed', version: 'seed', depth: 2, findings: [{ id: 'leak', role: 'unaffected', invariant: 'refcount-matches-holders' }] },
      ],
    });
    expect((await cli('regress', '--matrix', p, '--update')).status).toBe(0);
    const r = await cli('regress', '--matrix', p);
    expect(r.status).toBe(12);
    expect(r.stdout).toMatch(/finding leak: refcount-matches-holders should be violated here \(docs\/findings\.md\), but holds/);
    expect(r.stdout).toMatch(/finding leak: refcount-matches-holders should hold here \(docs\/findings\.md\), violated at depth 2/);
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
