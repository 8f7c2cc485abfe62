// Every finding of the regression matrix on a real Xen version (not a mutant: no host runs one; not
// a variant) as a reproducer: each entry that expects violations is explored to the depth of its
// deepest one, each counterexample exported as C (checker/trace/reproducer.ts), compiled with
// gcc -Wall -Wextra -Werror against the real libxenctrl (Debian's libxen-dev, which .ci/run
// installs), and run against the stand-in libxenctrl (test/standin/): the trace's calls in order, the
// model's verdict when the host answers as the model did, "diverged" when one answer differs,
// everything destroyed. A finding added to the matrix is covered without an edit here.
//
// The four findings the reproducers were built for are kept explicitly too, each made the way a user
// finds it (test/reproducer.test.ts runs them from their replay tokens in the fast suite).
import { mkdtempSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTraces } from '../../checker/cli/output.js';
import type { Trace } from '../../checker/trace/build.js';
import { readMatrix, defaultMatrixPath, runEntry, type MatrixEntry } from '../../checker/regress/run.js';
import { TraceFormatError } from '../../checker/trace/itf.js';
import { readTraceFile } from '../../checker/trace/load.js';
import { planReproducer, type ReproducerPlan } from '../../checker/trace/reproducer-plan.js';
import { reproducerC } from '../../checker/trace/reproducer.js';
import { cliWithin } from '../cli-run.js';
import {
  compileReal,
  compileStandin,
  expectCallsInOrder,
  expectCleanedUp,
  expectOutcome,
  runStandin,
  standinScript,
  toolchainProblem,
} from '../standin.js';

const dir = mkdtempSync(join(tmpdir(), 'checker-reproducers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const matrixFile = defaultMatrixPath();
const findings = readMatrix(matrixFile).entries.filter(
  (e): e is MatrixEntry & { expect: NonNullable<MatrixEntry['expect']> } =>
    e.mutant === undefined && e.variant === undefined && e.expect !== undefined && Object.keys(e.expect.violations).length > 0,
);

interface Exported {
  file: string;
  plan: ReproducerPlan;
  bin: string;
}

/** Exports, and builds both ways, every counterexample in `traceDir`. */
async function exportAll(traceDir: string): Promise<Exported[]> {
  const out: Exported[] = [];
  for (const name of readdirSync(traceDir).filter((n) => n.endsWith('.itf.json')).sort()) {
    const file = join(traceDir, name);
    const tf = await readTraceFile(file);
    const c = file.replace(/\.itf\.json$/, '.c');
    let source: string;
    try {
      source = reproducerC(tf).source;
    } catch (e) {
      // the one trace no host may run: one that destroys the host's own dom0 (--destroyable-dom0)
      expect(e).toBeInstanceOf(TraceFormatError);
      expect((e as Error).message).toMatch(/destroys the hardware domain/);
      expect(tf.target.u.hardwareDomainDestroyable).toBe(true);
      continue;
    }
    writeFileSync(c, source);
    const bin = c.replace(/\.c$/, '-standin');
    await Promise.all([compileReal(c, c.replace(/\.c$/, '-real')), compileStandin(c, bin)]);
    out.push({ file, plan: planReproducer(tf), bin });
  }
  return out;
}

/** Whether a counterexample destroys the hardware domain (possible with --destroyable-dom0 only). */
function destroysDom0(t: Trace): boolean {
  return t.steps.some((s) => (s.action.op === 'destroy' || s.action.op === 'kill_begin') && s.action.d === 0 && s.rc === 0);
}

/** The reproducer against the stand-in: as the model says, then with its first answer changed. */
async function checkAgainstStandin(x: Exported): Promise<void> {
  const cwd = dirname(x.file);
  const r = await runStandin(x.bin, cwd, standinScript(x.plan));
  expectCallsInOrder(x.plan, r.log);
  expectOutcome(x.plan, r);
  if (r.status !== 99) expectCleanedUp(r.log);
  // a host that answers the first issued call otherwise
  const first = x.plan.calls.findIndex((c) => c.op !== 'none' && c.op !== 'empty_pool');
  const rc = x.plan.predictions[0]!.rcs[first];
  if (rc === null || x.plan.predictions[0]!.faults[first] !== null) return;
  const d = await runStandin(x.bin, cwd, standinScript(x.plan, { differ: first }));
  expect(d.status, d.stdout).toBe(13);
  expect(d.last).toMatch(new RegExp(`^diverged at step ${x.plan.calls[first]!.first}: `));
  expectCleanedUp(d.log);
}

beforeAll(() => {
  expect(toolchainProblem()).toBeNull();
});

describe("every finding of the regression matrix on a real Xen version", () => {
  it('there are findings to export, and of every kind', () => {
    expect(findings.length).toBeGreaterThan(10);
  });

  for (const e of findings) {
    it(`${e.name}: each counterexample exported, compiled against libxenctrl, run against the stand-in`, async () => {
      const depth = Math.max(...Object.values(e.expect.violations));
      const o = await runEntry({ ...e, depth }, dirname(matrixFile));
      expect(o.error).toBeNull();
      // every violation the matrix expects is found at that depth, with its trace
      expect(Object.fromEntries(o.traces.map((t) => [t.property, t.depth]))).toEqual(e.expect.violations);
      const traceDir = join(dir, e.name.replace(/[^\w.-]+/g, '_'));
      mkdirSync(traceDir);
      writeTraces(traceDir, o.target!.u, o.traces, o.target!);
      const exported = await exportAll(traceDir);
      expect(exported.length).toBe(o.traces.length - (o.target!.u.hardwareDomainDestroyable ? o.traces.filter((t) => destroysDom0(t)).length : 0));
      for (const x of exported) await checkAgainstStandin(x);
    });
  }
});

describe('the four findings the reproducers were built for, each made as a user finds it', () => {
  const made = async (name: string, args: string[], property: string): Promise<Exported> => {
    const out = join(dir, name);
    const r = await cliWithin(600_000, [...args, '--trace-out', out]);
    expect(r.status, r.stderr).toBe(12);
    const [x] = (await exportAll(out)).filter((t) => t.plan.trace.property === property);
    expect(x).toBeDefined();
    return x!;
  };

  it("the seed's teardown leak: checker explore (defaults), refcount-matches-holders at depth 2, token 28,55", async () => {
    const x = await made('seed-leak', ['explore', '--depth', '2'], 'refcount-matches-holders');
    expect(x.plan.trace.path).toEqual([28, 55]);
    await checkAgainstStandin(x);
  });

  it("xen-4.19's remove/add race: two vCPUs, no-dangling-mapping at depth 25, two threads racing", async () => {
    const x = await made(
      'remove-add-race',
      ['explore', '--xen', 'xen-4.19', '--granularity', 'steps', '--vcpus', '2', '--ops', 'decrease_reservation,add_to_physmap_foreign,remove_from_physmap', '--invariants', 'no-dangling-mapping', '--depth', '25'],
      'no-dangling-mapping',
    );
    expect(x.plan.trace.depth).toBe(25);
    // the token test/reproducer.test.ts replays
    expect(x.plan.trace.path.join(',')).toBe('8,0,0,0,43,1,0,0,0,0,0,0,0,0,0,0,0,2,0,0,0,0,0,1,1');
    expect(x.plan.kind).toBe('race-loop');
    expect(new Set(x.plan.calls.map((c) => c.thread))).toEqual(new Set([0, 1]));
    await checkAgainstStandin(x);
  });

  it("head's teardown of a device model that maps its target: no-hypervisor-fault at depth 2", async () => {
    const x = await made('head-dm', ['explore', '--xen', 'head', '--depth', '2'], 'no-hypervisor-fault');
    expect(x.plan.predictions[0]!.faults.some((f) => f !== null && /p2m_entry_modify/.test(f))).toBe(true);
    await checkAgainstStandin(x);
  });

  it("xen-4.19's foreign insert behind the teardown cursor: replay --path 28,34,55,58,28,58", async () => {
    const x = await made('cursor', ['replay', '--xen', 'xen-4.19', '--preemptible-teardown', '--path', '28,34,55,58,28,58'], 'no-hypervisor-fault');
    expect(x.plan.kind).toBe('race-loop');
    await checkAgainstStandin(x);
  });
});
