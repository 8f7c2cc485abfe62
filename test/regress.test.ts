// The regression matrix the project keeps (checker/regress/matrix.json): every version ×
// backend, preemptible teardown, every mutant of the catalogue, the worked variant. test/slow runs the
// whole matrix through the CLI; here, its coverage, its committed anchors, and that a deviation is reported.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, ROOT } from './cli-run.js';
import { MUTANTS, VERSIONS, BACKENDS } from '../model/index.js';

const MATRIX = join(ROOT, 'checker', 'regress', 'matrix.json');

const run = cli;

const dir = mkdtempSync(join(tmpdir(), 'checker-regress-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the regression matrix', () => {
  const matrix = JSON.parse(readFileSync(MATRIX, 'utf8')) as { entries: any[] };

  it('covers every version × backend and every mutant', () => {
    for (const v of VERSIONS) for (const b of BACKENDS) expect(matrix.entries.some((e) => e.version === v && e.backend === b && !e.preemptibleTeardown)).toBe(true);
    for (const m of MUTANTS) expect(matrix.entries.some((e) => e.mutant === m.name)).toBe(true);
  });

  it('commits the verdicts the model must keep: the anchors of MODEL.md §8 and xen-4.19 clean', () => {
    const at = (name: string) => matrix.entries.find((e) => e.name === name)!.expect;
    expect(at('seed/ept').violations).toMatchObject({ 'refcount-matches-holders': 2, 'no-orphan-reference': 3 });
    expect(at('seed/pt').violations).toEqual({ 'failed-call-has-no-effect': 1 });
    expect(at('xen-4.5/pt').violations).toEqual({ 'failed-call-has-no-effect': 1 });
    expect(at('xen-4.5/ept').violations).toEqual({ 'no-hypervisor-fault': 2 });
    expect(at('xen-4.19/ept').violations).toEqual({});
    expect(at('xen-4.19/pt').violations).toEqual({});
    // revision 4 (MODEL.md §8)
    expect(at('seed/ept').violations).toMatchObject({ 'cleanup-possible': 2 });
    expect(at('head/ept').violations).toEqual({ 'no-hypervisor-fault': 2 });
    expect(at('head/ept without a device model').violations).toEqual({});
    expect(at('xen-4.19/ept preemptible').violations).toMatchObject({ 'refcount-matches-holders': 5 });
    expect(at('xen-4.19/ept preemptible').violations['failed-call-has-no-effect']).toBeUndefined();
    expect(at('seed/ept superpages, fail_next_alloc').violations).toMatchObject({ 'no-dangling-mapping': 2 });
    expect(at('xen-4.5/ept superpages, fail_next_alloc').violations).toMatchObject({ 'no-dangling-mapping': 2 });
    expect(at('xen-4.19/ept superpages, fail_next_alloc').violations).toEqual({});
    expect(at('seed/ept without a device model').distinct).toBe(233_791);
    expect(at('xen-4.5/ept without a device model').distinct).toBe(153_171);
    for (const m of MUTANTS) expect(at(`mutant ${m.name}`).violations[m.expect.invariant]).toBe(m.expect.depth);
  });

  it('a deviation fails the run: a changed count, a lost violation, a vacuous witness', async () => {
    const m = JSON.parse(readFileSync(MATRIX, 'utf8'));
    const seed = m.entries.find((e: any) => e.name === 'seed/pt');
    const distinct = seed.expect.distinct;
    seed.expect.distinct += 1;
    seed.expect.violations['no-dangling-mapping'] = 1;
    seed.expect.witnesses['foreign-mapping-exists'] = 1;
    m.entries = [seed];
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify(m));
    const junit = join(dir, 'bad.xml');
    const r = await run('regress', '--matrix', file, '--junit', junit);
    expect(r.status).toBe(12);
    expect(r.stdout).toContain('FAIL seed/pt');
    expect(r.stdout).toContain(`distinct states changed: expected ${distinct + 1}, got ${distinct}`);
    expect(r.stdout).toMatch(/no-dangling-mapping: expected violated at depth 1, now holds/);
    expect(r.stdout).toMatch(/witness foreign-mapping-exists: no longer reached/);
    expect(readFileSync(junit, 'utf8')).toMatch(/failures="1"[\s\S]*<failure message=/);
  });

  it('a bad matrix file is bad usage', async () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{ "entries": [ { "name": "x" } ] }');
    const r = await run('regress', '--matrix', file);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
