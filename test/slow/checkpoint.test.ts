// Exploration-sized checks of --checkpoint/--resume and --frontier-memory (npm run test:slow): deeper
// levels, a mutant, a variant on its own thread, workers, and a frontier far past its budget.
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, outcome, ROOT, scratchDir } from '../cli-run.js';

const { dir } = scratchDir('checker-checkpoint-slow-');
const sub = (name: string) => join(dir, name);
const VARIANT = join(ROOT, 'docs', 'examples', 'seed-teardown-fixed.ts');

const CONFIGS: [string, string[], number, number][] = [
  ['seed, depth 6 from 4', ['--xen', 'seed'], 4, 6],
  ['xen-4.19 to the fixpoint of a small universe, from 3', ['--xen', 'xen-4.19', '--gfns', '1', '--spare-frames', '0'], 3, Infinity],
  ['a mutant, depth 5 from 2', ['--mutant', 'release-at-final-destroy'], 2, 5],
  ['a variant (its own thread), depth 5 from 3', ['--variant', VARIANT], 3, 5],
  ['symmetry, depth 5 from 3', ['--domains', 'dom0:pvh:hw,dom1:pvh,dom2:pvh', '--symmetry'], 3, 5],
];

const depthArg = (d: number) => (d === Infinity ? 'all' : String(d));

describe('resumed runs equal straight ones', () => {
  it.each(CONFIGS)('%s', async (name, flags, k, n) => {
    const ck = sub(`ck-${name.replace(/\W+/g, '-')}`);
    const spill = sub(`spill-${name.replace(/\W+/g, '-')}`);
    mkdirSync(spill);
    const straight = await cli('explore', ...flags, '--depth', depthArg(n), '--json');
    await cli('explore', ...flags, '--depth', String(k), '--checkpoint', ck, '--json');
    const resumed = await cli('explore', ...flags, '--depth', depthArg(n), '--resume', ck, '--json');
    expect(resumed.status).toBe(straight.status);
    expect(outcome(resumed.stdout)).toEqual(outcome(straight.stdout));
    // the same with the frontier on disk and two workers for the part resumed
    const onDisk = await cli('explore', ...flags, '--depth', depthArg(n), '--resume', ck, '--frontier-memory', '16K', '--spill-dir', spill, '--json');
    expect(outcome(onDisk.stdout)).toEqual(outcome(straight.stdout));
    expect(readdirSync(spill)).toEqual([]);
    if (!flags.includes('--variant')) {
      const two = await cli('explore', ...flags, '--depth', depthArg(n), '--resume', ck, '--workers', '2', '--json');
      const o = outcome(two.stdout);
      o.search.workers = 1;
      expect(o).toEqual(outcome(straight.stdout));
    }
  });
});

describe('the frontier far past its budget', () => {
  it('seed depth 7 with 64 KiB of frontier in memory equals the in-memory run', async () => {
    const spill = sub('deep');
    mkdirSync(spill);
    const [mem, disk] = await Promise.all([
      cli('explore', '--xen', 'seed', '--depth', '7', '--json'),
      cli('explore', '--xen', 'seed', '--depth', '7', '--frontier-memory', '64K', '--spill-dir', spill, '--json'),
    ]);
    expect(disk.stderr).toMatch(/went to disk/);
    expect(outcome(disk.stdout)).toEqual(outcome(mem.stdout));
    expect(readdirSync(spill)).toEqual([]);
  });
});
