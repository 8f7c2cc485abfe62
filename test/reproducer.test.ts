// checker trace export --format c: the four findings the reproducers were built for, each exported as
// a user would (replay --path --trace-out, then trace export), compiled with gcc -Wall -Wextra -Werror
// against the real libxenctrl, and run against the stand-in libxenctrl (test/standin/), a fake host that
// answers as the model says: the program must issue the trace's calls in order with the right
// arguments, say "reproduced" when the host answers as the model did, "diverged at step N" when one
// answer differs, and destroy what it created (also on SIGINT). test/slow/reproducers.test.ts does the
// same for every finding of the regression matrix.
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTraceFile, readTraceText, type TraceFile } from '../checker/trace/load.js';
import { planReproducer, type ReproducerPlan } from '../checker/trace/reproducer-plan.js';
import { cString, reproducerC } from '../checker/trace/reproducer.js';
import { TraceFormatError } from '../checker/trace/itf.js';
import { cliWithin, expectUsageError } from './cli-run.js';
import {
  compileReal,
  compileStandin,
  expectCallsInOrder,
  expectCleanedUp,
  expectOutcome,
  runStandin,
  standinScript,
  toolchainProblem,
} from './standin.js';

const dir = mkdtempSync(join(tmpdir(), 'checker-reproducer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Finding {
  name: string;
  /** replay's flags: the universe and the token. */
  replay: string[];
  property: string;
  tf?: TraceFile;
  plan?: ReproducerPlan;
  /** The program built with the stand-in. */
  bin?: string;
}

const FINDINGS: Record<string, Finding> = {
  leak: { name: "the seed's teardown leak", replay: ['--path', '28,55'], property: 'refcount-matches-holders' },
  race: {
    name: "xen-4.19's remove/add race",
    replay: [
      '--xen', 'xen-4.19', '--granularity', 'steps', '--vcpus', '2', '--ops', 'decrease_reservation,add_to_physmap_foreign,remove_from_physmap',
      '--path', '8,0,0,0,43,1,0,0,0,0,0,0,0,0,0,0,0,2,0,0,0,0,0,1,1',
    ],
    property: 'no-dangling-mapping',
  },
  dm: { name: "head's teardown of a device model mapping its target (ac607edc2e)", replay: ['--xen', 'head', '--path', '28,55'], property: 'no-hypervisor-fault' },
  cursor: {
    name: "xen-4.19's foreign insert behind the teardown cursor",
    replay: ['--xen', 'xen-4.19', '--preemptible-teardown', '--path', '28,34,55,58,28,58'],
    property: 'no-hypervisor-fault',
  },
};

beforeAll(async () => {
  expect(toolchainProblem()).toBeNull();
  await Promise.all(
    Object.entries(FINDINGS).map(async ([key, f]) => {
      const out = join(dir, key);
      const r = await cliWithin(60_000, ['replay', ...f.replay, '--invariants', f.property, '--trace-out', out]);
      expect(r.status, r.stderr).toBe(12);
      const file = join(out, `${f.property}.itf.json`);
      f.tf = await readTraceFile(file);
      f.plan = planReproducer(f.tf);
      // exported as a user does, then built as a host does, and with the stand-in
      const c = join(dir, `${key}.c`);
      const e = await cliWithin(60_000, ['trace', 'export', '--format', 'c', file, '--out', c]);
      expect(e.status, e.stderr).toBe(0);
      expect(e.stdout).toContain(`wrote ${c} (${f.plan.kind})`);
      await compileReal(c, join(dir, `${key}-real`));
      f.bin = join(dir, `${key}-standin`);
      await compileStandin(c, f.bin);
    }),
  );
});

const ANY = { leak: FINDINGS.leak!, race: FINDINGS.race!, dm: FINDINGS.dm!, cursor: FINDINGS.cursor! };

describe('the host run, planned on the model', () => {
  it("the seed's teardown leak: two calls in sequence; the cleanup leaves dom2 a zombie", () => {
    const p = ANY.leak.plan!;
    expect(p.kind).toBe('sequential');
    expect(p.calls.map((c) => [c.op, c.d, c.f, c.first])).toEqual([
      ['add_foreign', 1, 2, 1],
      ['destroy', 1, -1, 2],
    ]);
    expect(p.touchesDom0).toBe(false);
    const t = p.predictions[0]!;
    expect(t.rcs).toEqual([0, 0]);
    // dom1's own page at gfn 0 is freed by the mapping over it; dom1 goes, dom2 keeps both pages
    expect(t.after.map((a) => a!.map((o) => o && [o.life, o.pages]))).toEqual([
      [null, ['alive', 1], ['alive', 2]],
      [null, ['gone', 0], ['alive', 2]],
    ]);
    expect(t.end![2]).toMatchObject({ life: 'dying', pages: 1, modelLife: 'dead' });
    expect(t.signature).toBe('dom2 stays a zombie with 1 page after every domain was destroyed');
  });

  it("xen-4.19's remove/add race: one thread per vCPU, and a hit no order of whole calls can be told from", () => {
    const p = ANY.race.plan!;
    expect(p.kind).toBe('race-loop');
    expect(p.touchesDom0).toBe(true);
    expect(p.calls.map((c) => [c.op, c.thread])).toEqual([
      ['add_foreign', 0],
      ['remove', 1],
      ['decrease', 0],
    ]);
    expect(p.race).toEqual([0, 1, 2]);
    // the trace leaves remove and decrease in flight: completed, both return 0
    expect(p.predictions[0]!.rcs).toEqual([0, 0, 0]);
    expect(p.predictions[0]!.signature).toBeNull();
    expect(p.predictions[0]!.alike.sort()).toEqual(['add_to_physmap_foreign, decrease_reservation, remove_from_physmap', 'add_to_physmap_foreign, remove_from_physmap, decrease_reservation']);
    // removed first, the foreign mapping stays: dom1 keeps its page (2), where the race frees it (1)
    expect(p.predictions.map((c) => c.after[2]![1]!.pages)).toEqual([1, 2]);
    expect(p.notes.some((n) => n.includes('needs a PVH dom0'))).toBe(true);
  });

  it("head's device-model teardown: a debug build's ASSERT, a release build's -EILSEQ and a domain that never dies", () => {
    const p = ANY.dm.plan!;
    expect(p.kind).toBe('sequential');
    const t = p.predictions[0]!;
    expect(t.faults[1]).toMatch(/p2m_entry_modify puts an old foreign entry/);
    expect(t.rcs).toEqual([0, -84]);
    expect(t.after[1]![1]).toMatchObject({ life: 'dying' });
    expect(t.signature).toMatch(/^destroy\(dom1\) fails with -EILSEQ/);
    expect(t.signature).toMatch(/dom2 stays a zombie with 1 page/);
  });

  it("xen-4.19's insert behind the teardown cursor: destroy raced by the insert, on two threads", () => {
    const p = ANY.cursor.plan!;
    expect(p.kind).toBe('race-loop');
    expect(p.calls.map((c) => [c.op, c.first, c.thread])).toEqual([
      ['add_foreign', 1, 0],
      ['add_foreign', 2, 0],
      ['destroy', 3, 1],
      ['add_foreign', 5, 0],
    ]);
    expect(p.calls[2]!.text).toBe('destroy(dom1) (kill_begin, relinquish_step ×2)');
    expect(p.race).toEqual([2, 3]);
    const [hit, ...orders] = p.predictions;
    expect(hit!.faults[2]).toMatch(/behind the teardown cursor/);
    expect(hit!.rcs).toEqual([0, 0, 0, 0]);
    expect(hit!.signature).toBe('dom2 stays a zombie with 1 page after every domain was destroyed');
    // whole calls: the insert into a destroyed domain fails, or lands on the foreign entry already there
    expect(orders.map((o) => [o.name, o.rcs[3], o.signature])).toEqual([
      ['in sequence: destroy, add_to_physmap_foreign', -3, null],
      ['in sequence: add_to_physmap_foreign, destroy', -6, null],
    ]);
    expect(p.kindWhy).toMatch(/no -ERESTART reaches the toolstack/);
  });
});

describe('the programs against the stand-in libxenctrl', () => {
  for (const [key, f] of Object.entries(ANY)) {
    it(`${f.name}: the trace's calls in order, the model's verdict, everything destroyed`, async () => {
      const r = await runStandin(f.bin!, dir, standinScript(f.plan!));
      expectCallsInOrder(f.plan!, r.log);
      expectOutcome(f.plan!, r);
      expectCleanedUp(r.log);
      // the universe is the trace's: each created domain of its kind, the device model's target set
      expect(r.log.filter((l) => l.startsWith('create ') || l.startsWith('set_target '))).toEqual(['create dom1 pvh', 'create dom2 hvm', 'set_target dom1 dom2']);
      expect(r.log.filter((l) => l.startsWith('populate_exact ')).length).toBe(f.plan!.touchesDom0 ? 6 : 4);
      expect(key).toBeTruthy();
    });

    it(`${f.name}: a host that answers otherwise at the first call: diverged at step 1, everything destroyed`, async () => {
      const r = await runStandin(f.bin!, dir, standinScript(f.plan!, { differ: 0 }));
      expect(r.status, r.stdout).toBe(13);
      expect(r.last).toMatch(
        f.plan!.race.includes(0)
          ? /^diverged at step 1: in 1 attempts the racing calls never answered as the model says for any order$/
          : /^diverged at step 1: add_to_physmap_foreign\(t=dom\d, gT=0, f=dom\d, gF=0\) returned -?\w+, the model 0$/,
      );
      expectCleanedUp(r.log);
    });

    it(`${f.name}: SIGINT in the first call: interrupted, everything destroyed`, async () => {
      // a host whose cleanup frees everything: what the program destroyed is gone
      const r = await runStandin(f.bin!, dir, standinScript(f.plan!, { sigintAt: 1, fixed: true }));
      expect(r.status, r.stdout).toBe(130);
      // a race's other calls may have started by the time the first returns
      expect(r.last).toMatch(f.plan!.race.length ? /^interrupted at step [\d.-]+: every domain the program created is destroyed$/ : /^interrupted at step 1: every domain the program created is destroyed$/);
      expectCleanedUp(r.log);
    });
  }

  it('the leak on a host that frees everything (a fixed Xen): not reproduced, nothing left', async () => {
    const r = await runStandin(ANY.leak.bin!, dir, standinScript(ANY.leak.plan!, { fixed: true }));
    expect(r.status, r.stdout).toBe(0);
    expect(r.last).toMatch(/^not reproduced: every call answered as the model says, but after the cleanup .*; nothing is left$/);
  });

  it("the device model's teardown on a debug host: the program warns, and the host goes down in that call", async () => {
    const r = await runStandin(ANY.dm.bin!, dir, standinScript(ANY.dm.plan!, { debug: true }));
    expectOutcome(ANY.dm.plan!, r, true);
    expect(r.stdout).toMatch(/^warning: step 2: the model's debug build fails ASSERT: p2m_entry_modify .* a debug hypervisor with this bug panics there/m);
    expect(r.log[r.log.length - 1]).toBe('(the hypervisor goes down)');
  });

  it('the device model on a release host: reproduced by the failing teardown and what it leaves, with what Xen printed', async () => {
    const printk = '(XEN) d101: failed to unmap foreign page 10000 order 0 error -84';
    const r = await runStandin(ANY.dm.bin!, dir, `${standinScript(ANY.dm.plan!)}console-later ${printk}\n`);
    expect(r.last).toMatch(/^reproduced: destroy\(dom1\) fails with -EILSEQ: its teardown cannot finish; dom1 stays dying with 1 page .*; dom2 stays a zombie/);
    // the hypervisor's console lines of the run, before the last line
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[lines.length - 2]).toBe(`xen: ${printk}`);
  });

  it('the race behind the teardown cursor: hit at the first attempt when the host answers as the model', async () => {
    const r = await runStandin(ANY.cursor.bin!, dir, standinScript(ANY.cursor.plan!));
    expect(r.stdout).toContain('the window was hit at attempt 1');
    expect(r.stdout).toMatch(/^attempt 1: the trace's interleaving: destroy\(dom1\) .* = 0 \(\d+ to \d+ us\); add_to_physmap_foreign\(t=dom1, gT=0, f=dom2, gF=0\) = 0 \(\d+ to \d+ us\)$/m);
  });

  it('the remove/add race: the outcome of a hit is that of two orders of whole calls, and the program says so', async () => {
    const r = await runStandin(ANY.race.bin!, dir, standinScript(ANY.race.plan!));
    expect(r.last).toMatch(/^not reproduced: .*a hit cannot be told apart$/);
    // dom0's gfns are emptied at the end: decrease (its own page), then remove (a foreign entry)
    expect(r.log.filter((l) => / dom0 /.test(l) && /^(decrease|remove)/.test(l)).slice(-4)).toEqual([
      'decrease dom0 0x10000 0 x1',
      'remove dom0 0x10000',
      'decrease dom0 0x10001 0 x1',
      'remove dom0 0x10001',
    ]);
  });

  it('a PV dom0 cannot run a trace that maps into dom0: not run, and nothing created', async () => {
    const script = standinScript(ANY.race.plan!).replace(/^dom0 pvh/m, 'dom0 pv');
    const r = await runStandin(ANY.race.bin!, dir, script);
    expect(r.status).toBe(2);
    expect(r.last).toMatch(/^not run: the trace maps into dom0's own p2m, which needs a PVH dom0/);
    expect(r.log).toEqual([]);
  });

  it("a --gfn-base inside dom0's memory is refused before anything is created", async () => {
    const r = await runStandin(ANY.race.bin!, dir, standinScript(ANY.race.plan!), ['--gfn-base', '0x4000']);
    expect(r.status).toBe(2);
    expect(r.last).toMatch(/^not run: --gfn-base 0x4000 is inside dom0's memory \(its highest gfn is 0x8000\)/);
    expect(r.log).toEqual([]);
  });

  it('--gfn-base moves every gfn the program uses', async () => {
    const r = await runStandin(ANY.leak.bin!, dir, standinScript(ANY.leak.plan!), ['--gfn-base', '0x200000']);
    expect(r.log).toContain('populate_exact dom1 0x200001 0 x1');
    expect(r.log).toContain('add_foreign dom1 dom2 0x200000 0x200000 x1');
  });

  it('a version other than the trace\'s is a warning, not a refusal', async () => {
    const r = await runStandin(ANY.cursor.bin!, dir, standinScript(ANY.cursor.plan!).replace('version 4 19 .1', 'version 4 17 .3'));
    expect(r.stdout).toMatch(/^host: Xen 4\.17\.3; warning: the trace is of xen-4\.19 \(Xen 4\.19 and 4\.20/m);
    expect(r.status).toBe(12);
  });
});

describe('what cannot be exported', () => {
  it("a mutant's trace: one line, exit 2, with the reason", async () => {
    const out = join(dir, 'mutant');
    expect((await cliWithin(60_000, ['replay', '--mutant', 'ept-write-without-put', '--path', '14', '--trace-out', out])).status).toBe(12);
    const file = join(out, readdirSync(out)[0]!);
    const r = await cliWithin(60_000, ['trace', 'export', '--format', 'c', file, '--out', join(dir, 'mutant.c')]);
    expectUsageError(r, /no host runs a mutant/);
  });

  it('a trace that destroys dom0 (--destroyable-dom0): refused, a host would destroy its own', async () => {
    const out = join(dir, 'dom0');
    expect((await cliWithin(60_000, ['replay', '--destroyable-dom0', '--path', '14,54', '--invariants', 'refcount-matches-holders', '--trace-out', out])).status).toBe(12);
    const r = await cliWithin(60_000, ['trace', 'export', '--format', 'c', join(out, 'refcount-matches-holders.itf.json'), '--out', join(dir, 'dom0.c')]);
    expectUsageError(r, /step 2 destroys the hardware domain \(--destroyable-dom0\)/);
  });

  it("a trace another tool wrote: refused, with the reason", async () => {
    const theirs = JSON.parse(readFileSync(join(dir, 'leak', 'refcount-matches-holders.itf.json'), 'utf8'));
    delete theirs['#meta'];
    const tf = await readTraceText(JSON.stringify(theirs), 'quint.itf.json');
    expect(tf.foreign).toBe(true);
    expect(() => reproducerC(tf)).toThrow(TraceFormatError);
    expect(() => reproducerC(tf)).toThrow(/another tool wrote .* no configuration of ours/);
    const file = join(dir, 'quint.itf.json');
    writeFileSync(file, JSON.stringify(theirs));
    expectUsageError(await cliWithin(60_000, ['trace', 'export', '--format', 'c', file, '--out', join(dir, 'quint.c')]), /another tool wrote/);
  });

  it('a variant\'s trace exports with a header naming the variant and its file\'s hash', async () => {
    const variant = join(dir, 'noop.ts');
    writeFileSync(variant, "export default { name: 'seed-as-is', base: 'seed', overrides: () => ({}) };\n");
    const out = join(dir, 'variant');
    expect((await cliWithin(60_000, ['replay', '--variant', variant, '--path', '28,55', '--invariants', 'refcount-matches-holders', '--trace-out', out])).status).toBe(12);
    const tf = await readTraceFile(join(out, 'refcount-matches-holders.itf.json'), { variant });
    const sha = createHash('sha256').update(readFileSync(variant)).digest('hex');
    const { source } = reproducerC(tf);
    expect(source).toContain(`variant seed-as-is of seed (sha256 ${sha}): for a host running the patch it models`);
    expect(source.split('\n').slice(0, 4).join('\n')).toContain(`variant seed-as-is of seed (sha256 ${sha})`);
    // without the file, the trace is not read at all (a trace never loads code)
    expectUsageError(await cliWithin(60_000, ['trace', 'export', '--format', 'c', join(out, 'refcount-matches-holders.itf.json')]), /pass --variant FILE/);
  });

  it('trace export checks its flags before anything', async () => {
    const file = join(dir, 'leak', 'refcount-matches-holders.itf.json');
    expectUsageError(await cliWithin(60_000, ['trace', 'export', file]), /--format is required/);
    expectUsageError(await cliWithin(60_000, ['trace', 'export', '--format', 'rust', file]), /--format: expected one of c/);
    expectUsageError(await cliWithin(60_000, ['trace', 'export', '--format', 'c', file, '--out', join(dir, 'x.h')]), /must end in \.c/);
    expectUsageError(await cliWithin(60_000, ['trace', 'export', '--format', 'c', file, '--out', join(dir, 'leak.c')]), /exists; pass --force/);
    expectUsageError(await cliWithin(60_000, ['trace', 'export', '--format', 'c', file, '--gfn-base', 'lots', '--out', join(dir, 'y.c')]), /--gfn-base: expected a gfn/);
  });
});

describe('the C text', () => {
  it('strings are escaped for C: quotes, backslashes, ? (no trigraph), newlines, UTF-8 as octal bytes', () => {
    expect(cString('a"b\\c??=d\n×')).toBe('"a\\"b\\\\c\\?\\?=d\\n\\303\\227"');
    expect(cString(null)).toBe('NULL');
  });

  it('the gfn base given to the library is the program\'s default', () => {
    const { source } = reproducerC(ANY.leak.tf!, { gfnBase: 0x400000n });
    expect(source).toContain('#define DEFAULT_GFN_BASE 0x400000UL');
    expect(() => reproducerC(ANY.leak.tf!, { gfnBase: -1 })).toThrow(RangeError);
  });
});
