// Limits stop a run cleanly with a partial report and exit 3: --max-states, the memory ceiling,
// Ctrl-C. Never an out-of-memory crash.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cli, CLI, ROOT } from './cli-run.js';


const run = cli;

describe('limits', () => {
  it('a memory ceiling stops the run with a partial report and exit 3', async () => {
    const r = await run('explore', '--depth', '12', '--memory-limit', '140', '--invariants', 'no-dangling-mapping', '--json');
    expect(r.status, r.stderr).toBe(3);
    const j = JSON.parse(r.stdout);
    expect(j.stopped).toBe('memory');
    expect(j.levels.length).toBeLessThan(13);
    expect(j.totals.distinct).toBeGreaterThan(1000);
    expect(j.levels.at(-1).complete === false || j.levels.length <= 12).toBe(true);
  });

  it('--max-states stops a clean run with exit 3', async () => {
    const r = await run('explore', '--depth', '8', '--max-states', '5000', '--invariants', 'no-dangling-mapping', '--json');
    expect(r.status).toBe(3);
    const j = JSON.parse(r.stdout);
    expect(j.stopped).toBe('max-states');
    expect(j.totals.distinct).toBeGreaterThanOrEqual(5000);
    expect(j.levels.length - 1).toBeLessThan(8);
  });

  it('Ctrl-C prints the partial report and exits 3', async () => {
    const child = spawn(process.execPath, [CLI, 'explore', '--depth', '12', '--invariants', 'no-dangling-mapping'], { cwd: ROOT });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    let status: number | null;
    try {
      status = await new Promise<number | null>((done) => {
        setTimeout(() => child.kill('SIGINT'), 2500);
        child.on('exit', (code) => done(code));
      });
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL'); // never leave a run behind
    }
    expect(status).toBe(3);
    expect(stdout).toMatch(/interrupted: partial result/);
    expect(stdout).toMatch(/depth\s+distinct\s+generated/);
  });
});
