// Limits and Ctrl-C stop a run within a level at any worker count, with the same kind of partial
// report as on one thread; a step that never returns (a user's variant in an endless loop) does not
// keep the run from stopping; an exception in a variant is the user's error with the path to it.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, cli, expectUsageError, json, ROOT } from './cli-run.js';

const dir = mkdtempSync(join(tmpdir(), 'checker-stop-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function variant(name: string, body: string): string {
  const p = join(dir, `${name}.ts`);
  writeFileSync(
    p,
    `import { writeFileSync } from 'node:fs';
const variant = {
  name: '${name}',
  base: 'seed',
  overrides: (api: any) => ({
    p2mAddForeign(ctx: any, s: any, tdom: number, fgfn: number, gpfn: number, fdom: number) {
      if (tdom === 1 && fdom === 2) {
        ${body}
      }
      return api.p2m.p2mAddForeignSeed(ctx, s, tdom, fgfn, gpfn, fdom);
    },
  }),
};
export default variant;
`,
  );
  return p;
}

// (it says when it starts to hang: the test sends Ctrl-C once it does, whatever the machine's speed)
const HANGING = join(dir, 'hanging');
const HANGS = variant('hangs', `writeFileSync(${JSON.stringify(HANGING)}, 'yes');\n        for (;;) {}`);
const THROWS = variant('throws', 'const none: any = undefined;\n        return none.field;');
const OVERFLOWS = variant('overflows', 's.frames[0].count = 300;\n        return 0;');

/** Runs the CLI, sends Ctrl-C once `ready` matches its stderr (or once `file` exists), returns its exit and output. */
function interrupt(args: string[], o: { ready?: RegExp; file?: string }): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    let sent = false;
    const send = () => {
      if (!sent) {
        sent = true;
        child.kill('SIGINT');
      }
    };
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => {
      stderr += String(d);
      if (o.ready && o.ready.test(stderr)) send();
    });
    const poll = o.file === undefined ? null : setInterval(() => existsSync(o.file!) && send(), 50);
    // never leave a run behind: a run that ignores Ctrl-C is killed, and the test fails on its status
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(guard);
      if (poll) clearInterval(poll);
      done({ status: code, stdout, stderr });
    });
  });
}

describe('limits hold within a level with workers', () => {
  it('--max-states with 2 workers stores about that many states, not the whole level', async () => {
    const r = await cli('explore', '--depth', '8', '--max-states', '3000', '--workers', '2', '--invariants', 'no-dangling-mapping', '--json');
    expect(r.status, r.stderr).toBe(3);
    const j = json(r);
    expect(j.stopped).toBe('max-states');
    // (with workers a level's candidates count towards the limit before their repeats are removed:
    // the run may stop a little short of it, never far past it, where it used to store the whole level)
    expect(j.totals.distinct).toBeGreaterThan(1_500);
    expect(j.totals.distinct).toBeLessThan(3_500);
    expect(j.levels.at(-1).complete).toBe(false);
  });

  it.each(['1', '2'])('--time-limit stops a run within its level (%s workers), with the partial report', async (workers) => {
    const r = await cli('explore', '--depth', '12', '--time-limit', '1', '--workers', workers, '--invariants', 'no-dangling-mapping', '--json');
    expect(r.status, r.stderr).toBe(3);
    const j = json(r);
    expect(j.stopped).toBe('time');
    // (the stop may fall between two levels; within one, the level is reported unfinished)
    const last = j.levels.at(-1);
    expect(j.properties.find((p: any) => p.name === 'no-dangling-mapping').holdsToDepth).toBe(last.complete ? last.depth : last.depth - 1);
  });
});

describe('a variant that never returns from a step', () => {
  it.each(['1', '2'])('--time-limit still stops it (%s workers), and the report names the step', async (workers) => {
    // (the limit leaves the threads time to start and load the variant: the hang is in the first level)
    const r = await cli('explore', '--variant', HANGS, '--depth', '3', '--time-limit', '4', '--workers', workers, '--json');
    expect(r.status, r.stderr).toBe(3);
    const j = json(r);
    expect(j.stopped).toBe('time');
    expect(j.notes.join('\n')).toMatch(/did not answer the stop within a second .*add_to_physmap_foreign\(t=dom1, gT=0, f=dom2, gF=0\)/);
  });

  it('Ctrl-C still stops it, with the report', async () => {
    rmSync(HANGING, { force: true });
    const r = await interrupt(['explore', '--variant', HANGS, '--depth', '3'], { file: HANGING });
    expect(r.status, r.stderr).toBe(3);
    expect(r.stdout).toMatch(/interrupted: partial result/);
    expect(r.stdout).toMatch(/did not answer the stop within a second/);
  });
});

describe('a variant that throws is the user\'s error', () => {
  it.each(['1', '2'])('one line with the exception, file:line in the variant and the hypercall path (%s workers)', async (workers) => {
    const r = await cli('explore', '--variant', THROWS, '--depth', '3', '--workers', workers);
    expectUsageError(r, /--variant throws threw TypeError: Cannot read properties of undefined \(reading 'field'\) at .*throws\.ts:9:\d+; in the last step of 1\. add_to_physmap_foreign\(t=dom1, gT=0, f=dom2, gF=0\)/);
    expect(r.stderr.length).toBeLessThan(600);
  });

  it('a state the variant makes that cannot be encoded is refused, never wrapped', async () => {
    const r = await cli('explore', '--variant', OVERFLOWS, '--depth', '2');
    expectUsageError(r, /--variant overflows threw EncodingRangeError: .*frame count 300.*add_to_physmap_foreign/);
  });
});
