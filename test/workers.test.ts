// --workers N: the parallel explorer must give exactly what one worker gives: per-level distinct and
// generated counts, every verdict, its depth, its message and its chosen (smallest) trace.
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, CLI } from './cli-run.js';


const run = cli;

/** What must not depend on the number of workers. */
function outcome(stdout: string) {
  const r = JSON.parse(stdout);
  return {
    levels: r.levels,
    totals: r.totals,
    fixpoint: r.fixpoint,
    properties: r.properties.map((p: any) => ({
      name: p.name,
      verdict: p.verdict,
      depth: p.depth,
      message: p.message ?? null,
      path: p.trace ? p.trace.path : p.path,
      steps: p.trace ? p.trace.steps : null,
    })),
  };
}

/** Every configuration of the audit; the fast suite runs the first two, test/slow/ all of them. */
export const WORKER_CONFIGS: string[][] = [
  ['--xen', 'seed', '--backend', 'ept', '--depth', '4'],
  ['--xen', 'head', '--backend', 'pt', '--depth', '4'],
  ['--xen', 'seed', '--backend', 'ept', '--depth', '5'],
  ['--xen', 'xen-4.5', '--backend', 'ept', '--depth', '5'],
  ['--mutant', 'release-at-final-destroy', '--depth', '4'],
  ['--xen', 'seed', '--preemptible-teardown', '--depth', '4'],
  ['--xen', 'xen-4.19', '--depth', 'all', '--gfns', '1', '--spare-frames', '0'],
  ['--domains', 'dom0:pvh:hw,dom1:pvh,dom2:pvh', '--symmetry', '--depth', '4'],
];
const CONFIGS = process.env.CHECKER_SLOW_SUITE ? WORKER_CONFIGS : WORKER_CONFIGS.slice(0, 2);

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test builds it first)`);
});

describe('results are identical for 1, 2 and 4 workers', () => {
  for (const cfg of CONFIGS) {
    it(cfg.join(' '), async () => {
      // (four workers on a machine of fewer cores need --oversubscribe)
      const [one, two, four] = await Promise.all(['1', '2', '4'].map((w) => run('explore', ...cfg, '--json', '--workers', w, '--oversubscribe')));
      for (const r of [one, two, four]) expect([0, 12], r.stderr).toContain(r.status);
      expect(two!.status).toBe(one!.status);
      expect(four!.status).toBe(one!.status);
      const base = outcome(one!.stdout);
      expect(base.levels.length).toBeGreaterThan(2);
      expect(outcome(two!.stdout)).toEqual(base);
      expect(outcome(four!.stdout)).toEqual(base);
    });
  }
});

describe('--workers refuses what it cannot do', () => {
  it('--workers 0 is bad usage', async () => {
    const r = await run('explore', '--workers', '0');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--workers/);
  });
  it('--exact with several workers is bad usage', async () => {
    const r = await run('explore', '--workers', '2', '--exact');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--exact/);
  });
});
