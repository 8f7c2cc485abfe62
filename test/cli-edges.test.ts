// The smaller edges of the command line: a reader that goes away, too many workers, Ctrl-C in
// simulate, a bad file's raw bytes, a run that reaches no witness, a mutant on the wrong backend.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, cli, expectUsageError, json, ROOT } from './cli-run.js';

const dir = mkdtempSync(join(tmpdir(), 'checker-edges-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a reader that goes away', () => {
  it('checker list with its output closed ends quietly with exit 0', async () => {
    const r = await new Promise<{ code: number | null; stderr: string }>((done) => {
      const child = spawn(process.execPath, [CLI, 'list'], { cwd: ROOT });
      child.stdout.destroy(); // as `| head -1` does once it has its line
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += String(d)));
      child.on('exit', (code) => done({ code, stderr }));
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});

describe('--workers', () => {
  const cores = availableParallelism();
  it('refuses more workers than cores', async () => {
    expectUsageError(await cli('explore', '--depth', '1', '--workers', '100'), new RegExp(`--workers: this machine has ${cores} core`));
  });
  it('takes them with --oversubscribe, up to 64', async () => {
    const r = await cli('explore', '--depth', '2', '--workers', String(cores + 1), '--oversubscribe', '--json');
    expect(r.status, r.stderr).toBe(12);
    expectUsageError(await cli('explore', '--depth', '1', '--workers', '65', '--oversubscribe'), /--workers: at most 64/);
  });
});

describe('simulate and Ctrl-C', () => {
  it('prints the walks so far and the seed to rerun them, exit 3', async () => {
    const r = await new Promise<{ code: number | null; stdout: string }>((done) => {
      const child = spawn(process.execPath, [CLI, 'simulate', '--xen', 'xen-4.19', '--runs', '10000000', '--steps', '200'], { cwd: ROOT });
      let stdout = '';
      child.stdout.on('data', (d) => (stdout += String(d)));
      setTimeout(() => child.kill('SIGINT'), 2500);
      const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('exit', (code) => {
        clearTimeout(guard);
        done({ code, stdout });
      });
    });
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/interrupted: partial result: \d+ runs/);
    expect(r.stdout).toMatch(/rerun: checker simulate --seed \d+ --xen xen-4.19 --steps 200 --runs 10000000/);
  });
});

describe('a bad file\'s bytes never reach the terminal raw', () => {
  it('control characters in a trace are escaped in the one line', async () => {
    const p = join(dir, 'bytes.itf.json');
    writeFileSync(p, Buffer.from([0x1b, 0x5b, 0x32, 0x4a, 0x07, 0x00, 0x9b, 0x41, 0x0d, 0x41]));
    const r = await cli('replay', p);
    expectUsageError(r, /not valid JSON/);
    expect(r.stderr.replace(/\n/g, '')).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });
});

describe('a run that reaches no witness', () => {
  it('still exits 0, with a warning on stderr and in the report', async () => {
    const r = await cli('explore', '--depth', '0', '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^checker: warning: no witness was reached/);
    expect(json(r).notes.join('\n')).toMatch(/no witness was reached/);
  });
  it('says nothing when one is reached', async () => {
    const r = await cli('explore', '--depth', '1', '--invariants', 'no-dangling-mapping', '--json');
    expect(r.stderr).toBe('');
  });
});

describe('a mutant on a backend it does not apply to', () => {
  it('is refused rather than run as the plain model under its name', async () => {
    expectUsageError(await cli('explore', '--mutant', 'pt-accepts-foreign-without-refcount', '--backend', 'ept'), /--mutant pt-accepts-foreign-without-refcount changes pt code and does not apply to --backend ept/);
  });
  it('runs on its own backend', async () => {
    const r = await cli('explore', '--mutant', 'pt-accepts-foreign-without-refcount', '--backend', 'pt', '--depth', '1', '--json');
    expect(r.status, r.stderr).toBe(12);
  });
});
