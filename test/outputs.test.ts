// Outputs are checked before the run (a run must not end with "cannot write"), written atomically
// (never half a file), and export-test never overwrites a file unless told to.
import { exec } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../checker/cli/output.js';
import { cli, cliIn, expectUsageError, ROOT } from './cli-run.js';

const dir = mkdtempSync(join(tmpdir(), 'checker-outputs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const PROC = existsSync('/proc/self');
let leak: string;

beforeAll(async () => {
  const r = await cli('explore', '--depth', '2', '--invariants', 'refcount-matches-holders', '--trace-out', join(dir, 'traces'));
  expect(r.status, r.stderr).toBe(12);
  leak = join(dir, 'traces', 'refcount-matches-holders.itf.json');
});

describe('an output that cannot be written is refused before the run', () => {
  // Root passes permission bits, so the unwritable places are ones no one can write: /proc/self and
  // a path through a regular file.
  const blocker = join(dir, 'a-file');
  writeFileSync(blocker, 'x');
  it.skipIf(!PROC).each([
    ['explore --trace-out /proc/self', ['explore', '--depth', '9', '--trace-out', '/proc/self'], /--trace-out: cannot write into \/proc\/self/],
    ['explore --trace-out under /proc/self', ['explore', '--depth', '9', '--trace-out', '/proc/self/traces'], /--trace-out: cannot write into \/proc\/self/],
    ['simulate --trace-out /proc/self', ['simulate', '--runs', '100000', '--trace-out', '/proc/self'], /--trace-out: cannot write into/],
    ['regress --junit into /proc/self', ['regress', '--only', 'seed/ept', '--junit', '/proc/self/regress.xml'], /--junit: cannot write into \/proc\/self/],
  ])('%s', async (_what, args, message) => {
    expectUsageError(await cli(...args), message);
  });
  it('explore --trace-out through a regular file', async () => {
    expectUsageError(await cli('explore', '--depth', '9', '--trace-out', join(blocker, 'traces')), /--trace-out: .*a-file exists and is not a directory/);
  });
  it('export-test --out through a regular file', async () => {
    expectUsageError(await cli('trace', 'export-test', leak, '--out', join(blocker, 'x.test.ts')), /--out: .*not a directory/);
  });
  it('--trace-out into a new folder creates nothing when the run is refused', async () => {
    const fresh = join(dir, 'fresh', 'deeper');
    expectUsageError(await cli('explore', '--trace-out', fresh, '--xen', 'nope'), /--xen/);
    expect(existsSync(join(dir, 'fresh'))).toBe(false);
  });
});

describe('files are written whole or not at all', () => {
  it('a rename that fails leaves neither the file nor a temporary file', () => {
    const d = join(dir, 'atomic');
    mkdirSync(join(d, 'taken.json'), { recursive: true }); // a folder where the file should go
    expect(() => writeFileAtomic(join(d, 'taken.json'), '{}', '--x')).toThrow(/--x: cannot write/);
    expect(readdirSync(d)).toEqual(['taken.json']);
    expect(readdirSync(join(d, 'taken.json'))).toEqual([]);
  });
  it('a written trace folder holds the traces and nothing else', () => {
    expect(readdirSync(join(dir, 'traces'))).toEqual(['refcount-matches-holders.itf.json']);
  });
});

describe('export-test', () => {
  it('refuses to overwrite a file without --force, and overwrites it with', async () => {
    const f = join(dir, 'mine.test.ts');
    writeFileSync(f, '// my own test\n');
    expectUsageError(await cli('trace', 'export-test', leak, '--out', f), /--out: .*mine\.test\.ts exists; pass --force/);
    expect(readFileSync(f, 'utf8')).toBe('// my own test\n');
    const r = await cli('trace', 'export-test', leak, '--out', f, '--force');
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(f, 'utf8')).toContain('refcount-matches-holders');
  });

  it('never writes a project source, even with --force', async () => {
    const src = join(ROOT, 'model', 'index.ts');
    const before = readFileSync(src, 'utf8');
    for (const extra of [[], ['--force']]) {
      expectUsageError(await cli('trace', 'export-test', leak, '--out', 'model/index.ts', ...extra), /--out: the test file must end in \.test\.ts/);
    }
    expect(readFileSync(src, 'utf8')).toBe(before);
  });

  it('the command it prints runs the test from where the user stands', async () => {
    const here = mkdtempSync(join(dir, 'user-'));
    const r = await cliIn(here, 60_000, ['trace', 'export-test', leak]);
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(join(here, 'refcount-matches-holders.test.ts'))).toBe(true);
    const cmd = /run it with: (.*)$/m.exec(r.stdout)?.[1];
    expect(cmd, r.stdout).toBeDefined();
    const status = await new Promise<number>((done) => exec(cmd!, { cwd: here }, (e) => done(e ? (e.code as number) ?? 1 : 0)));
    expect(status, cmd).toBe(0);
  });
});
