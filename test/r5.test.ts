// Model revision 5 (MODEL.md, r5): head is master (b04114ae2d, e1604ea827), the TLB flush follows each
// version and backend, the TLB clause of no-dangling-mapping fires where the C lets a stale
// translation survive the allocator's flush, and under `steps` every property is judged: transition
// properties on the whole call, cleanup-possible in the states with no hypercall in flight.
import { describe, expect, it } from 'vitest';
import { BACKENDS, makeUniverse, makeXenModel, VERSION_TABLES, VERSIONS, IN_FLIGHT, PENDING, type State } from '../model/index.js';
import { p2mRemovePage419, p2mRemovePageHead } from '../model/p2m.js';
import { cli, expectUsageError, json, scratchDir } from './cli-run.js';
import { ctxFor, DOM2, universe } from './helpers.js';

const WINDOW = ['--granularity', 'steps', '--vcpus', '2', '--ops', 'populate_physmap,decrease_reservation,remove_from_physmap', '--invariants', 'no-dangling-mapping', '--no-progress'];

describe('head is master: b04114ae2d in p2m_remove_entry', () => {
  // the entry a remove_from_physmap looked up (frame 4 at dom2's gfn 0) was emptied by another vCPU
  // before the removal took the lock: the removal now finds a hole where it expects frame 4
  const emptied = (): State => {
    const s = makeXenModel(universe()).init();
    s.p2m[DOM2]![0] = null;
    return s;
  };

  it('master refuses an entry emptied under the caller with -EILSEQ and changes nothing', () => {
    const u = universe({ version: 'head' });
    const s = emptied();
    const before = structuredClone(s);
    expect(p2mRemovePageHead(ctxFor(u), s, DOM2, 0, 4)).toBe(-84);
    expect(s).toEqual(before);
  });

  it('4.19 removes the hole anyway and wipes the frame\'s M2P entry (its p2m_is_valid test lets a hole through)', () => {
    const u = universe({ version: 'xen-4.19' });
    const s = emptied();
    expect(p2mRemovePage419(ctxFor(u), s, DOM2, 0, 4)).toBe(0);
    expect(s.frames[4]!.m2p).toBeNull();
  });

  it('master checks a foreign entry\'s mfn too (4.19 does not: a foreign entry is not p2m_is_valid)', () => {
    const s = makeXenModel(universe()).init();
    s.p2m[DOM2]![0] = { type: 'map_foreign', mfn: 2 };
    s.frames[2]!.count = 2;
    expect(p2mRemovePageHead(ctxFor(universe({ version: 'head' })), structuredClone(s), DOM2, 0, 3)).toBe(-84);
    const t = structuredClone(s);
    expect(p2mRemovePage419(ctxFor(universe({ version: 'xen-4.19' })), t, DOM2, 0, 3)).toBe(0);
    expect(t.p2m[DOM2]![0]).toBeNull();
  });
});

describe('populate_physmap keeps the page when its insert fails (a16cf950fc: goto out)', () => {
  // an alive domain whose tables are gone and an armed allocation failure: the insert cannot allocate
  for (const [version, rc] of [['seed', 0], ['xen-4.5', 0], ['xen-4.19', -12], ['head', -12]] as const) {
    it(`${version}: the frame stays dom2's, with no entry and no M2P entry; the call returns ${rc === 0 ? '0 (the error is ignored)' : '-ENOMEM'}`, () => {
      const u = universe({ version, spareFrames: 1 });
      const s = makeXenModel(u).init();
      s.p2m[DOM2]![0] = null;
      s.domains[DOM2]!.tables = false;
      s.armedFailures = 1;
      const ctx = ctxFor(u);
      expect(ctx.xen.populatePhysmap(ctx, s, DOM2, 0)).toBe(rc);
      expect(s.frames[6]).toEqual({ owner: DOM2, count: 1, allocated: true, m2p: null });
      expect(s.p2m[DOM2]![0]).toBeNull();
    });
  }
});

describe('the TLB flush follows each version and backend', () => {
  // decrease_reservation(dom2, 0) on one vCPU, stopped right after its entry write, with the p2m lock
  // still held: whether dom2's TLB may still translate to the frame the write removed
  function pendingAfterWrite(version: string, backend: string): boolean {
    const xm = makeXenModel(makeUniverse({ version, backend, granularity: 'steps', vcpus: 1, ops: 'decrease_reservation' }));
    let s = xm.init();
    const start = xm.enabled(s).find((a) => a.op === 'decrease_reservation' && a.d === DOM2 && a.g === 0)!;
    let a = start;
    for (let k = 0; k < 20; k++) {
      const r = xm.applyFast(s, a);
      s = r.next;
      if (r.rc !== IN_FLIGHT) throw new Error('the call returned before its write');
      if (s.p2m[DOM2]![0] === null) return (s.steps!.tlb[DOM2]![4]! & PENDING) !== 0;
      a = xm.enabled(s)[0]!;
    }
    throw new Error('no write');
  }

  const expected: Record<string, Record<string, boolean>> = {
    seed: { ept: false, pt: false }, // Xen 4.4: ept_sync_domain in ept_set_entry; p2m-pt flushes in its write
    'xen-4.5': { ept: false, pt: false },
    'xen-4.19': { ept: true, pt: false }, // EPT defers (09fc40ed30); hap_write_p2m_entry_post flushes at once
    head: { ept: true, pt: true }, // e1604ea827 defers NPT too
  };
  for (const version of VERSIONS) {
    for (const backend of BACKENDS) {
      it(`${version}/${backend}: a removed translation is ${expected[version]![backend] ? 'pending until the p2m unlock' : 'flushed by the write'}`, () => {
        expect(pendingAfterWrite(version, backend)).toBe(expected[version]![backend]);
        expect(VERSION_TABLES[version as keyof typeof VERSION_TABLES].tlbFlush[backend as 'ept' | 'pt'].at).toBe(expected[version]![backend] ? 'unlock' : 'write');
      });
    }
  }

  it('head/pt: a frame freed before the deferred NPT flush and handed out again is still translated (no-dangling-mapping)', async () => {
    const r = await cli('explore', '--xen', 'head', '--backend', 'pt', ...WINDOW, '--depth', '15', '--json');
    expect(r.status, r.stderr).toBe(12);
    const p = json(r).properties.find((x: { name: string }) => x.name === 'no-dangling-mapping');
    expect(p.depth).toBe(15);
    expect(p.message).toMatch(/TLB may still translate to frame \d+ \(flush pending\), which was freed and handed out again/);
    const ops = p.trace.steps.map((s: { action: string }) => s.action);
    expect(ops.at(-1)).toBe('populate_physmap');
    expect(ops).toContain('decrease_reservation');
  }, 120_000);

  for (const [version, backend] of [['xen-4.19', 'pt'], ['head', 'ept'], ['xen-4.19', 'ept']] as const) {
    it(`${version}/${backend}: the same window holds (${backend === 'pt' ? 'the write flushes at once' : 'the allocator\'s flush IPI makes the next VM entry run INVEPT'})`, async () => {
      const r = await cli('explore', '--xen', version, '--backend', backend, ...WINDOW, '--depth', '15', '--json');
      expect(r.status, r.stderr).toBe(0);
      expect(json(r).properties.find((x: { name: string }) => x.name === 'no-dangling-mapping').holdsToDepth).toBe(15);
    }, 120_000);
  }
});

describe('a variant may change the flush policy (tlbFlush)', () => {
  const { file } = scratchDir('checker-r5-');

  it('xen-4.19 with e1604ea827 alone (NPT deferred) has head/pt\'s window', async () => {
    const v = file('npt-deferred.ts', `export default { name: 'npt-deferred', base: 'xen-4.19', overrides: { tlbFlush: { pt: { at: 'unlock', allocatorFlushReaches: false } } } };`);
    const r = await cli('explore', '--variant', v, '--backend', 'pt', ...WINDOW, '--depth', '15', '--json');
    expect(r.status, r.stderr).toBe(12);
    expect(json(r).properties.find((x: { name: string }) => x.name === 'no-dangling-mapping').depth).toBe(15);
  }, 120_000);

  it('a malformed policy is refused with one line', async () => {
    const bad = file('bad-flush.ts', `export default { name: 'bad', base: 'xen-4.19', overrides: { tlbFlush: { npt: { at: 'later', allocatorFlushReaches: false } } } };`);
    expectUsageError(await cli('explore', '--variant', bad, '--depth', '1'), /tlbFlush: unknown backend "npt"; backends are ept, pt/);
    const worse = file('worse-flush.ts', `export default { name: 'worse', base: 'xen-4.19', overrides: { tlbFlush: { pt: { at: 'later', allocatorFlushReaches: false } } } };`);
    expectUsageError(await cli('explore', '--variant', worse, '--depth', '1'), /tlbFlush\.pt must be \{ at: 'write' \| 'unlock', allocatorFlushReaches: boolean \}/);
  }, 120_000);
});

describe('under steps every property is judged', () => {
  it('a transition property judges a call split over segments when it returns (seed/pt: the freed previous page)', async () => {
    const r = await cli('explore', '--backend', 'pt', '--granularity', 'steps', '--vcpus', '1', '--invariants', 'failed-call-has-no-effect', '--depth', '12', '--json', '--no-progress');
    expect(r.status, r.stderr).toBe(12);
    const p = json(r).properties.find((x: { name: string }) => x.name === 'failed-call-has-no-effect');
    // the atomic model finds it at depth 1: one add_to_physmap_foreign, here in its 11 segments
    expect(p.depth).toBe(11);
    expect(p.trace.steps.every((s: { action: string }) => s.action === 'add_to_physmap_foreign')).toBe(true);
    expect(p.message).toMatch(/add_to_physmap_foreign returned -EINVAL but changed .*p2m\[dom0\]\[0\] ram_rw\(mfn 0\) → empty/);
  }, 120_000);

  it('a failed call whose own temporary reference was the last one frees the frame for the others: not its own effect', async () => {
    // vcpu0's add_to_physmap_foreign holds a reference on dom2's frame 4 while vcpu1 destroys dom1 and
    // dom2; its put of that reference then frees frame 4 and completes dom2's destruction, and it fails
    const args = ['--granularity', 'steps', '--vcpus', '2', '--ops', 'decrease_reservation,add_to_physmap_foreign,remove_from_physmap,destroy', '--invariants', 'failed-call-has-no-effect'];
    const r = await cli('replay', ...args, '--path', '22,0,0,0,50,51,0,0,0');
    expect(r.stdout).toMatch(/9\. vcpu0: add_to_physmap_foreign\(t=dom1, gT=0, f=dom2, gF=0\) → -EINVAL/);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  }, 120_000);

  it('... also when that last put is in the call\'s last segment (xen-4.19: a remove_from_physmap that gets -EILSEQ)', async () => {
    // vcpu1's remove_from_physmap(dom1, 0) looked up frame 1 and holds a reference on it; vcpu0
    // decreases dom1's gfn 0 (dropping the allocation reference) and populates it again with frame 0;
    // vcpu1's removal then finds frame 0 there (-EILSEQ) and its put frees frame 1
    const args = ['--xen', 'xen-4.19', '--domains', 'dom0:pvh:hw,dom1:hvm', '--gfns', '1', '--spare-frames', '0', '--ops', 'populate_physmap,decrease_reservation,add_to_physmap_foreign,remove_from_physmap', '--granularity', 'steps', '--vcpus', '2', '--invariants', 'failed-call-has-no-effect'];
    const r = await cli('replay', ...args, '--path', '2,0,0,0,0,0,0,3,10,1,0,0,0,0,0,0,0,0,1,0,0,0,10,10,10');
    expect(r.stdout).toMatch(/25\. vcpu1: remove_from_physmap\(dom1, gfn=0\) → -EILSEQ/);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  }, 120_000);

  it('cleanup-possible is judged in the states with no hypercall in flight, and the report says so', async () => {
    const r = await cli('explore', '--granularity', 'steps', '--vcpus', '1', '--invariants', 'cleanup-possible,refcount-matches-holders', '--depth', '14', '--json', '--no-progress');
    expect(r.status, r.stderr).toBe(12);
    const j = json(r);
    const p = j.properties.find((x: { name: string }) => x.name === 'cleanup-possible');
    expect(p.judgedIn).toBe('in states with no hypercall in flight');
    // the seed's leak: dom1 destroyed while it maps dom2's frame, as refcount-matches-holders sees it
    expect(p.depth).toBe(14);
    expect(p.trace.steps.at(-1).action).toBe('destroy');
    expect(j.properties.find((x: { name: string }) => x.name === 'refcount-matches-holders').judgedIn).toBeNull();
    const t = await cli('explore', '--granularity', 'steps', '--vcpus', '1', '--invariants', 'cleanup-possible', '--depth', '13', '--no-progress');
    expect(t.stdout).toMatch(/✓ cleanup-possible\s+holds to depth 13 in states with no hypercall in flight/);
    expect(t.stdout).toMatch(/verdict: the invariant holds to depth 13; cleanup-possible judged in states with no hypercall in flight; exit 0/);
  }, 120_000);
});
