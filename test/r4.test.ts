// Model revision 4 (MODEL.md, changes marked r4): the three corrected readings of Xen's C, the
// device model's domain reference, page tables with allocation failure, superpages, build modes and
// cleanup-possible. Each correction's test fails on the revision-3 model.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { explore } from '../checker/engine/index.js';
import { wire } from '../checker/xen-model.js';
import {
  apply,
  bootState,
  EEXIST,
  EILSEQ,
  ENOENT,
  ENOMEM,
  EPERM,
  makeUniverse,
  makeXenModel,
  findMutant,
  mutantTable,
  type Action,
  type State,
  type UniverseOptions,
  type Version,
} from '../model/index.js';
import { cleanupPossible, findInvariant } from '../invariants/index.js';
import { cli, expectUsageError, json } from './cli-run.js';
import { DOM0, DOM1, DOM2, PLAIN_DOMAINS, plain } from './helpers.js';

const OPS_WITH_ALLOC_FAILURE = 'populate_physmap,decrease_reservation,add_to_physmap_foreign,remove_from_physmap,destroy,fail_next_alloc';

/** A model of the universe, and a runner of actions (by shape) through the public apply. */
function setup(o: UniverseOptions) {
  const u = makeUniverse(o);
  const m = makeXenModel(u);
  const find = (p: Partial<Action> & { op: Action['op'] }): Action => {
    const a = m.actions.find((x) => Object.entries(p).every(([k, v]) => (x as Record<string, unknown>)[k] === v));
    if (!a) throw new Error(`no action ${JSON.stringify(p)}`);
    return a;
  };
  const step = (s: State, p: Partial<Action> & { op: Action['op'] }) => apply(m.ctx, s, find(p));
  return { u, m, find, step, pc: { u, xen: m.ctx.xen } };
}

describe('correction 1: from xen-4.19 xsm_map_gmfn_foreign judges tdom, not the caller', () => {
  for (const version of ['xen-4.19', 'head'] as Version[]) {
    it(`${version}: dom1 maps dom2's page only as dom2's device model; dom0 as the control domain`, () => {
      const plainU = setup({ version, domains: PLAIN_DOMAINS });
      const s0 = plainU.m.init();
      const refused = plainU.step(s0, { op: 'add_to_physmap_foreign', t: DOM1, gT: 0, f: DOM2, gF: 0 });
      expect(refused.rc).toBe(EPERM);
      expect(refused.next).toEqual(s0);
      // dom2 is no device model of dom1's either
      expect(plainU.step(s0, { op: 'add_to_physmap_foreign', t: DOM2, gT: 0, f: DOM1, gF: 0 }).rc).toBe(EPERM);
      // the control domain maps anything but itself
      expect(plainU.step(s0, { op: 'add_to_physmap_foreign', t: DOM0, gT: 0, f: DOM2, gF: 0 }).rc).toBe(0);

      const dm = setup({ version }); // the default universe: dom1 is dom2's device model
      expect(dm.u.domains[DOM1]!.target).toBe(2);
      const ok = dm.step(dm.m.init(), { op: 'add_to_physmap_foreign', t: DOM1, gT: 0, f: DOM2, gF: 0 });
      expect(ok.rc).toBe(0);
      expect(ok.next.p2m[DOM1]![0]).toEqual({ type: 'map_foreign', mfn: 4 });
      // its target only: the device model of dom2 may not map dom0's pages (the caller) nor the reverse
      expect(dm.step(dm.m.init(), { op: 'add_to_physmap_foreign', t: DOM2, gT: 0, f: DOM1, gF: 0 }).rc).toBe(EPERM);
    });
  }

  it('seed keeps the caller-only hook: dom1 maps dom2 without being its device model', () => {
    const seed = setup({ version: 'seed', domains: PLAIN_DOMAINS });
    expect(seed.step(seed.m.init(), { op: 'add_to_physmap_foreign', t: DOM1, gT: 0, f: DOM2, gF: 0 }).rc).toBe(0);
  });

  it("head's depth-2 fault needs the device model: without it head is clean to depth 4", () => {
    const without = explore(wire(makeUniverse({ version: 'head', domains: PLAIN_DOMAINS })).model, { maxDepth: 4 });
    expect(without.violations).toEqual([]);
    const withDm = explore(wire(makeUniverse({ version: 'head' })).model, { maxDepth: 2 });
    expect(withDm.violations.map((v) => [v.name, v.depth])).toEqual([['no-hypervisor-fault', 2]]);
  });
});

describe('the device model holds a domain reference on its target (XEN_DOMCTL_set_target)', () => {
  it('the target killed first stays dead, held, until its device model is destroyed; both go in one step', () => {
    const { step, m } = setup({ version: 'xen-4.19' });
    let s = step(m.init(), { op: 'destroy', d: DOM2 }).next;
    expect(s.domains[DOM2]!.life).toBe('dead');
    expect(s.frames.filter((f) => f.owner === DOM2)).toHaveLength(0); // no frame holds it: its device model does
    s = step(s, { op: 'destroy', d: DOM1 }).next;
    expect(s.domains[DOM1]!.life).toBe('destroyed');
    expect(s.domains[DOM2]!.life).toBe('destroyed');
  });

  it('in every version, seed included', () => {
    const { step, m } = setup({ version: 'seed' });
    const s = step(m.init(), { op: 'destroy', d: DOM2 }).next;
    expect(s.domains[DOM2]!.life).toBe('dead');
  });
});

describe('correction 2: an insert into a dying domain fails only when it must allocate a table page', () => {
  const preemptible = () => setup({ version: 'xen-4.19', preemptibleTeardown: true });

  it('xen-4.19: after the walk and before the root clear, the insert succeeds; after the root clear, -ENOMEM and nothing changes', () => {
    const { m, step } = preemptible();
    let s = step(m.init(), { op: 'add_to_physmap_foreign', t: DOM1, gT: 0, f: DOM2, gF: 0 }).next;
    s = step(s, { op: 'kill_begin', d: DOM1 }).next;
    s = step(s, { op: 'relinquish_step', d: DOM1 }).next; // the walk removes the foreign entry
    expect(s.domains[DOM1]!.relinquish).toEqual({ phase: 'paging', cursor: 0 });
    const insert = step(s, { op: 'add_to_physmap_foreign', t: DOM1, gT: 0, f: DOM2, gF: 0 });
    expect(insert.rc).toBe(0);
    expect(insert.next.p2m[DOM1]![0]).toEqual({ type: 'map_foreign', mfn: 4 });
    const cleared = step(insert.next, { op: 'relinquish_step', d: DOM1 }).next; // the root clear
    expect(cleared.domains[DOM1]!.tables).toBe(false);
    expect(cleared.p2m[DOM1]![0]).toBeNull();
    expect(cleared.frames[4]!.count).toBe(2); // dropped without a put
    const after = step(cleared, { op: 'add_to_physmap_foreign', t: DOM1, gT: 0, f: DOM2, gF: 0 });
    expect(after.rc).toBe(ENOMEM);
    expect(after.next).toEqual(cleared);
  });

  it('xen-4.19 debug: an insert behind a preempted walk trips the ASSERT at its end; release goes on', () => {
    for (const build of ['debug', 'release'] as const) {
      const { m, step } = setup({ version: 'xen-4.19', preemptibleTeardown: true, build });
      let s = m.init();
      s = step(s, { op: 'add_to_physmap_foreign', t: DOM1, gT: 0, f: DOM2, gF: 0 }).next;
      s = step(s, { op: 'add_to_physmap_foreign', t: DOM1, gT: 1, f: DOM2, gF: 1 }).next;
      s = step(s, { op: 'kill_begin', d: DOM1 }).next;
      s = step(s, { op: 'relinquish_step', d: DOM1 }).next; // gfn 0 removed, preempted at gfn 1
      expect(s.domains[DOM1]!.relinquish).toEqual({ phase: 'mappings', cursor: 1 });
      s = step(s, { op: 'add_to_physmap_foreign', t: DOM1, gT: 0, f: DOM2, gF: 0 }).next; // behind the cursor
      const end = step(s, { op: 'relinquish_step', d: DOM1 });
      if (build === 'debug') {
        expect(end.rc).toBeNull();
        expect(end.next.fault).toEqual({ kind: 'assert-relinquish-foreign-left', frame: 4 });
      } else {
        expect(end.rc).toBe(0);
        expect(end.next.fault).toBeNull();
        expect(end.next.p2m[DOM1]![0]).toEqual({ type: 'map_foreign', mfn: 4 }); // left for the root clear
      }
    }
  });

  it('seed and xen-4.5: tables live until the final destroy, the pool is emptied when relinquish starts', () => {
    const { m, step } = setup({ version: 'seed', preemptibleTeardown: true });
    let s = step(m.init(), { op: 'kill_begin', d: DOM1 }).next;
    expect(s.domains[DOM1]!.pool).toBe(true);
    s = step(s, { op: 'relinquish_step', d: DOM1 }).next;
    expect(s.domains[DOM1]).toMatchObject({ pool: false, tables: true });
  });
});

describe('correction 3: get_page_from_gfn on a foreign entry mapping the querying domain\'s own frame', () => {
  /** dom1's gfn 1 maps its own frame 2 as foreign, with the mapping's reference (what a refcount bug leaves). */
  function selfMapped(version: Version, build: 'debug' | 'release') {
    const x = setup({ version, build });
    const s = plain(bootState(x.u));
    s.p2m[DOM1]![1] = { type: 'map_foreign', mfn: 2 };
    s.frames[2]!.count += 1;
    s.frames[3] = { owner: null, count: 0, allocated: false, m2p: null };
    return { ...x, s };
  }

  for (const version of ['xen-4.5', 'xen-4.19'] as Version[]) {
    it(`${version}: ASSERT(fdom != d) faults in debug; release returns the page with the reference held`, () => {
      const d = selfMapped(version, 'debug');
      const faulted = d.step(d.s, { op: 'remove_from_physmap', d: DOM1, g: 1 });
      expect(faulted.rc).toBeNull();
      expect(faulted.next.fault).toEqual({ kind: 'assert-get-page-from-gfn-self', frame: 2 });
      const r = selfMapped(version, 'release');
      const removed = r.step(r.s, { op: 'remove_from_physmap', d: DOM1, g: 1 });
      expect(removed.rc).toBe(0);
      expect(removed.next.p2m[DOM1]![1]).toBeNull(); // the page came back: the entry was removed
    });
  }

  it('head (a8325f981c): ASSERT_UNREACHABLE in debug; release puts the reference and returns NULL', () => {
    const d = selfMapped('head', 'debug');
    expect(d.step(d.s, { op: 'remove_from_physmap', d: DOM1, g: 1 }).next.fault).toEqual({ kind: 'assert-get-page-from-mfn-and-type-self', frame: 2 });
    const r = selfMapped('head', 'release');
    const refused = r.step(r.s, { op: 'remove_from_physmap', d: DOM1, g: 1 });
    expect(refused.rc).toBe(ENOENT);
    expect(refused.next).toEqual(r.s); // the reference taken is put again
  });
});

describe('superpages, table allocation and fail_next_alloc (MODEL.md §3.8)', () => {
  const sp = (version: Version) => setup({ version, superpages: true, ops: OPS_WITH_ALLOC_FAILURE });

  it('boots every aligned gfn pair as one superpage; a change to one half splits it', () => {
    const { m, step } = sp('xen-4.19');
    const s0 = m.init();
    expect(s0.p2m[DOM1]).toEqual([{ type: 'ram_rw', mfn: 2, order: 1 }, { type: 'ram_rw', mfn: 3, order: 1 }]);
    const r = step(s0, { op: 'decrease_reservation', d: DOM1, g: 0 });
    expect(r.rc).toBe(0);
    expect(r.next.p2m[DOM1]).toEqual([null, { type: 'ram_rw', mfn: 3 }]);
  });

  it('fail_next_alloc arms one failure; a second arm is refused', () => {
    const { m, step } = sp('seed');
    const armed = step(m.init(), { op: 'fail_next_alloc' });
    expect(armed.rc).toBe(0);
    expect(armed.next.armedFailures).toBe(1);
    const again = step(armed.next, { op: 'fail_next_alloc' });
    expect(again.rc).toBe(EEXIST);
    expect(again.next).toEqual(armed.next);
  });

  for (const version of ['seed', 'xen-4.5'] as Version[]) {
    it(`${version}: XSA-222, a failed split is ignored and the frame freed while the superpage maps it`, () => {
      const { m, step, pc } = sp(version);
      const armed = step(m.init(), { op: 'fail_next_alloc' }).next;
      const r = step(armed, { op: 'decrease_reservation', d: DOM1, g: 0 });
      expect(r.rc).toBe(0);
      expect(r.next.frames[2]!.owner).toBeNull();
      expect(r.next.p2m[DOM1]![0]).toEqual({ type: 'ram_rw', mfn: 2, order: 1 });
      expect(findInvariant('no-dangling-mapping')!.check!(r.next, pc)).toMatch(/maps frame 2, which is free/);
    });
  }

  it('xen-4.19: the removal fails with -ENOMEM and nothing changes but the consumed failure (M2P put back)', () => {
    const { m, step, pc } = sp('xen-4.19');
    const armed = step(m.init(), { op: 'fail_next_alloc' }).next;
    const r = step(armed, { op: 'decrease_reservation', d: DOM1, g: 0 });
    expect(r.rc).toBe(ENOMEM);
    expect(r.next).toEqual({ ...armed, armedFailures: 0 });
    expect(findInvariant('failed-call-has-no-effect')!.checkTransition!(armed, { op: 'decrease_reservation', d: DOM1, g: 0 }, r.rc, r.next, pc)).toBeNull();
  });
});

describe('build modes: head destroys a device model mapping its target', () => {
  it('debug: ASSERT_UNREACHABLE in p2m_entry_modify; release: -EILSEQ, dying, and the toolstack can still clean up', () => {
    const debug = setup({ version: 'head' });
    const mapped = debug.step(debug.m.init(), { op: 'add_to_physmap_foreign', t: DOM1, gT: 0, f: DOM2, gF: 0 }).next;
    expect(debug.step(mapped, { op: 'destroy', d: DOM1 }).next.fault).toEqual({ kind: 'assert-entry-modify-extra-ref', frame: 4 });

    const rel = setup({ version: 'head', build: 'release' });
    const failed = rel.step(mapped, { op: 'destroy', d: DOM1 });
    expect(failed.rc).toBe(EILSEQ);
    expect(failed.next.domains[DOM1]).toMatchObject({ life: 'dying', relinquish: { phase: 'mappings', cursor: 0 } });
    expect(failed.next.p2m[DOM1]![0]).toEqual({ type: 'map_foreign', mfn: 4 });
    // remove_from_physmap has no is_dying check and holds a temporary reference: the check passes
    const removed = rel.step(failed.next, { op: 'remove_from_physmap', d: DOM1, g: 0 });
    expect(removed.rc).toBe(0);
    const retried = rel.step(removed.next, { op: 'destroy', d: DOM1 });
    expect(retried.rc).toBe(0);
    expect(retried.next.domains[DOM1]!.life).toBe('destroyed');
    expect(cleanupPossible(failed.next, rel.pc)).toBe(true);
  });
});

describe('cleanup-possible (MODEL.md §7)', () => {
  it('seed at depth 2: the leaked reference keeps dom2 a zombie whatever the toolstack does, and the message says what is held', () => {
    const { m, step, pc } = setup({ version: 'seed' });
    let s = step(m.init(), { op: 'add_to_physmap_foreign', t: DOM1, gT: 0, f: DOM2, gF: 0 }).next;
    expect(cleanupPossible(s, pc)).toBe(true);
    s = step(s, { op: 'destroy', d: DOM1 }).next;
    expect(cleanupPossible(s, pc)).toBe(false);
    const msg = findInvariant('cleanup-possible')!.check!(s, pc);
    expect(msg).toMatch(/dom2 stays dead: it owns frame 4/);
    expect(msg).toMatch(/frame 4 \(owner dom2\) count 1, allocated 0 \+ foreign \[none\]: 1 reference\(s\) held by nothing/);
  });

  it('xen-4.19 is clean to depth 5 on the default universe, as atomic destroy', () => {
    const r = explore(wire(makeUniverse({ version: 'xen-4.19' })).model, { maxDepth: 5 });
    expect(r.violations).toEqual([]);
  });

  it('two domains that are each other\'s device model are never freed, in any version (their domain references)', () => {
    const { m, pc } = setup({ version: 'xen-4.19', domains: 'dom0:pvh:hw,dom1:pvh:dm=dom2,dom2:hvm:dm=dom1' });
    expect(cleanupPossible(m.init(), pc)).toBe(false);
  });

  it('is judged by search: when the canonical order faults, another order is found', () => {
    // remove-foreign-without-temporary-reference: remove_from_physmap of dom1's foreign entry faults
    // (ac607edc2e's check), the canonical cleanup's first step; destroying dom1 first works
    const u = makeUniverse({ version: 'head' });
    const xen = mutantTable(findMutant('remove-foreign-without-temporary-reference')!);
    const m = makeXenModel(u, xen);
    const pc = { u, xen };
    const add = m.actions.find((a) => a.op === 'add_to_physmap_foreign' && a.t === DOM1 && a.f === DOM2)!;
    const s = apply(m.ctx, m.init(), add).next;
    const remove = m.actions.find((a) => a.op === 'remove_from_physmap' && a.d === DOM1 && a.g === (add as { gT: number }).gT)!;
    expect(apply(m.ctx, s, remove).next.fault).not.toBeNull();
    expect(cleanupPossible(s, pc)).toBe(true);
  });
});

describe('bad universes are one line, exit 2', () => {
  it.each([
    [['--domains', 'dom0:pvh:hw,dom1:pvh:dm=dom5,dom2:hvm'], /there is no dom5/],
    [['--domains', 'dom0:pvh:hw,dom1:pvh:dm=dom1,dom2:hvm'], /its own device model/],
    [['--domains', 'dom0:pvh:hw,dom1:pvh:dm=dom0,dom2:hvm'], /hardware domain cannot be a device model's target/],
    [['--domains', 'dom0:pvh:hw,dom1:pvh:dm=,dom2:hvm'], /should name a domain/],
    [['--superpages', '--gfns', '3'], /--gfns must be even/],
    [['--build', 'fast'], /unknown build "fast"/],
  ])('explore %j', async (args, pattern) => {
    expectUsageError(await cli('explore', ...(args as string[]), '--depth', '1'), pattern as RegExp);
  });
});

describe('reports say when a configuration never existed', () => {
  it('seed/pt: the text report, the JSON configuration and the ITF #meta', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'checker-r4-'));
    try {
      const r = await cli('explore', '--backend', 'pt', '--depth', '1', '--json', '--trace-out', dir);
      const j = json(r);
      expect(j.configuration.hypothetical).toMatch(/hypothetical configuration: seed on pt never existed/);
      expect(j.notes.join('\n')).toMatch(/hypothetical configuration/);
      const itf = JSON.parse(readFileSync(join(dir, 'failed-call-has-no-effect.itf.json'), 'utf8'));
      expect(itf['#meta'].configuration.hypothetical).toMatch(/never existed/);
      const text = await cli('explore', '--backend', 'pt', '--depth', '1');
      expect(text.stdout).toMatch(/^note: hypothetical configuration: seed on pt never existed/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const ept = json(await cli('explore', '--depth', '1', '--json'));
    expect(ept.configuration.hypothetical).toBeNull();
  });
});
