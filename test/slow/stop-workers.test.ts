// Limits and Ctrl-C within a level on a larger run with workers: exploration-sized, so here and not
// in the fast suite (which checks --max-states and --time-limit with workers on small runs).
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI, cli, cliWithin, json, ROOT } from '../cli-run.js';

describe('limits hold within a level with workers, on larger runs', () => {
  it('--max-states 30000 with 2 workers stores about that many states, not the whole level (58,813)', async () => {
    const r = await cli('explore', '--depth', '8', '--max-states', '30000', '--workers', '2', '--invariants', 'no-dangling-mapping', '--json');
    expect(r.status, r.stderr).toBe(3);
    const j = json(r);
    expect(j.stopped).toBe('max-states');
    expect(j.totals.distinct).toBeGreaterThan(25_000);
    expect(j.totals.distinct).toBeLessThan(33_000);
    expect(j.levels.at(-1).complete).toBe(false);
  });

  it('--memory-limit 110 with 2 workers stops the run', async () => {
    const r = await cliWithin(120_000, ['explore', '--depth', '10', '--memory-limit', '110', '--workers', '2', '--invariants', 'no-dangling-mapping', '--json']);
    expect(r.status, r.stderr).toBe(3);
    expect(json(r).stopped).toBe('memory');
  });

  it('Ctrl-C with 2 workers from depth 6 on stops within the level and prints the partial report', async () => {
    const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
      const child = spawn(process.execPath, [CLI, 'explore', '--depth', '12', '--workers', '2', '--progress', '--invariants', 'no-dangling-mapping'], { cwd: ROOT });
      let stdout = '';
      let stderr = '';
      let sent = false;
      child.stdout.on('data', (d) => (stdout += String(d)));
      child.stderr.on('data', (d) => {
        stderr += String(d);
        // depth 6 or later: a fast level may pass between two progress lines
        if (!sent && /progress: depth ([6-9]|1[0-2])\//.test(stderr)) {
          sent = true;
          child.kill('SIGINT');
        }
      });
      const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
      child.on('exit', (code) => {
        clearTimeout(guard);
        done({ status: code, stdout, stderr });
      });
    });
    expect(r.status, r.stderr).toBe(3);
    expect(r.stdout).toMatch(/interrupted: partial result/);
    expect(r.stdout).toMatch(/\(level not finished\)/);
  });
});
