// --variant FILE: a user's TypeScript module overriding Xen functions of a base version, loaded at run
// time. The worked example round trip, and bad files refused with one clear line.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { overridableNames, variantTable, VariantError, VERSION_TABLES } from '../model/index.js';
import { cli, expectUsageError, json, ROOT, scratchDir } from './cli-run.js';

const { dir, file } = scratchDir('checker-variant-');
const EXAMPLE = join(ROOT, 'docs', 'examples', 'seed-teardown-fixed.ts');

describe('the worked variant: the seed with its teardown fixed', () => {
  it('is loaded, its overrides applied, and every invariant holds where the seed leaks', async () => {
    const seed = json(await cli('explore', '--depth', '5', '--json'));
    const fixed = await cli('explore', '--variant', EXAMPLE, '--depth', '5', '--json');
    expect(fixed.status, fixed.stderr).toBe(0);
    const j = json(fixed);
    expect(j.notes.join(' ')).toContain('variant seed-teardown-fixed of seed');
    expect(j.properties.filter((p: any) => p.kind === 'invariant' && p.verdict === 'violated')).toEqual([]);
    expect(seed.properties.find((p: any) => p.name === 'refcount-matches-holders').verdict).toBe('violated');
    // the overrides changed the reachable graph; the witnesses still say the model is not vacuous
    expect(j.totals.distinct).not.toBe(seed.totals.distinct);
    expect(j.properties.filter((p: any) => p.kind === 'witness').every((p: any) => p.verdict === 'reached')).toBe(true);
  });

  it('a variant with only the relinquish walk still leaks, through a dead domain', async () => {
    const half = file(
      'half.ts',
      `import { VARIANT_API as api } from ${JSON.stringify(join(ROOT, 'model', 'index.js'))};
       export default { name: 'half', base: 'seed', overrides: { relinquishPhases: ['mappings', 'memory'], relinquishP2mMapping: api.versions['xen-4.19'].relinquishP2mMapping } };`,
    );
    const r = json(await cli('explore', '--variant', half, '--depth', '4', '--json', '--invariants', 'refcount-matches-holders'));
    const v = r.properties.find((p: any) => p.name === 'refcount-matches-holders');
    expect(v.verdict).toBe('violated');
    expect(v.depth).toBe(4);
  });

  it('traces of a variant replay on the variant', async () => {
    const half = file('leaky.ts', `export default { name: 'leaky', base: 'xen-4.19', overrides: { relinquishPhases: ['memory'] } };`);
    const out = join(dir, 'traces');
    const r = await cli('explore', '--variant', half, '--depth', '2', '--trace-out', out, '--invariants', 'refcount-matches-holders');
    expect(r.status).toBe(12);
    const replay = await cli('replay', join(out, 'refcount-matches-holders.itf.json'), '--variant', half);
    expect(replay.status).toBe(12);
    expect(replay.stdout).toContain('still violated');
  });
});

describe('bad variant files: exit 2, one line', () => {
  it('a syntax error', async () => {
    expectUsageError(await cli('explore', '--variant', file('syntax.ts', 'export default { name: "x", base: "seed", overrides: { '), '--depth', '1'), /does not load/);
  });
  it('an override of a function the model does not have', async () => {
    expectUsageError(
      await cli('explore', '--variant', file('unknown.ts', 'export default { name: "x", base: "seed", overrides: { p2mAddForiegn() { return 0; } } };'), '--depth', '1'),
      /p2mAddForiegn.*not a Xen function/,
    );
  });
  it('no default export', async () => {
    expectUsageError(await cli('explore', '--variant', file('noexport.ts', 'export const x = 1;'), '--depth', '1'), /no default export/);
  });
  it('an unknown base version', async () => {
    expectUsageError(await cli('explore', '--variant', file('base.ts', 'export default { name: "x", base: "xen-9", overrides: {} };'), '--depth', '1'), /"base" must be one of/);
  });
  it('a file that does not exist', async () => {
    expectUsageError(await cli('explore', '--variant', join(dir, 'nope.ts'), '--depth', '1'), /does not exist/);
  });
  it('an override of the wrong kind', () => {
    expect(() => variantTable({ name: 'x', base: 'seed', overrides: { p2mAddForeign: 3 } }, 'here')).toThrow(VariantError);
    expect(() => variantTable({ name: 'x', base: 'seed', overrides: { p2mAddForeign: 3 } }, 'here')).toThrow(/must be a function, not a number/);
  });
});

describe('the overridable surface', () => {
  it('lists every Xen function of the table and the two teardown properties, nothing else', () => {
    const names = overridableNames();
    expect(names).toContain('p2mAddForeign');
    expect(names).toContain('atomicWriteEptEntry');
    expect(names).toContain('relinquishPhases');
    expect(names).not.toContain('version');
    expect(names.length).toBe(Object.keys(VERSION_TABLES.seed).length - 1);
  });
});
