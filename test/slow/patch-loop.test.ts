// The patch author's loop, its slower half (npm run test:slow): a fix confirmed by replay and kept by
// exported tests run under vitest as printed, and explore --coverage.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, cliWithin, expectUsageError, json, ROOT, scratchDir } from '../cli-run.js';

const { dir, file } = scratchDir('checker-loop-');
const EXAMPLE = join(ROOT, 'docs', 'examples', 'seed-teardown-fixed.ts');


describe('confirming a fix and keeping it', () => {
  it('replay under the fix says fixed, and the exported --expect fixed / violated tests pass where they should', async () => {
    const traces = join(dir, 'traces');
    expect((await cli('explore', '--depth', '2', '--invariants', 'refcount-matches-holders', '--trace-out', traces)).status).toBe(12);
    const trace = join(traces, 'refcount-matches-holders.itf.json');
    const fixed = await cli('replay', trace, '--variant', EXAMPLE);
    expect(fixed.status, fixed.stderr).toBe(0);
    expect(fixed.stdout).toMatch(/^fixed by seed-teardown-fixed: refcount-matches-holders holds along the whole trace$/m);

    const keepFix = join(dir, 'leak-fixed.test.ts');
    const e = await cli('trace', 'export-test', trace, '--expect', 'fixed', '--out', keepFix);
    expect(e.status, e.stderr).toBe(0);
    const src = readFileSync(keepFix, 'utf8');
    expect(src).toContain("from 'xen-foreign-checker'");
    expect(src).not.toContain('held by nothing'); // verdicts, not the wording of a message
    const keepBug = join(dir, 'leak.test.ts');
    expect((await cli('trace', 'export-test', trace, '--out', keepBug)).status).toBe(0);
    // run them as printed: the bug test passes on the seed; the fix test passes under the fix only
    const vitest = (test: string, env: Record<string, string> = {}) =>
      new Promise<number | null>((done) => {
        import('node:child_process').then(({ execFile }) =>
          execFile(process.execPath, [join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--config', join(ROOT, 'vitest.exported.config.mjs'), '--root', dir, test], { cwd: dir, env: { ...process.env, ...env } }, (err) => done(err ? ((err as { code?: number }).code ?? 1) : 0)),
        );
      });
    expect(await vitest('leak.test.ts')).toBe(0);
    expect(await vitest('leak-fixed.test.ts')).not.toBe(0);
    expect(await vitest('leak-fixed.test.ts', { CHECKER_VARIANT: EXAMPLE })).toBe(0);
    expect(await vitest('leak.test.ts', { CHECKER_VARIANT: EXAMPLE })).not.toBe(0);
  }, 60_000);

  it('--expect takes violated or fixed only', async () => {
    const traces = join(dir, 'traces2');
    await cli('explore', '--depth', '2', '--invariants', 'refcount-matches-holders', '--trace-out', traces);
    expectUsageError(await cli('trace', 'export-test', join(traces, 'refcount-matches-holders.itf.json'), '--expect', 'gone', '--out', join(dir, 'x.test.ts')), /--expect: violated .* or fixed/);
    expect(existsSync(join(dir, 'x.test.ts'))).toBe(false);
  });
});

describe('explore --coverage', () => {
  it('counts transitions by operation and return code, and names the blocks of an override that never ran', async () => {
    const v = file(
      'partly.ts',
      `export default { name: 'partly', base: 'xen-4.19', overrides: (api: any) => ({
         removeFromPhysmap(ctx: any, s: any, d: number, g: number) {
           if (s.domains[d].life === 'dying') {
             return api.errno.EBUSY; // only with preemptible teardown
           }
           return api.memory.removeFromPhysmap419(ctx, s, d, g);
         } }) };`,
    );
    const r = await cliWithin(120_000, ['explore', '--variant', v, '--depth', '2', '--coverage', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const c = json(r).coverage;
    const row = (op: string, rc: string) => c.transitions.find((t: any) => t.op === op && t.rc === rc);
    expect(row('populate_physmap', '-EEXIST')).toMatchObject({ distinct: 0 });
    expect(row('populate_physmap', '-EEXIST').selfLoops).toBe(row('populate_physmap', '-EEXIST').transitions);
    expect(row('add_to_physmap_foreign', '0').distinct).toBeGreaterThan(0);
    const o = c.functions.find((f: any) => f.name === 'removeFromPhysmap');
    expect(o).toMatchObject({ override: true });
    expect(o.calls).toBeGreaterThan(0);
    expect(o.neverRan).toEqual([expect.objectContaining({ at: expect.stringMatching(/partly\.ts:3-5$/), text: expect.stringContaining('return api.errno.EBUSY') })]);
    expect(c.functions.find((f: any) => f.name === 'p2mChangeEntryTypeGlobal').calls).toBe(0);
    // with preemptible teardown the refusal runs
    const p = json(await cliWithin(120_000, ['explore', '--variant', v, '--depth', '3', '--preemptible-teardown', '--coverage', '--json']));
    expect(p.coverage.functions.find((f: any) => f.name === 'removeFromPhysmap').neverRan).toEqual([]);
  }, 120_000);

  it('runs on one worker', async () => {
    expectUsageError(await cli('explore', '--coverage', '--workers', '2', '--depth', '1'), /--coverage runs on one worker/);
  });
});
