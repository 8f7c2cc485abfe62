// Running the built command line (dist/checker/cli/index.js) from tests, as a user would. `npm test`
// builds dist/ before vitest runs.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect } from 'vitest';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const CLI = join(ROOT, 'dist', 'checker', 'cli', 'index.js');

export interface Run {
  args: string[];
  /** The exit code, or null when the run was killed (timeout). */
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI asynchronously (independent runs can overlap), killed after `timeoutMs`. */
export function cliWithin(timeoutMs: number, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return cliIn(ROOT, timeoutMs, args, env);
}

/** Runs the CLI in folder `cwd`. */
export function cliIn(cwd: string, timeoutMs: number, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { cwd, encoding: 'utf8', maxBuffer: 64 << 20, timeout: timeoutMs, env: { ...process.env, ...env } },
      (error, stdout, stderr) => {
        const status = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        done({ args, status, stdout, stderr });
      },
    );
  });
}

export function cli(...args: string[]): Promise<Run> {
  return cliWithin(120_000, args);
}

/** Parses --json output, failing with the command's stderr when it is not JSON. */
export function json(r: Run): any {
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new Error(`checker ${r.args.join(' ')}: stdout is not JSON (exit ${r.status}); stderr:\n${r.stderr}\nstdout:\n${r.stdout.slice(0, 2000)}`);
  }
}

export const lines = (s: string) => s.split('\n').filter((l) => l !== '');

/** Exit 2, nothing on stdout, one line on stderr (plus commander's usage hint), no stack trace. */
export function expectUsageError(r: Run, pattern?: RegExp): void {
  const where = `checker ${r.args.join(' ')}\nstderr:\n${r.stderr}`;
  expect(r.status, where).toBe(2);
  expect(r.stdout, where).toBe('');
  expect(r.stderr, where).not.toMatch(/\n\s+at /);
  expect(r.stderr, where).not.toMatch(/internal error/);
  const ls = lines(r.stderr);
  const message = ls.filter((l) => l !== '(run with --help for usage)');
  expect(message, where).toHaveLength(1);
  expect(ls.length, where).toBeLessThanOrEqual(2);
  expect(message[0], where).toMatch(/^(checker|error):/);
  if (pattern) expect(message[0], where).toMatch(pattern);
}

/** A temporary folder for one test file, removed after it; `file` writes a named file there. */
export function scratchDir(prefix: string): { dir: string; file: (name: string, text: string) => string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return {
    dir,
    file: (name, text) => {
      const p = join(dir, name);
      writeFileSync(p, text);
      return p;
    },
  };
}

/**
 * A --json report of explore without what depends on time, memory or how the run got there (limits):
 * what a resumed run, or one with its frontier on disk, must give exactly as a straight one.
 */
export function outcome(stdout: string): any {
  return JSON.parse(stdout, (k, v) =>
    ['elapsedMs', 'statesPerSecond', 'peakRssBytes', 'visitedBytes', 'bytesPerState', 'memoryLimitBytes', 'timeLimitMs', 'maxStates'].includes(k) ? undefined : v,
  );
}
