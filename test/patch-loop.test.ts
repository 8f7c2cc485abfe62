// The patch author's loop: write a variant, check it, see it exercised, confirm a fix, keep the
// regression. No silent wrong answers: an unknown fault kind, an override that never runs, a
// declaration nothing checks, a missing return.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { finalTeardownReleases, findMutant, mutantTable, variantTable, VERSION_TABLES } from '../model/index.js';
import { cli, expectUsageError, json, scratchDir } from './cli-run.js';

const { dir, file } = scratchDir('checker-loop-');

const inv = (j: any, name: string) => j.properties.find((p: any) => p.name === name);

describe('no silent wrong answers', () => {
  it('a fault kind of the variant\'s own is reported as written, before any change and after one', async () => {
    const v = file(
      'own-assert.ts',
      `export default { name: 'own-assert', base: 'xen-4.19', overrides: (api: any) => ({
         p2mAddForeign(ctx: any, s: any, t: number, fg: number, g: number, f: number) {
           if (t === 0) api.bug('ASSERT(!is_control_domain(tdom)) in my_patch');  // before any change
           const rc = api.p2m.p2mAddForeign419(ctx, s, t, fg, g, f);
           if (rc === 0) api.bug('BUG_ON(mapped) in my_patch', fg);               // after one
           return rc;
         } }) };`,
    );
    const r = await cli('explore', '--variant', v, '--depth', '1', '--json', '--invariants', 'no-hypervisor-fault', '--trace-out', join(dir, 'own'));
    expect(r.status, r.stderr).toBe(12);
    const fault = inv(json(r), 'no-hypervisor-fault');
    expect(fault).toMatchObject({ verdict: 'violated', depth: 1 });
    expect(fault.message).toBe('ASSERT(!is_control_domain(tdom)) in my_patch');
    // the faulted state has no successors: depth 2 explores from the other states only
    const shown = await cli('trace', 'show', join(dir, 'own', 'no-hypervisor-fault.itf.json'), '--variant', v);
    expect(shown.status, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('ASSERT(!is_control_domain(tdom)) in my_patch');
  });

  it('an override that never runs is a warning and a count of 0, not a pass; requires turns its operation on', async () => {
    const body = `overrides: (api: any) => ({ setLogDirty(ctx: any, s: any, d: number, on: boolean) { return api.p2m.setLogDirty(ctx, s, d, on); } })`;
    const idle = file('idle.ts', `export default { name: 'idle', base: 'xen-4.19', ${body} };`);
    const r = await cli('explore', '--variant', idle, '--depth', '2', '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: override setLogDirty of the variant never ran/);
    expect(json(r).overrides).toEqual([{ name: 'setLogDirty', calls: 0 }]);
    const needs = file('needs.ts', `export default { name: 'needs', base: 'xen-4.19', requires: { ops: ['set_log_dirty'] }, ${body} };`);
    const n = await cli('explore', '--variant', needs, '--depth', '2', '--json');
    const j = json(n);
    expect(n.stderr).not.toMatch(/never ran/);
    expect(j.configuration.ops).toContain('set_log_dirty');
    expect(j.overrides[0].calls).toBeGreaterThan(0);
    expect(j.notes.join(' ')).toMatch(/as it requires: --ops with set_log_dirty/);
    // a requirement the user's own flags contradict is refused
    const pt = file('needs-ept.ts', `export default { name: 'needs-ept', base: 'xen-4.19', requires: { backend: 'ept' }, overrides: {} };`);
    expectUsageError(await cli('explore', '--variant', pt, '--backend', 'pt', '--depth', '1'), /requires --backend ept, not pt/);
  });

  it('a missing return is the user\'s error, with the step it happened in', async () => {
    const v = file('no-return.ts', `export default { name: 'no-return', base: 'xen-4.19', overrides: (api: any) => ({ populatePhysmap(ctx: any, s: any, d: number, g: number) { api.memory.populatePhysmap416(ctx, s, d, g); } }) };`);
    expectUsageError(await cli('explore', '--variant', v, '--depth', '1'), /override populatePhysmap returned undefined, not 0 or a negative errno \(a missing return\?\); in the last step of 1\. populate_physmap/);
  });

  it('a misspelt teardown phase and a wrong teardown declaration are refused at load', async () => {
    const phase = file('phase.ts', `export default { name: 'phase', base: 'xen-4.19', overrides: { relinquishPhases: ['mapping', 'memory'] } };`);
    expectUsageError(await cli('explore', '--variant', phase, '--depth', '1'), /relinquishPhases: unknown phase "mapping"/);
    const declared = file('declared.ts', `export default { name: 'declared', base: 'xen-4.19', overrides: { finalTeardownReleasesForeign: true } };`);
    expectUsageError(await cli('explore', '--variant', declared, '--depth', '1'), /finalTeardownReleasesForeign is true, but its p2mTeardown does not put/);
  });

  it('whether the final teardown releases foreign references is read off the code', () => {
    expect(finalTeardownReleases(VERSION_TABLES.seed)).toBe(false);
    expect(finalTeardownReleases(VERSION_TABLES['xen-4.19'])).toBe(false);
    expect(finalTeardownReleases(mutantTable(findMutant('release-at-final-destroy')!))).toBe(true);
    const derived = variantTable({ name: 'x', base: 'xen-4.19', overrides: { p2mTeardown: mutantTable(findMutant('release-at-final-destroy')!).p2mTeardown } }, 'here');
    expect(derived.xen.finalTeardownReleasesForeign).toBe(true);
  });

  it('a syntax error names the file, the line and the reason', async () => {
    const v = file('broken.ts', `export default { name: 'broken', base: 'seed',\n  overrides: { p2mAddForeign( } };\n`);
    expectUsageError(await cli('explore', '--variant', v, '--depth', '1'), /broken\.ts:2:\d+: Expected/);
  });
});

describe('expressiveness', () => {
  it('a one-line change to a page primitive, with the ledger kept: put_page that never frees leaks at depth 1', async () => {
    const v = file(
      'sticky.ts',
      `export default { name: 'sticky', base: 'xen-4.19', overrides: (api: any) => ({
         putPage(ctx: any, s: any, mfn: number | null, note?: string) {
           if (mfn !== null && s.frames[mfn].count === 1) return; // the last reference is never dropped
           api.page.putPage(ctx, s, mfn, note);
         } }) };`,
    );
    const r = await cli('explore', '--variant', v, '--depth', '1', '--json', '--invariants', 'refcount-matches-holders', '--trace-out', join(dir, 'sticky'));
    expect(r.status, r.stderr).toBe(12);
    expect(inv(json(r), 'refcount-matches-holders')).toMatchObject({ verdict: 'violated', depth: 1 });
    const shown = await cli('trace', 'show', join(dir, 'sticky', 'refcount-matches-holders.itf.json'), '--variant', v);
    // the override called the primitive: its ledger lines are there, named by the calling function
    expect(shown.stdout).toMatch(/-1 put_page in \w+/);
  });

  it('applies to further versions, adds invariants and witnesses of its own, and --properties adds more', async () => {
    const v = file(
      'props.ts',
      `export default { name: 'props', base: 'xen-4.19', appliesTo: ['head'], overrides: {},
         properties: {
           invariants: [{ name: 'dom1-maps-nothing', check: (s: any) => s.p2m[1].some((e: any) => e?.type === 'map_foreign') ? 'dom1 maps a foreign page' : null }],
           witnesses: [{ name: 'dom2-dead', holds: (s: any) => s.domains[2].life === 'dead' }],
         } };`,
    );
    const r = json(await cli('explore', '--variant', v, '--xen', 'head', '--depth', '2', '--json'));
    expect(r.configuration.version).toBe('head');
    expect(inv(r, 'dom1-maps-nothing')).toMatchObject({ verdict: 'violated', depth: 1 });
    expect(inv(r, 'dom2-dead')).toMatchObject({ verdict: 'reached', depth: 1 });
    expectUsageError(await cli('explore', '--variant', v, '--xen', 'seed', '--depth', '1'), /based on xen-4.19 and applies to head, not seed/);
    const more = file('more.ts', `export default { invariants: [{ name: 'dom0-keeps-gfn-0', check: (s: any) => s.p2m[0][0] === null ? 'dom0 lost gfn 0' : null }] };`);
    const m = json(await cli('explore', '--properties', more, '--depth', '1', '--json', '--invariants', 'dom0-keeps-gfn-0'));
    expect(m.properties.filter((p: any) => p.kind === 'invariant').map((p: any) => [p.name, p.verdict, p.depth])).toEqual([['dom0-keeps-gfn-0', 'violated', 1]]);
  });

  it('check-variant type-checks against the package\'s types wherever the file is, and says what the variant is', async () => {
    const typed = file(
      'typed.ts',
      `import type { Variant } from 'xen-foreign-checker';
const variant: Variant = { name: 'typed', base: 'seed', overrides: (api) => ({ p2mAddForeign(ctx, s, t, fg, g, f) { return api.p2m.p2mAddForeignSeed(ctx, s, t, fg, g, f); } }) };
export default variant;
`,
    );
    const ok = await cli('check-variant', typed);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/type-checks and loads: variant typed, on seed/);
    expect(ok.stdout).toMatch(/overrides: p2mAddForeign/);
    const bad = file(
      'untyped.ts',
      `import type { Variant } from 'xen-foreign-checker';
const variant: Variant = { name: 'untyped', base: 'seed', overrides: (api) => ({ p2mAddForeign(ctx, s, t, fg, g, f) { return api.p2m.p2mAddForeignSeed(ctx, s, t, fg, g); } }) };
export default variant;
`,
    );
    const r = await cli('check-variant', bad);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/untyped\.ts:2:\d+: Expected 6 arguments, but got 5\./);
    expect(r.stderr).toMatch(/^checker: check-variant: .*untyped\.ts has 1 type error/m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

// The exported tests run under vitest, and --coverage: test/slow/patch-loop.test.ts.
