// `checker simulate` through the built command line (dist/checker/cli/index.js), spawned as a user would
// run it: random walks find the seed's teardown leak and shrink it to the short counterexample, the
// written trace replays, a fixed seed is deterministic, --seed/--path reproduces, xen-4.19 is clean,
// bad input is one line and exit 2. `npm test` builds dist/ before vitest runs.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, cli, expectUsageError, json, type Run } from './cli-run.js';

/** The JSON report without what legitimately differs between two identical runs. */
function stable(j: any): any {
  const { elapsedMs: _t, ...rest } = j;
  return { ...rest, violation: j.violation ? { ...j.violation, file: null } : null };
}

const SEED = '1';
const LEAK = ['refcount-matches-holders', 'no-orphan-reference'];

let tmp: string;
let leak: Run; // seed/ept, --seed 1, --json --trace-out
let leakAgain: Run; // the same, without --trace-out
let leakText: Run; // the same, text report
let clean: Run; // xen-4.19/ept, 200 runs of at most 50 steps, --json
let cleanText: Run;

beforeAll(async () => {
  if (!existsSync(CLI)) {
    throw new Error(`${CLI} does not exist: build first (cd /work/main && npx tsc -p tsconfig.json); npm test does this`);
  }
  tmp = mkdtempSync(join(tmpdir(), 'checker-simulate-test-'));
  [leak, leakAgain, leakText, clean, cleanText] = await Promise.all([
    cli('simulate', '--seed', SEED, '--json', '--trace-out', join(tmp, 'traces')),
    cli('simulate', '--seed', SEED, '--json'),
    cli('simulate', '--seed', SEED),
    cli('simulate', '--xen', 'xen-4.19', '--backend', 'ept', '--runs', '200', '--steps', '50', '--seed', '7', '--json'),
    cli('simulate', '--xen', 'xen-4.19', '--backend', 'ept', '--runs', '200', '--steps', '50', '--seed', '7'),
  ]);
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('simulate on the seed patch (EPT)', () => {
  it('finds the teardown leak and shrinks it to at most 3 operations, exit 12', () => {
    expect(leak.status, leak.stderr).toBe(12);
    const j = json(leak);
    expect(j.seed).toBe(Number(SEED));
    expect(j.configuration).toMatchObject({ version: 'seed', backend: 'ept' });
    expect(j.exitCode).toBe(12);
    const v = j.violation;
    expect(LEAK).toContain(v.property);
    expect(v.path.length).toBeLessThanOrEqual(3);
    expect(v.depth).toBe(v.path.length);
    expect(v.originalLength).toBeGreaterThanOrEqual(v.path.length);
    expect(v.steps.map((s: any) => s.actionIndex)).toEqual(v.path);
    // the leak: a foreign mapping made, then the mapping domain destroyed
    expect(v.steps[0]).toMatchObject({ action: 'add_to_physmap_foreign', rc: 0 });
    expect(v.steps[v.steps.length - 1]).toMatchObject({ action: 'destroy', rc: 0 });
    expect(v.message).toMatch(/held by nothing|orphan|reference/);
    // coverage: the runs up to the failing one
    expect(j.runs).toBeGreaterThanOrEqual(1);
    expect(j.runs).toBeLessThanOrEqual(100);
    expect(j.steps).toBeGreaterThanOrEqual(v.path.length);
    expect(j.distinctStates).toBeGreaterThan(1);
    expect(v.replay).toMatchObject({ seed: Number(SEED) });
    expect(v.replay.path).toMatch(/^\d+(:\d+)*$/);
    expect(v.replay.command).toContain(`--seed ${SEED} --path ${v.replay.path}`);
  });

  it('writes the counterexample as ITF, and checker replay says it is still violated (exit 12)', async () => {
    const v = json(leak).violation;
    expect(v.file).toBe(join(tmp, 'traces', `${v.property}.itf.json`));
    expect(existsSync(v.file)).toBe(true);
    const r = await cli('replay', v.file);
    expect(r.status, r.stdout + r.stderr).toBe(12);
    expect(r.stdout).toContain(`still violated: ${v.property}`);
  });

  it('is deterministic for a given seed', () => {
    expect(leakAgain.status, leakAgain.stderr).toBe(12);
    expect(stable(json(leakAgain))).toEqual(stable(json(leak)));
  });

  it('--seed S --path P replays the shrunk counterexample directly', async () => {
    const v = json(leak).violation;
    const r = await cli('simulate', '--seed', SEED, '--path', v.replay.path, '--json');
    expect(r.status, r.stderr).toBe(12);
    const j = json(r);
    expect(j.path).toBe(v.replay.path);
    expect(j.runs).toBe(1);
    expect(j.violation).toMatchObject({ property: v.property, message: v.message, path: v.path });
    expect(j.violation.replay.path).toBe(v.replay.path);
  });

  it('prints the counterexample as explore does, with the seed and the reproduction command', () => {
    expect(leakText.status, leakText.stderr).toBe(12);
    const v = json(leak).violation;
    const out = leakText.stdout;
    expect(out).toMatch(/^checker simulate: seed on ept; .*; 57 actions; 100 walks of at most 50 operations; seed 1\n/);
    expect(out).toContain(`counterexample: ${v.property} (depth ${v.depth})`);
    expect(out).toContain(`  ✗ ${v.property}: ${v.message}`);
    expect(out).toContain(`  replay token: ${v.path.join(',')}`);
    expect(out).toContain(`reproduce: checker simulate --seed ${SEED} --path ${v.replay.path}`);
  });

  it('picks and prints a seed when none is given', async () => {
    const r = await cli('simulate', '--runs', '5', '--steps', '5', '--json');
    expect([0, 12]).toContain(r.status);
    const j = json(r);
    expect(Number.isInteger(j.seed)).toBe(true);
  });
});

describe('simulate on xen-4.19 (EPT)', () => {
  it('200 walks of at most 50 operations find nothing, exit 0', () => {
    expect(clean.status, clean.stderr).toBe(0);
    const j = json(clean);
    expect(j.configuration).toMatchObject({ version: 'xen-4.19', backend: 'ept' });
    expect(j.runs).toBe(200);
    expect(j.runsRequested).toBe(200);
    expect(j.maxSteps).toBe(50);
    expect(j.violation).toBeNull();
    expect(j.exitCode).toBe(0);
    // walks are deep: far more than 10 operations on average (fast-check's "small" size would cap them at 10)
    expect(j.steps).toBeGreaterThan(200 * 10);
    expect(j.steps).toBeLessThanOrEqual(200 * 50);
    expect(j.distinctStates).toBeGreaterThan(100);
    expect(j.shrinking).toEqual({ shrinks: 0, walks: 0, steps: 0 });
  });

  it('the text report ends with the summary line', () => {
    expect(cleanText.status, cleanText.stderr).toBe(0);
    const j = json(clean);
    expect(cleanText.stdout).toContain(`200 runs, ${j.steps} steps, ${j.distinctStates} distinct states: no invariant violated\n`);
  });
});

describe('simulate: bad input is one line and exit 2', () => {
  it.each([
    [['--steps', '0'], /--steps/],
    [['--runs', 'abc'], /--runs/],
    [['--seed', 'x'], /--seed/],
    [['--seed', '1.5'], /--seed/],
    [['--path', '1:2'], /--seed/],
    [['--seed', '1', '--path', 'a:b'], /--path/],
    [['--seed', '1', '--path', '5:99999:0'], /--path/],
    [['--seed', '1', '--path', '5:99999'], /--path/],
    [['--invariants', 'nope'], /--invariants/],
    [['--mutant', 'nope'], /--mutant/],
  ] as const)('simulate %j', async (args, pattern) => {
    expectUsageError(await cli('simulate', ...args), pattern);
  });

  it('--help lists the exit codes', async () => {
    const r = await cli('simulate', '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Exit codes: 0 no invariant violated, 12 an invariant violated');
    expect(r.stdout).toContain('--seed <n>');
  });
});
