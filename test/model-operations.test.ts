// The operations of MODEL.md §3, case by case as the C takes them: success, every error path and its
// return code, on both backends and both modelled versions. Default universe: dom0:pvh:hw, dom1:pvh,
// dom2:hvm; 2 gfns each; frames 0,1 = dom0, 2,3 = dom1, 4,5 = dom2, 6 = spare (free).
import { describe, expect, it, vi } from 'vitest';
import {
  diffStates,
  EEXIST,
  EINVAL,
  ENOENT,
  ENOMEM,
  EPERM,
  ESRCH,
  bootState,
  type State,
  type Version,
} from '../model/index.js';
import {
  CONFIGS,
  DOM0,
  DOM1,
  DOM2,
  FREE,
  SPARE,
  act,
  foreign,
  foreignEntries,
  frame,
  modelFor,
  owned,
  plain,
  ram,
  run,
  runFromBoot,
  universe,
} from './helpers.js';

/** The domain that maps foreign pages in the per-version scenarios: any PVH domain in the seed, dom0 from 4.5. */
function mapperOf(version: Version): number {
  return version === 'seed' ? DOM1 : DOM0;
}
/** The mapper's own frame at its gfn 0 (freed when the mapping replaces it). */
function mapperFrameAtG0(version: Version): number {
  return version === 'seed' ? 2 : 0;
}

function expectNoChange(pre: State, post: State): void {
  expect(post).toEqual(pre);
  expect(diffStates(universe(), pre, post)).toEqual([]);
}

describe('the booted initial state', () => {
  it('has every domain alive, frames assigned in order with ram_rw entries and the spare frame free', () => {
    const s = bootState(universe());
    expect(s.frames).toEqual([
      frame(0, 1, true, 0),
      frame(0, 1, true, 1),
      frame(1, 1, true, 0),
      frame(1, 1, true, 1),
      frame(2, 1, true, 0),
      frame(2, 1, true, 1),
      FREE,
    ]);
    expect(s.p2m).toEqual([
      [ram(0), ram(1)],
      [ram(2), ram(3)],
      [ram(4), ram(5)],
    ]);
    expect(s.domains.map((d) => d.life)).toEqual(['alive', 'alive', 'alive']);
    expect(s.fault).toBeNull();
  });
});

describe.each(CONFIGS)('populate_physmap on $version/$backend', (c) => {
  const u = universe(c);
  const boot = modelFor(u).init();

  it('fills an entry emptied by remove_from_physmap with the lowest free frame (the spare frame 6)', () => {
    const r = runFromBoot(u, [act.remove(DOM1, 0), act.populate(DOM1, 0)]);
    expect(r.rcs).toEqual([0, 0]);
    expect(r.final.frames[SPARE]).toEqual(frame(DOM1, 1, true, 0));
    expect(r.final.p2m[DOM1]![0]).toEqual(ram(SPARE));
    // the unmapped frame 2 is still dom1's, allocated, without m2p: not free, so not reused
    expect(r.final.frames[2]).toEqual(frame(DOM1, 1, true, null));
  });

  it('takes the lowest-numbered free frame, not the spare one, when a lower frame was freed', () => {
    const r = runFromBoot(u, [act.decrease(DOM1, 0), act.populate(DOM1, 0)]);
    expect(r.rcs).toEqual([0, 0]);
    expect(r.final.frames[2]).toEqual(frame(DOM1, 1, true, 0));
    expect(r.final.p2m[DOM1]![0]).toEqual(ram(2));
    expect(r.final.frames[SPARE]).toEqual(FREE);
  });

  it('answers -EEXIST on a present entry and changes nothing', () => {
    const r = run(u, boot, [act.populate(DOM1, 0)]);
    expect(r.rcs).toEqual([EEXIST]);
    expectNoChange(boot, r.final);
  });

  it('answers -ENOMEM when no frame is free and changes nothing', () => {
    const r = runFromBoot(u, [act.remove(DOM1, 0), act.populate(DOM1, 0), act.remove(DOM1, 1), act.populate(DOM1, 1)]);
    expect(r.rcs).toEqual([0, 0, 0, ENOMEM]);
    expect(r.beforeLast.frames.every((f) => f.owner !== null)).toBe(true);
    expectNoChange(r.beforeLast, r.final);
  });

  it('answers -ESRCH on a destroyed domain and changes nothing', () => {
    const r = runFromBoot(u, [act.destroy(DOM1), act.populate(DOM1, 0)]);
    expect(r.rcs).toEqual([0, ESRCH]);
    expect(r.beforeLast.domains[DOM1]!.life).toBe('destroyed');
    expectNoChange(r.beforeLast, r.final);
  });

  it('answers -EINVAL on a dead domain (hand-built zombie: assign_pages refuses it) even with an empty entry and free frames', () => {
    // dom2 dead, owning frame 4 (count 1, unallocated), its gfn 1 empty, frames 5 and 6 free
    const s = plain(boot);
    s.domains[DOM2]!.life = 'dead';
    s.frames[4] = frame(DOM2, 1, false, 0);
    s.frames[5] = { ...FREE };
    s.p2m[DOM2]![1] = null;
    const r = run(u, s, [act.populate(DOM2, 1)]);
    expect(r.rcs).toEqual([EINVAL]);
    expectNoChange(s, r.final);
  });
});

describe.each(CONFIGS.filter((c) => c.backend === 'ept'))('populate_physmap on a reachable zombie ($version/ept)', (c) => {
  const u = universe(c);
  const T = mapperOf(c.version);

  it('answers -EINVAL on a dead domain whose gfn is empty while free frames exist', () => {
    // dom2 unhooks its gfn 1, T maps dom2's gfn 0, dom2 is destroyed: dom2 is a zombie with gfn 1 empty
    const r = runFromBoot(u, [act.remove(DOM2, 1), act.mapForeign(T, 0, DOM2, 0), act.destroy(DOM2), act.populate(DOM2, 1)]);
    expect(r.rcs).toEqual([0, 0, 0, EINVAL]);
    expect(r.beforeLast.domains[DOM2]!.life).toBe('dead');
    expect(r.beforeLast.p2m[DOM2]![1]).toBeNull();
    expect(r.beforeLast.frames.some((f) => f.owner === null)).toBe(true);
    expectNoChange(r.beforeLast, r.final);
  });
});

describe.each(CONFIGS)('decrease_reservation on $version/$backend', (c) => {
  const u = universe(c);
  const boot = modelFor(u).init();

  it("frees the domain's own page: count 0, owner null, entry empty, m2p none", () => {
    const r = run(u, boot, [act.decrease(DOM1, 0)]);
    expect(r.rcs).toEqual([0]);
    expect(r.final.frames[2]).toEqual(FREE);
    expect(r.final.p2m[DOM1]).toEqual([null, ram(3)]);
    // nothing else moved
    expect(diffStates(u, boot, r.final).map((ch) => ch.cell).sort()).toEqual(
      ['frames[2].allocated', 'frames[2].count', 'frames[2].m2p', 'frames[2].owner', 'p2m[dom1][0]'].sort(),
    );
  });

  it('answers -ENOENT on an empty entry and changes nothing', () => {
    const r = runFromBoot(u, [act.remove(DOM1, 0), act.decrease(DOM1, 0)]);
    expect(r.rcs).toEqual([0, ENOENT]);
    expectNoChange(r.beforeLast, r.final);
  });

  it('answers -ESRCH on a destroyed domain and changes nothing', () => {
    const r = runFromBoot(u, [act.destroy(DOM2), act.decrease(DOM2, 0)]);
    expect(r.rcs).toEqual([0, ESRCH]);
    expectNoChange(r.beforeLast, r.final);
  });

  it('answers -ENOENT for an own page already unhooked by remove_from_physmap; the frame stays allocated', () => {
    const r = runFromBoot(u, [act.remove(DOM2, 1), act.decrease(DOM2, 1)]);
    expect(r.rcs).toEqual([0, ENOENT]);
    expect(r.final.frames[5]).toEqual(frame(DOM2, 1, true, null));
  });
});

describe.each(CONFIGS.filter((c) => c.backend === 'ept'))('decrease_reservation with foreign mappings ($version/ept)', (c) => {
  const u = universe(c);
  const T = mapperOf(c.version);

  it('fails on a foreign entry (get_page(page, d) refuses a frame of another owner) and changes nothing', () => {
    const r = runFromBoot(u, [act.mapForeign(T, 0, DOM2, 0), act.decrease(T, 0)]);
    expect(r.rcs[0]).toBe(0);
    expect(r.rcs[1]).toBe(EINVAL);
    expect(r.beforeLast.p2m[T]![0]).toEqual(foreign(4));
    expectNoChange(r.beforeLast, r.final);
  });

  it('of a page another domain maps foreign leaves it alive: owner kept, unallocated, count 1 = the mapping reference', () => {
    const r = runFromBoot(u, [act.mapForeign(T, 0, DOM2, 0), act.decrease(DOM2, 0)]);
    expect(r.rcs).toEqual([0, 0]);
    expect(r.final.frames[4]).toEqual(frame(DOM2, 1, false, null));
    expect(r.final.p2m[DOM2]![0]).toBeNull();
    expect(r.final.p2m[T]![0]).toEqual(foreign(4));
    expect(r.final.domains[DOM2]!.life).toBe('alive');
  });

  it("acts on a zombie's stale entry (no is_dying check): the entry goes, the frame lives on through the mapping", () => {
    const r = runFromBoot(u, [act.mapForeign(T, 0, DOM2, 0), act.destroy(DOM2), act.decrease(DOM2, 0)]);
    expect(r.rcs).toEqual([0, 0, 0]);
    expect(r.beforeLast.p2m[DOM2]).toEqual([ram(4), ram(5)]); // stale: frame 5 is already free
    expect(r.final.p2m[DOM2]).toEqual([null, ram(5)]);
    expect(r.final.frames[4]).toEqual(frame(DOM2, 1, false, null));
    expect(r.final.domains[DOM2]!.life).toBe('dead');
  });

  it("fails on a zombie's stale entry whose frame is already free, and changes nothing", () => {
    const r = runFromBoot(u, [act.mapForeign(T, 0, DOM2, 0), act.destroy(DOM2), act.decrease(DOM2, 1)]);
    expect(r.rcs).toEqual([0, 0, EINVAL]);
    expect(r.beforeLast.frames[5]).toEqual(FREE);
    expectNoChange(r.beforeLast, r.final);
  });
});

describe('add_to_physmap_foreign: early refusals, every modelled version and backend', () => {
  describe.each(CONFIGS)('$version/$backend', (c) => {
    const u = universe(c);
    const boot = modelFor(u).init();
    const T = mapperOf(c.version);

    it('answers -EINVAL when t == f (a domain cannot map its own page) and changes nothing', () => {
      const r = run(u, boot, [act.mapForeign(DOM1, 0, DOM1, 1)]);
      // xen-4.5 checks the hardware domain first: dom1 is refused with -EPERM before t == f
      expect(r.rcs).toEqual([c.version === 'seed' ? EINVAL : EPERM]);
      expectNoChange(boot, r.final);
      const r0 = run(u, boot, [act.mapForeign(DOM0, 0, DOM0, 1)]);
      // seed: get_pg_owner refuses the caller itself (-ESRCH); xen-4.5: tdom == fdom (-EINVAL)
      expect(r0.rcs).toEqual([c.version === 'seed' ? ESRCH : EINVAL]);
      expectNoChange(boot, r0.final);
    });

    it('answers -EINVAL when t is HVM (dom2) and changes nothing', () => {
      const r = run(u, boot, [act.mapForeign(DOM2, 0, DOM1, 0)]);
      expect(r.rcs).toEqual([EINVAL]);
      expectNoChange(boot, r.final);
    });

    it('answers -ESRCH when f or t is destroyed and changes nothing', () => {
      const rf = runFromBoot(u, [act.destroy(DOM2), act.mapForeign(T, 0, DOM2, 0)]);
      expect(rf.rcs).toEqual([0, ESRCH]);
      expectNoChange(rf.beforeLast, rf.final);
      const rt = runFromBoot(u, [act.destroy(DOM1), act.mapForeign(DOM1, 0, DOM2, 0)]);
      expect(rt.rcs).toEqual([0, ESRCH]);
      expectNoChange(rt.beforeLast, rt.final);
    });

    it('answers -EINVAL on an empty source gfn and changes nothing', () => {
      const r = runFromBoot(u, [act.decrease(DOM2, 0), act.mapForeign(T, 0, DOM2, 0)]);
      expect(r.rcs).toEqual([0, EINVAL]);
      expectNoChange(r.beforeLast, r.final);
    });
  });
});

describe('add_to_physmap_foreign, seed on ept', () => {
  const u = universe({ version: 'seed', backend: 'ept' });
  const boot = modelFor(u).init();

  it("dom1 maps dom2's gfn 0 at its gfn 0: dom1's old frame 2 is freed, entry map_foreign(4), frame 4 count 2, m2p unchanged", () => {
    const r = run(u, boot, [act.mapForeign(DOM1, 0, DOM2, 0)]);
    expect(r.rcs).toEqual([0]);
    expect(r.final.frames[2]).toEqual(FREE);
    expect(r.final.p2m[DOM1]).toEqual([foreign(4), ram(3)]);
    expect(r.final.frames[4]).toEqual(frame(DOM2, 2, true, 0));
    expect(r.final.p2m[DOM2]).toEqual(boot.p2m[DOM2]);
    // exactly those cells changed
    expect(diffStates(u, boot, r.final).map((ch) => ch.cell).sort()).toEqual(
      ['frames[2].allocated', 'frames[2].count', 'frames[2].m2p', 'frames[2].owner', 'frames[4].count', 'p2m[dom1][0]'].sort(),
    );
  });

  it('answers -ESRCH when f is dom0 (get_pg_owner refuses the caller itself) and changes nothing', () => {
    const r = run(u, boot, [act.mapForeign(DOM1, 0, DOM0, 0)]);
    expect(r.rcs).toEqual([ESRCH]);
    expectNoChange(boot, r.final);
  });

  it('lets dom0 be the target (no hardware-domain restriction in the seed)', () => {
    const r = run(u, boot, [act.mapForeign(DOM0, 1, DOM2, 1)]);
    expect(r.rcs).toEqual([0]);
    expect(r.final.p2m[DOM0]![1]).toEqual(foreign(5));
    expect(r.final.frames[1]).toEqual(FREE);
    expect(r.final.frames[5]).toEqual(frame(DOM2, 2, true, 1));
  });

  it('answers -EINVAL on a foreign source entry (4.4 get_page_from_gfn returns NULL for it) and changes nothing', () => {
    const r = runFromBoot(u, [act.mapForeign(DOM1, 0, DOM2, 0), act.mapForeign(DOM0, 0, DOM1, 0)]);
    expect(r.rcs).toEqual([0, EINVAL]);
    expectNoChange(r.beforeLast, r.final);
  });

  it("accepts a zombie's stale RAM entry as the source while the frame is still the zombie's", () => {
    const r = runFromBoot(u, [act.mapForeign(DOM0, 0, DOM2, 0), act.destroy(DOM2), act.mapForeign(DOM1, 0, DOM2, 0)]);
    expect(r.rcs).toEqual([0, 0, 0]);
    expect(r.beforeLast.domains[DOM2]!.life).toBe('dead');
    expect(r.final.frames[4]).toEqual(frame(DOM2, 2, false, 0)); // two mapping references
    expect(foreignEntries(r.final)).toEqual([
      [DOM0, 0, 4],
      [DOM1, 0, 4],
    ]);
  });

  it("refuses a zombie's stale source entry whose frame is free (-EINVAL, nothing changes)", () => {
    const r = runFromBoot(u, [act.mapForeign(DOM0, 0, DOM2, 0), act.destroy(DOM2), act.mapForeign(DOM1, 0, DOM2, 1)]);
    expect(r.rcs).toEqual([0, 0, EINVAL]);
    expectNoChange(r.beforeLast, r.final);
  });

  it('remapping the same page at the same gfn: the EPT write gets then puts, no net change anywhere', () => {
    const r = runFromBoot(u, [act.mapForeign(DOM1, 0, DOM2, 0), act.mapForeign(DOM1, 0, DOM2, 0)]);
    expect(r.rcs).toEqual([0, 0]);
    expect(r.final.frames[4]!.count).toBe(2);
    expectNoChange(r.beforeLast, r.final);
  });

  it('remapping over an old foreign entry puts the old frame (-1) and references the new one (+1)', () => {
    const r = runFromBoot(u, [act.mapForeign(DOM1, 0, DOM2, 0), act.mapForeign(DOM1, 0, DOM2, 1)]);
    expect(r.rcs).toEqual([0, 0]);
    expect(r.beforeLast.frames[4]!.count).toBe(2);
    expect(r.final.frames[4]).toEqual(frame(DOM2, 1, true, 0)); // the mapping reference is gone
    expect(r.final.frames[5]).toEqual(frame(DOM2, 2, true, 1)); // allocation + the new mapping
    expect(r.final.p2m[DOM1]![0]).toEqual(foreign(5));
  });

  it("over an own page that a third domain maps: the page loses its allocation and m2p, the third domain's reference keeps it", () => {
    // dom0 maps dom1's frame 3; then dom1 maps dom2's frame 4 over its gfn 1 (frame 3)
    const r = runFromBoot(u, [act.mapForeign(DOM0, 0, DOM1, 1), act.mapForeign(DOM1, 1, DOM2, 0)]);
    expect(r.rcs).toEqual([0, 0]);
    expect(r.final.frames[3]).toEqual(frame(DOM1, 1, false, null));
    expect(r.final.p2m[DOM1]).toEqual([ram(2), foreign(4)]);
    expect(r.final.p2m[DOM0]![0]).toEqual(foreign(3));
  });
});

describe('add_to_physmap_foreign, seed on pt (the backend refuses foreign entries)', () => {
  const u = universe({ version: 'seed', backend: 'pt' });
  const boot = modelFor(u).init();

  it("answers -EINVAL, yet t's old page at gT was already freed (the seed's failed call has an effect)", () => {
    const r = run(u, boot, [act.mapForeign(DOM1, 0, DOM2, 0)]);
    expect(r.rcs).toEqual([EINVAL]);
    expect(r.final.frames[2]).toEqual(FREE);
    expect(r.final.p2m[DOM1]).toEqual([null, ram(3)]);
    // the temporary reference on the source was given back, and no foreign entry exists
    expect(r.final.frames[4]).toEqual(frame(DOM2, 1, true, 0));
    expect(foreignEntries(r.final)).toEqual([]);
  });

  it('with t = dom0: dom0 loses its page at gT, the same way', () => {
    const r = run(u, boot, [act.mapForeign(DOM0, 0, DOM1, 0)]);
    expect(r.rcs).toEqual([EINVAL]);
    expect(r.final.frames[0]).toEqual(FREE);
    expect(r.final.p2m[DOM0]![0]).toBeNull();
    expect(r.final.frames[2]).toEqual(frame(DOM1, 1, true, 0));
  });

  it('over an empty gT the refused write has no effect at all', () => {
    const r = runFromBoot(u, [act.remove(DOM1, 0), act.mapForeign(DOM1, 0, DOM2, 0)]);
    expect(r.rcs).toEqual([0, EINVAL]);
    expectNoChange(r.beforeLast, r.final);
  });
});

describe.each(['ept', 'pt'] as const)('add_to_physmap_foreign, xen-4.5 on %s', (backend) => {
  const u = universe({ version: 'xen-4.5', backend });
  const boot = modelFor(u).init();

  it('answers -EPERM when t is not the hardware domain and changes nothing', () => {
    const r = run(u, boot, [act.mapForeign(DOM1, 0, DOM2, 0)]);
    expect(r.rcs).toEqual([EPERM]);
    expectNoChange(boot, r.final);
  });

  it('answers -EINVAL when t is HVM before looking at the hardware domain', () => {
    const r = run(u, boot, [act.mapForeign(DOM2, 0, DOM1, 0)]);
    expect(r.rcs).toEqual([EINVAL]);
    expectNoChange(boot, r.final);
  });

  if (backend === 'pt') {
    it("answers -EINVAL from p2m_pt_set_entry after dom0's old page at gT was freed", () => {
      const r = run(u, boot, [act.mapForeign(DOM0, 0, DOM1, 0)]);
      expect(r.rcs).toEqual([EINVAL]);
      expect(r.final.frames[0]).toEqual(FREE);
      expect(r.final.p2m[DOM0]![0]).toBeNull();
      expect(r.final.frames[2]).toEqual(frame(DOM1, 1, true, 0));
      expect(foreignEntries(r.final)).toEqual([]);
    });
    return;
  }

  it("dom0 maps dom1's page: dom0's frame 0 is freed, entry map_foreign(2), frame 2 count 2, m2p unchanged", () => {
    const r = run(u, boot, [act.mapForeign(DOM0, 0, DOM1, 0)]);
    expect(r.rcs).toEqual([0]);
    expect(r.final.frames[0]).toEqual(FREE);
    expect(r.final.p2m[DOM0]).toEqual([foreign(2), ram(1)]);
    expect(r.final.frames[2]).toEqual(frame(DOM1, 2, true, 0));
    expect(r.final.fault).toBeNull();
  });

  it("mapping the same page twice at one gfn crashes the hardware domain, the temporary reference still counted", () => {
    const m = modelFor(u);
    const r = run(u, boot, [act.mapForeign(DOM0, 0, DOM1, 0), act.mapForeign(DOM0, 0, DOM1, 0)]);
    expect(r.rcs).toEqual([0, null]);
    expect(r.final.fault).toEqual({ kind: 'hardware-domain-crashed', frame: null });
    // allocation + mapping + the temporary reference of get_page_from_gfn, never put
    expect(r.final.frames[2]).toEqual(frame(DOM1, 3, true, 0));
    expect(r.final.p2m[DOM0]![0]).toEqual(foreign(2));
    // a faulted state has no successors
    expect(() => m.apply(r.final, act.destroy(DOM1))).toThrow(/no successors/);
    expect(() => m.applyFast(r.final, act.destroy(DOM1))).toThrow(/no successors/);
  });

  it('mapping a different page over an old foreign entry crashes the hardware domain too', () => {
    const r = run(u, boot, [act.mapForeign(DOM0, 0, DOM1, 0), act.mapForeign(DOM0, 0, DOM2, 1)]);
    expect(r.rcs).toEqual([0, null]);
    expect(r.final.fault?.kind).toBe('hardware-domain-crashed');
    expect(r.final.frames[5]).toEqual(frame(DOM2, 2, true, 1)); // the temporary reference
    expect(r.final.frames[2]).toEqual(frame(DOM1, 2, true, 0)); // the old mapping, untouched
  });

  it("accepts a zombie's stale RAM entry as the source (the lookup finds dead domains)", () => {
    const r = run(u, boot, [act.mapForeign(DOM0, 0, DOM2, 0), act.destroy(DOM2), act.mapForeign(DOM0, 1, DOM2, 0)]);
    expect(r.rcs).toEqual([0, 0, 0]);
    expect(r.final.frames[4]).toEqual(frame(DOM2, 2, false, 0));
    expect(r.final.p2m[DOM0]).toEqual([foreign(4), foreign(4)]);
    expect(r.final.frames[1]).toEqual(FREE);
  });
});

describe.each(CONFIGS)('remove_from_physmap on $version/$backend', (c) => {
  const u = universe(c);
  const boot = modelFor(u).init();

  it('unhooks own RAM: entry empty, m2p none, frame still allocated with count 1 (legitimate)', () => {
    const r = run(u, boot, [act.remove(DOM1, 0)]);
    expect(r.rcs).toEqual([0]);
    expect(r.final.p2m[DOM1]).toEqual([null, ram(3)]);
    expect(r.final.frames[2]).toEqual(frame(DOM1, 1, true, null));
  });

  it('answers -ENOENT on an empty entry and changes nothing', () => {
    const r = runFromBoot(u, [act.remove(DOM1, 0), act.remove(DOM1, 0)]);
    expect(r.rcs).toEqual([0, ENOENT]);
    expectNoChange(r.beforeLast, r.final);
  });

  it('answers -ESRCH on a destroyed domain and changes nothing', () => {
    const r = runFromBoot(u, [act.destroy(DOM1), act.remove(DOM1, 0)]);
    expect(r.rcs).toEqual([0, ESRCH]);
    expectNoChange(r.beforeLast, r.final);
  });
});

describe.each(CONFIGS.filter((c) => c.backend === 'ept'))('remove_from_physmap of a foreign entry ($version/ept)', (c) => {
  const u = universe(c);
  const T = mapperOf(c.version);

  it('empties the entry and gives the mapping reference back; the source keeps its m2p', () => {
    const r = runFromBoot(u, [act.mapForeign(T, 0, DOM2, 0), act.remove(T, 0)]);
    expect(r.rcs).toEqual([0, 0]);
    expect(r.beforeLast.frames[4]!.count).toBe(2);
    expect(r.final.p2m[T]![0]).toBeNull();
    expect(r.final.frames[4]).toEqual(frame(DOM2, 1, true, 0));
    expect(r.final.frames[mapperFrameAtG0(c.version)]).toEqual(FREE);
  });

  it(
    c.version === 'seed'
      ? 'goes through p2m_remove_foreign (4.4 get_page_from_gfn returns NULL for foreign)'
      : 'goes through get_page_from_gfn, which references foreign entries (p2m_remove_foreign is gone)',
    () => {
      const xen = modelFor(u).ctx.xen;
      const removeForeign = vi.fn(xen.p2mRemoveForeign);
      const getPage = vi.fn(xen.getPageFromGfn);
      const spied = { ...xen, p2mRemoveForeign: removeForeign, getPageFromGfn: getPage };
      const pre = runFromBoot(u, [act.mapForeign(T, 0, DOM2, 0)]).final;
      getPage.mockClear();
      const r = run(u, pre, [act.remove(T, 0)], spied);
      expect(r.rcs).toEqual([0]);
      expect(getPage).toHaveBeenCalledTimes(1);
      const lookup = getPage.mock.results[0]!.value as { page: number | null; t: string | null };
      expect(lookup.t).toBe('map_foreign');
      if (c.version === 'seed') {
        expect(lookup.page).toBeNull();
        expect(removeForeign).toHaveBeenCalledTimes(1);
      } else {
        expect(lookup.page).toBe(4);
        expect(removeForeign).not.toHaveBeenCalled();
      }
    },
  );

  it("answers -ENOENT on a zombie's stale entry whose frame is free, and changes nothing", () => {
    const r = runFromBoot(u, [act.mapForeign(T, 0, DOM2, 0), act.destroy(DOM2), act.remove(DOM2, 1)]);
    expect(r.rcs).toEqual([0, 0, ENOENT]);
    expectNoChange(r.beforeLast, r.final);
  });
});

describe.each(CONFIGS)('destroy on $version/$backend', (c) => {
  const u = universe(c);
  const boot = modelFor(u).init();

  it('answers -EINVAL for dom0 (the hardware domain) and changes nothing', () => {
    const r = run(u, boot, [act.destroy(DOM0)]);
    expect(r.rcs).toEqual([EINVAL]);
    expectNoChange(boot, r.final);
  });

  it.each([DOM1, DOM2])('destroys alive dom%i with only its own pages in one step: frames freed, p2m empty', (d) => {
    const r = run(u, boot, [act.destroy(d)]);
    expect(r.rcs).toEqual([0]);
    expect(r.final.domains[d]!.life).toBe('destroyed');
    expect(r.final.p2m[d]).toEqual([null, null]);
    expect(r.final.frames[2 * d]).toEqual(FREE);
    expect(r.final.frames[2 * d + 1]).toEqual(FREE);
    expect(owned(r.final, d)).toBe(0);
    // the other domains are untouched
    for (const other of [DOM0, DOM1, DOM2].filter((x) => x !== d)) {
      expect(r.final.p2m[other]).toEqual(boot.p2m[other]);
      expect(r.final.domains[other]).toEqual(boot.domains[other]);
    }
  });

  it('also reclaims an own page unhooked by remove_from_physmap (relinquish walks page_list, not the p2m)', () => {
    const r = runFromBoot(u, [act.remove(DOM1, 0), act.destroy(DOM1)]);
    expect(r.rcs).toEqual([0, 0]);
    expect(r.final.domains[DOM1]!.life).toBe('destroyed');
    expect(r.final.frames[2]).toEqual(FREE);
  });

  it('answers -ESRCH on a destroyed domain and changes nothing', () => {
    const r = runFromBoot(u, [act.destroy(DOM1), act.destroy(DOM1)]);
    expect(r.rcs).toEqual([0, ESRCH]);
    expectNoChange(r.beforeLast, r.final);
  });

  it('destroys dom0 too when the universe makes the hardware domain destroyable', () => {
    const ud = universe({ ...c, hardwareDomainDestroyable: true });
    const r = runFromBoot(ud, [act.destroy(DOM0)]);
    expect(r.rcs).toEqual([0]);
    expect(r.final.domains[DOM0]!.life).toBe('destroyed');
    expect(r.final.frames[0]).toEqual(FREE);
    expect(r.final.frames[1]).toEqual(FREE);
  });

  if (c.backend === 'pt') {
    it('never leaves a zombie after a refused foreign map (no foreign reference exists on pt)', () => {
      const T = mapperOf(c.version);
      const r = runFromBoot(u, [act.mapForeign(T, 0, DOM2, 0), act.destroy(DOM2)]);
      expect(r.rcs).toEqual([EINVAL, 0]);
      expect(r.final.domains[DOM2]!.life).toBe('destroyed');
      expect(r.final.frames[4]).toEqual(FREE);
    });
  }
});

describe.each(CONFIGS.filter((c) => c.backend === 'ept'))('destroy with foreign mappings ($version/ept)', (c) => {
  const u = universe(c);
  const T = mapperOf(c.version);

  it('destroying the owner of a mapped page leaves a legitimate zombie, destroyed when the mapper unmaps', () => {
    const r = runFromBoot(u, [act.mapForeign(T, 0, DOM2, 0), act.destroy(DOM2), act.destroy(DOM2), act.remove(T, 0)]);
    expect(r.rcs).toEqual([0, 0, 0, 0]);
    const zombie = r.states[2]!;
    expect(zombie.domains[DOM2]!.life).toBe('dead');
    expect(owned(zombie, DOM2)).toBe(1);
    expect(zombie.frames[4]).toEqual(frame(DOM2, 1, false, 0));
    expect(zombie.frames[5]).toEqual(FREE);
    expect(zombie.p2m[DOM2]).toEqual([ram(4), ram(5)]); // the p2m stays, stale, until destroyed
    // destroy of a dead domain: 0 and no change
    expect(r.states[3]).toEqual(zombie);
    // the mapper drops the last reference: the frame is freed and dom2 destroyed in the same step
    expect(r.final.domains[DOM2]!.life).toBe('destroyed');
    expect(r.final.frames[4]).toEqual(FREE);
    expect(r.final.p2m[DOM2]).toEqual([null, null]);
    expect(r.final.p2m[T]![0]).toBeNull();
  });

  it('decrease_reservation of the zombie\'s last stale entry does not free it while the mapping holds it', () => {
    const r = runFromBoot(u, [act.mapForeign(T, 0, DOM2, 0), act.destroy(DOM2), act.decrease(DOM2, 0), act.remove(T, 0)]);
    expect(r.rcs).toEqual([0, 0, 0, 0]);
    expect(r.states[3]!.domains[DOM2]!.life).toBe('dead');
    expect(r.final.domains[DOM2]!.life).toBe('destroyed');
  });

  if (c.version === 'seed') {
    it("destroying the mapper (dom1 after mapping dom2's page) discards its p2m: frame 4 keeps count 2 (the leak)", () => {
      const r = runFromBoot(u, [act.mapForeign(DOM1, 0, DOM2, 0), act.destroy(DOM1)]);
      expect(r.rcs).toEqual([0, 0]);
      expect(r.final.domains[DOM1]!.life).toBe('destroyed');
      expect(r.final.p2m[DOM1]).toEqual([null, null]);
      expect(r.final.frames[2]).toEqual(FREE);
      expect(r.final.frames[3]).toEqual(FREE);
      expect(r.final.frames[4]).toEqual(frame(DOM2, 2, true, 0));
      expect(foreignEntries(r.final)).toEqual([]);
    });

    it('a zombie mapper keeps its foreign entries until it is destroyed, then the reference is lost', () => {
      // dom0 maps dom1's frame 3 (dom1 becomes a zombie when destroyed); dom1 maps dom2's frame 4
      const r = runFromBoot(u, [
        act.mapForeign(DOM0, 0, DOM1, 1),
        act.mapForeign(DOM1, 0, DOM2, 0),
        act.destroy(DOM1),
        act.remove(DOM0, 0),
      ]);
      expect(r.rcs).toEqual([0, 0, 0, 0]);
      const zombie = r.states[3]!;
      expect(zombie.domains[DOM1]!.life).toBe('dead');
      expect(zombie.p2m[DOM1]![0]).toEqual(foreign(4));
      expect(zombie.frames[4]!.count).toBe(2);
      expect(r.final.domains[DOM1]!.life).toBe('destroyed');
      expect(r.final.p2m[DOM1]).toEqual([null, null]);
      expect(r.final.frames[4]).toEqual(frame(DOM2, 2, true, 0));
    });
  } else {
    it('cannot destroy the mapper: it is dom0 (-EINVAL), so its foreign references are never discarded', () => {
      const r = runFromBoot(u, [act.mapForeign(DOM0, 0, DOM2, 0), act.destroy(DOM0)]);
      expect(r.rcs).toEqual([0, EINVAL]);
      expectNoChange(r.beforeLast, r.final);
    });
  }
});
