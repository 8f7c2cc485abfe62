// --checkpoint / --resume and --frontier-memory: a search saved at a level boundary and resumed, or
// with its frontier on disk, must give exactly what one uninterrupted in-memory run gives: per-level
// counts, every verdict, its depth, its message and its shortest trace. A checkpoint of another run,
// or a damaged one, is refused with one line (exit 2) and leaves no file behind; a crash while one is
// written leaves the previous one usable.
import { existsSync, mkdirSync, readdirSync, readFileSync, truncateSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { cli, CLI, expectUsageError, json, outcome, ROOT, scratchDir, type Run } from './cli-run.js';
import { CHECKPOINT_FILE, CheckpointError, explore, openCheckpoint, type ExploreResult, type Model } from '../checker/engine/index.js';
import { writeCheckpoint } from '../checker/engine/checkpoint.js';

const { dir } = scratchDir('checker-checkpoint-');

const base = ['explore', '--xen', 'seed', '--json'];
const sub = (name: string) => join(dir, name);
/** The straight in-memory run to depth 4, run once. */
let straight4: Promise<Run> | null = null;
const straight = () => (straight4 ??= cli(...base, '--depth', '4'));

describe('checkpoint and resume', () => {
  it('resuming a checkpoint of depth 2 to depth 4 gives the straight run to depth 4, traces included', async () => {
    const ck = sub('a');
    const [whole, first] = await Promise.all([straight(), cli(...base, '--depth', '2', '--checkpoint', ck)]);
    expect(first.stderr).toContain('checkpoint of depth 2');
    expect(existsSync(join(ck, CHECKPOINT_FILE))).toBe(true);
    const resumed = await cli(...base, '--depth', '4', '--resume', ck);
    expect(resumed.stderr).toContain('resuming at depth 2');
    expect(resumed.status).toBe(whole.status);
    const s = outcome(whole.stdout);
    expect(s.properties.some((p: any) => p.verdict === 'violated' && p.trace)).toBe(true);
    expect(outcome(resumed.stdout)).toEqual(s);
  });

  it('a run stopped by --max-states in the middle of a level resumes from its last level, and checkpoints on', async () => {
    const ck = sub('b');
    const stopped = await cli(...base, '--depth', '4', '--max-states', '5000', '--checkpoint', ck);
    expect(json(stopped).levels.at(-1).complete).toBe(false);
    expect(openCheckpoint(ck).state.depth).toBe(3);
    const resumed = await cli(...base, '--depth', '4', '--resume', ck, '--checkpoint', ck);
    const whole = await straight();
    expect(resumed.status).toBe(whole.status);
    expect(outcome(resumed.stdout)).toEqual(outcome(whole.stdout));
    expect(openCheckpoint(ck).state.depth).toBe(4);
    // nothing but the checkpoint in its folder
    expect(readdirSync(ck)).toEqual([CHECKPOINT_FILE]);
  });

  it('a run killed (SIGKILL) after its checkpoint of depth 3 resumes to the straight result', async () => {
    const ck = sub('killed');
    const child = spawn(process.execPath, [CLI, ...base, '--depth', '12', '--checkpoint', ck], { cwd: ROOT });
    let killedAt = -1;
    try {
      await new Promise<void>((done) => {
        const poll = setInterval(() => {
          try {
            const d = openCheckpoint(ck).state.depth;
            if (d >= 3) {
              killedAt = d;
              child.kill('SIGKILL');
            }
          } catch {
            // not written yet
          }
        }, 20);
        child.on('exit', () => {
          clearInterval(poll);
          done();
        });
      });
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    expect(killedAt).toBeGreaterThanOrEqual(3);
    // whatever the kill interrupted, the checkpoint there is whole (a temporary file may be left: ignored)
    const depth = openCheckpoint(ck).state.depth;
    expect(depth).toBeLessThanOrEqual(4);
    const [whole, resumed] = await Promise.all([straight(), cli(...base, '--depth', '4', '--resume', ck)]);
    expect(outcome(resumed.stdout)).toEqual(outcome(whole.stdout));
  });

  it('a checkpoint written by one thread resumes on two workers, and one written by two workers on one thread', async () => {
    const one = sub('c1');
    const two = sub('c2');
    await Promise.all([cli(...base, '--depth', '2', '--checkpoint', one), cli(...base, '--depth', '2', '--workers', '2', '--checkpoint', two)]);
    const [whole, onTwo, onOne] = await Promise.all([straight(), cli(...base, '--depth', '4', '--workers', '2', '--resume', one), cli(...base, '--depth', '4', '--resume', two)]);
    const want = outcome(whole.stdout);
    expect(outcome(onOne.stdout)).toEqual(want);
    const got = outcome(onTwo.stdout);
    expect(got.search.workers).toBe(2);
    got.search.workers = 1;
    expect(got).toEqual(want);
  });

  it('--exact round-trips its encodings', async () => {
    const ck = sub('x');
    await cli(...base, '--depth', '2', '--exact', '--checkpoint', ck);
    const [straight, resumed] = await Promise.all([cli(...base, '--depth', '4', '--exact'), cli(...base, '--depth', '4', '--exact', '--resume', ck)]);
    expect(outcome(resumed.stdout)).toEqual(outcome(straight.stdout));
    expectUsageError(await cli(...base, '--depth', '4', '--resume', ck), /exact/);
  });

  it('a leftover temporary file (a crash while writing) is ignored', async () => {
    const ck = sub('t');
    await cli(...base, '--depth', '3', '--checkpoint', ck);
    writeFileSync(join(ck, `.${CHECKPOINT_FILE}.99999.abc.tmp`), 'half a checkpoint');
    const [whole, resumed] = await Promise.all([straight(), cli(...base, '--depth', '4', '--resume', ck)]);
    expect(outcome(resumed.stdout)).toEqual(outcome(whole.stdout));
  });

  it("the next checkpoint removes a dead writer's temporary file, and leaves a live one's", async () => {
    const ck = sub('stale');
    // pid 2^22 + 1 is above Linux's pid_max: no such process
    const dead = join(ck, `.${CHECKPOINT_FILE}.4194305.abc.tmp`);
    const live = join(ck, `.${CHECKPOINT_FILE}.${process.pid}.def.tmp`);
    await cli(...base, '--depth', '1', '--checkpoint', ck);
    writeFileSync(dead, 'half a checkpoint');
    writeFileSync(live, 'a checkpoint being written');
    await cli(...base, '--depth', '2', '--resume', ck, '--checkpoint', ck);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
  });

  describe('refused with one line, exit 2, and no file left behind', () => {
    const good = sub('good');
    const cases: [string, (ck: string) => string[], RegExp][] = [
      ['another Xen version', (ck) => ['--xen', 'xen-4.19', '--depth', '4', '--resume', ck], /its xen is seed, this run's is xen-4\.19/],
      ['another universe', (ck) => ['--gfns', '1', '--depth', '4', '--resume', ck], /its gfns is 2, this run's is 1/],
      ['another backend', (ck) => ['--backend', 'pt', '--depth', '4', '--resume', ck], /its backend is ept, this run's is pt/],
      ['a mutant', (ck) => ['--mutant', 'ept-write-without-put', '--depth', '4', '--resume', ck], /its (mutant|xen|backend) is/],
      ['other invariants', (ck) => ['--invariants', 'm2p-consistent', '--depth', '4', '--resume', ck], /its invariants are|its invariants is/],
      ['symmetry', (ck) => ['--symmetry', '--depth', '4', '--resume', ck], /its symmetry is false/],
      ['a shallower --depth', (ck) => ['--depth', '2', '--resume', ck], /at depth 3, deeper than/],
      ['no checkpoint', () => ['--depth', '4', '--resume', sub('none')], /no checkpoint in/],
    ];
    it.each(cases)('%s', async (_name, args, pattern) => {
      if (!existsSync(join(good, CHECKPOINT_FILE))) await cli(...base, '--depth', '3', '--checkpoint', good);
      const out = sub(`out-${_name.replace(/\W+/g, '-')}`);
      const spill = sub(`spill-${_name.replace(/\W+/g, '-')}`);
      mkdirSync(spill);
      const before = readFileSync(join(good, CHECKPOINT_FILE));
      const r = await cli('explore', '--json', ...args(good), '--checkpoint', out, '--spill-dir', spill, '--trace-out', sub(`traces-${_name}`));
      expectUsageError(r, pattern);
      expect(existsSync(out)).toBe(false);
      expect(existsSync(sub(`traces-${_name}`))).toBe(false);
      expect(readdirSync(spill)).toEqual([]);
      expect(readFileSync(join(good, CHECKPOINT_FILE)).equals(before)).toBe(true);
    });

    it('a truncated or damaged checkpoint', async () => {
      if (!existsSync(join(good, CHECKPOINT_FILE))) await cli(...base, '--depth', '3', '--checkpoint', good);
      const cut = sub('cut');
      const bent = sub('bent');
      mkdirSync(cut);
      mkdirSync(bent);
      copyFileSync(join(good, CHECKPOINT_FILE), join(cut, CHECKPOINT_FILE));
      copyFileSync(join(good, CHECKPOINT_FILE), join(bent, CHECKPOINT_FILE));
      const size = readFileSync(join(good, CHECKPOINT_FILE)).length;
      truncateSync(join(cut, CHECKPOINT_FILE), size - 100);
      const bytes = readFileSync(join(bent, CHECKPOINT_FILE));
      bytes[size - 1000] ^= 0xff;
      writeFileSync(join(bent, CHECKPOINT_FILE), bytes);
      const garbage = sub('garbage');
      mkdirSync(garbage);
      writeFileSync(join(garbage, CHECKPOINT_FILE), 'not a checkpoint at all, but long enough to have a header and a checksum');
      expectUsageError(await cli(...base, '--depth', '4', '--resume', cut), /truncated/);
      expectUsageError(await cli(...base, '--depth', '4', '--resume', bent), /checksum does not match/);
      expectUsageError(await cli(...base, '--depth', '4', '--resume', garbage), /not a checkpoint of this checker/);
    });
  });

  it('--coverage, and --frontier-memory with --workers, are refused', async () => {
    expectUsageError(await cli(...base, '--depth', '2', '--coverage', '--checkpoint', sub('cov')), /--coverage/);
    expectUsageError(await cli(...base, '--depth', '2', '--workers', '2', '--frontier-memory', '1M'), /one worker only/);
    expectUsageError(await cli(...base, '--depth', '2', '--frontier-memory', '12Q'), /--frontier-memory/);
  });
});

describe('the frontier on disk', () => {
  it('a 4 KiB budget gives the in-memory run, traces included, and leaves nothing in --spill-dir', async () => {
    const spill = sub('spill');
    mkdirSync(spill);
    const [mem, disk] = await Promise.all([straight(), cli(...base, '--depth', '4', '--frontier-memory', '4K', '--spill-dir', spill)]);
    expect(disk.stderr).toMatch(/went to disk: [\d.]+ MiB written/);
    expect(disk.status).toBe(mem.status);
    expect(outcome(disk.stdout)).toEqual(outcome(mem.stdout));
    expect(readdirSync(spill)).toEqual([]);
  });

  it('Ctrl-C in the middle of a level on disk, and a variant that throws, leave nothing in --spill-dir', async () => {
    const spill = sub('spill-int');
    mkdirSync(spill);
    const child = spawn(process.execPath, [CLI, 'explore', '--depth', '12', '--invariants', 'no-dangling-mapping', '--frontier-memory', '4K', '--spill-dir', spill], { cwd: ROOT });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    let sawFiles = false;
    let status: number | null;
    try {
      status = await new Promise<number | null>((done) => {
        const poll = setInterval(() => {
          const runs = readdirSync(spill);
          if (runs.length > 0 && readdirSync(join(spill, runs[0]!)).length > 0) {
            sawFiles = true;
            clearInterval(poll);
            child.kill('SIGINT');
          }
        }, 50);
        child.on('exit', (code) => {
          clearInterval(poll);
          done(code);
        });
      });
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    expect(sawFiles).toBe(true);
    expect(status).toBe(3);
    expect(stdout).toMatch(/interrupted: partial result/);
    expect(readdirSync(spill)).toEqual([]);
    const thrower = join(ROOT, 'test', 'corpus', 'variants', 'throws-in-step.ts');
    expectUsageError(await cli('explore', '--variant', thrower, '--depth', '4', '--frontier-memory', '4K', '--spill-dir', spill), /the variant gives up/);
    expect(readdirSync(spill)).toEqual([]);
  });

  it('on disk and resumed, still the same', async () => {
    const ck = sub('sd');
    await cli(...base, '--depth', '2', '--frontier-memory', '4K', '--checkpoint', ck);
    const [mem, disk] = await Promise.all([straight(), cli(...base, '--depth', '4', '--frontier-memory', '4K', '--resume', ck)]);
    expect(outcome(disk.stdout)).toEqual(outcome(mem.stdout));
  });
});

// ---------------------------------------------------------------------------------------------
// The engine itself, in this process: a toy model, and a crash in the middle of a write.
// ---------------------------------------------------------------------------------------------

type XY = { x: number; y: number };
/** A grid walk: x and y from 0 to N, +1 on either; y = x = 7 is "bad". */
function grid(N: number): Model<XY, 'x' | 'y', null> {
  return {
    init: () => [{ x: 0, y: 0 }],
    actions: () => ['x', 'y'],
    step: (s, a) => ({ next: a === 'x' ? { x: Math.min(N, s.x + 1), y: s.y } : { x: s.x, y: Math.min(N, s.y + 1) }, result: null }),
    encodedSize: 2,
    encode: (s, out) => {
      out[0] = s.x;
      out[1] = s.y;
    },
    decode: (b) => ({ x: b[0]!, y: b[1]! }),
    invariants: [{ name: 'not-7-7', state: (s) => (s.x === 7 && s.y === 7 ? 'at 7,7' : null) }],
    witnesses: [{ name: 'corner', state: (s) => s.x === N && s.y === 0 }],
  };
}

const strip = (r: ExploreResult) => ({ levels: r.levels, distinct: r.distinct, generated: r.generated, fixpoint: r.fixpoint, stopped: r.stopped, violations: r.violations, witnesses: r.witnesses });

describe('the engine', () => {
  const identity = { model: 'grid', N: 40 };
  it('resumes at every depth, with the frontier on disk or not, to the straight result', () => {
    const m = grid(40);
    const straight = explore(m, { maxDepth: Infinity });
    expect(straight.fixpoint).toBe(true);
    for (const k of [1, 5, 13, 40]) {
      const ck = sub(`engine-${k}`);
      const spill = sub(`engine-spill-${k}`);
      mkdirSync(spill);
      explore(m, { maxDepth: k, checkpoint: { dir: ck, identity }, spill: { dir: spill, budgetBytes: 64 } });
      const resumed = explore(m, { maxDepth: Infinity, resume: { dir: ck, identity }, spill: { dir: spill, budgetBytes: 64 } });
      expect(strip(resumed), `resumed at ${k}`).toEqual(strip(straight));
      expect(resumed.resumedAt).toBe(k);
      expect(readdirSync(spill)).toEqual([]);
    }
  });

  it('refuses another identity', () => {
    const ck = sub('engine-id');
    explore(grid(10), { maxDepth: 3, checkpoint: { dir: ck, identity } });
    expect(() => explore(grid(10), { maxDepth: 5, resume: { dir: ck, identity: { ...identity, N: 10 } } })).toThrow(CheckpointError);
  });

  it('a write that fails half way leaves the previous checkpoint whole, and no temporary file', () => {
    const ck = sub('engine-crash');
    explore(grid(10), { maxDepth: 3, checkpoint: { dir: ck, identity } });
    const before = readFileSync(join(ck, CHECKPOINT_FILE));
    const state = openCheckpoint(ck).state;
    const none = { bytes: 0, write: () => {} };
    const failing = {
      bytes: 1 << 20,
      write: (emit: (b: Uint8Array) => void) => {
        emit(new Uint8Array(1000));
        throw new Error('disk full');
      },
    };
    expect(() => writeCheckpoint({ dir: ck, identity }, state, { fingerprints: none, parents: none, actions: none, encodings: none, frontier: failing })).toThrow('disk full');
    expect(readdirSync(ck)).toEqual([CHECKPOINT_FILE]);
    expect(readFileSync(join(ck, CHECKPOINT_FILE)).equals(before)).toBe(true);
    const resumed = explore(grid(10), { maxDepth: Infinity, resume: { dir: ck, identity } });
    expect(strip(resumed)).toEqual(strip(explore(grid(10), { maxDepth: Infinity })));
  });
});
