// A catalogue of known faults that must stay caught (MODEL.md §5, and the atomic-granularity rows of
// xen-foreign-protocol.md §4.4). Each undoes one Xen change on a base version, by overriding entries
// of that version's function table, and names the invariant that must catch it and at which depth.
import type { UniverseOptions } from './config.js';
import { EBUSY, EINVAL, ENOENT, ENXIO, ERESTART, type DomIndex, type Entry, type State, type Version } from './types.js';
import { preemptCheck } from './preempt.js';
import { dropAllocationReference, pageGetOwner } from './page.js';
import * as p2m from './p2m.js';
import { entryChanged, entryType, p2mIsForeign, p2mIsGrant, p2mIsShared } from './p2m/types.js';
import { VERSION_TABLES } from './versions.js';
import type { Ctx, PageFromGfn, Preempt, XenFunctions } from './xen.js';
import { p2mLock, p2mUnlock } from './sched.js';
import { xenAssert } from './fault.js';
import { activeLedger } from './ledger.js';
import { p2mIsAnyRam, p2mIsValid } from './p2m/types.js';

export interface Expectation {
  invariant: string;
  depth: number;
}

export interface Mutant {
  name: string;
  base: Version;
  /** Which Xen change it undoes, and what goes wrong. */
  description: string;
  /**
   * Universe settings the fault needs (backend, domains, optional operations, build, superpages):
   * a mutant whose scenario needs another universe names it here (MODEL.md §5).
   */
  universe?: Pick<UniverseOptions, 'backend' | 'domains' | 'ops' | 'preemptibleTeardown' | 'build' | 'superpages' | 'hardwareDomainDestroyable' | 'granularity' | 'vcpus' | 'gfns' | 'spareFrames'>;
  overrides: Partial<XenFunctions>;
  /** The shortest violation that must catch it. */
  expect: Expectation;
}

/** p2m_entry_modify from 4.19, with the reference for a new foreign entry not taken. */
function entryModifyWithoutGet(ctx: Ctx, s: State, d: DomIndex, gfn: number, neu: Entry | null): number {
  const old = s.p2m[d]![gfn]!;
  if (!entryChanged(old, neu)) return 0;
  if (p2mIsForeign(entryType(old))) ctx.xen.p2mEntryModifyPutOld(ctx, s, old!.mfn);
  return 0;
}

export const MUTANTS: readonly Mutant[] = [
  {
    name: 'ept-write-without-get',
    base: 'xen-4.19',
    description:
      'The entry write takes no reference for a new foreign entry (p2m_entry_modify without its ' +
      'page_get_owner_and_reference; the seed\'s atomic_write_ept_entry without get_page). The mapping ' +
      'pins nothing: the count is one short as soon as the entry is written.',
    overrides: { p2mEntryModify: entryModifyWithoutGet },
    expect: { invariant: 'refcount-matches-holders', depth: 1 },
  },
  {
    name: 'ept-write-without-put',
    base: 'xen-4.19',
    description:
      'The entry write never puts the reference of an old foreign entry it replaces or removes ' +
      '(p2m_entry_modify without put_page). Every unmap leaks a reference and keeps the owner a zombie.',
    overrides: { p2mEntryModifyPutOld: () => 0 }, // p2m_entry_modify's put_page(old) gone
    expect: { invariant: 'refcount-matches-holders', depth: 2 },
  },
  {
    name: 'remove-foreign-without-temporary-reference',
    base: 'head',
    description:
      'XENMEM_remove_from_physmap goes back to the seed\'s p2m_remove_foreign, which holds no temporary ' +
      'reference across the removal, so the put happens before the write with nothing else pinning the ' +
      'frame (seed hunk in memory.c; the hazard ac607edc2e documents). The teardown of head is fixed here ' +
      '(relinquish_p2m_mapping takes a temporary reference around each removal) so that only this path ' +
      'trips ac607edc2e\'s precondition.',
    overrides: {
      removeFromPhysmap: (ctx, s, d, gpfn) => {
        const e = s.p2m[d]![gpfn]!;
        if (e !== null && e.type === 'map_foreign') return p2m.p2mRemoveForeignSeed(ctx, s, d, gpfn);
        return VERSION_TABLES.head.removeFromPhysmap(ctx, s, d, gpfn);
      },
      relinquishP2mMapping: relinquishP2mMappingWithTemporaryReference,
    },
    expect: { invariant: 'no-hypervisor-fault', depth: 2 },
  },
  {
    name: 'no-self-map-check',
    base: 'xen-4.19',
    description:
      'p2m_add_foreign without its `tdom == fdom` check (-EINVAL): a domain maps its own page as ' +
      'foreign (xsm_map_gmfn_foreign lets src == target through), an entry that holds a reference on a ' +
      'frame of its own; removing it then trips get_page_from_gfn\'s ASSERT(fdom != d).',
    overrides: {
      p2mAddForeign: (ctx, s, tdom, fgfn, gpfn, fdom) => {
        const rc = ctx.xen.xsmMapGmfnForeign(ctx, s, tdom, fdom);
        if (rc !== 0) return rc;
        return p2m.p2mAddForeignChecked419(ctx, s, tdom, fgfn, gpfn, fdom);
      },
    },
    expect: { invariant: 'foreign-entry-shape', depth: 1 },
  },
  {
    name: 'type-change-selects-foreign',
    base: 'xen-4.19',
    description:
      'The log-dirty type change selects foreign entries too (no guard like 92bc02ab69\'s BUG_ON in ' +
      'p2m_change_type_one): foreign → ram_logdirty puts the mapping reference while the entry keeps ' +
      'mapping the other domain\'s frame as the target\'s own RAM.',
    universe: { ops: ['populate_physmap', 'decrease_reservation', 'add_to_physmap_foreign', 'remove_from_physmap', 'destroy', 'set_log_dirty'] },
    overrides: {
      p2mChangeEntryTypeGlobal: (ctx, s, d, ot, nt) => {
        const row = s.p2m[d]!;
        for (let g = 0; g < row.length; g++) {
          const e = row[g]!;
          if (e !== null && (e.type === ot || e.type === 'map_foreign')) ctx.xen.p2mSetEntry(ctx, s, d, g, { type: nt, mfn: e.mfn });
        }
      },
    },
    expect: { invariant: 'ram-entry-owned', depth: 2 },
  },
  {
    name: 'release-at-final-destroy',
    base: 'xen-4.19',
    description:
      'Foreign references are dropped by p2m_teardown at final destroy instead of by ' +
      'relinquish_p2m_mapping during domain_kill (the design 845a60b63b and Arm rejected). Two domains ' +
      'mapping each other\'s pages keep each other alive: neither tot_pages reaches 0, neither final ' +
      'destroy runs, both are zombies forever. Under XSM only the control domain and device models map ' +
      'foreign pages, so the universe is two domains that are each other\'s device model (set_target ' +
      'checks no cycle): their domain references already keep both from final destroy in every version, ' +
      'but 4.19 frees every frame of theirs at kill, and the mutant leaves them held by zombies.',
    universe: { domains: 'dom0:pvh:hw,dom1:pvh:dm=dom2,dom2:hvm:dm=dom1' },
    overrides: {
      finalTeardownReleasesForeign: true,
      relinquishPhases: ['memory'],
      p2mTeardown: (ctx, s, d) => {
        const row = s.p2m[d]!;
        for (let g = 0; g < row.length; g++) {
          const e = row[g]!;
          if (e !== null && e.type === 'map_foreign') {
            row[g] = null;
            ctx.xen.putPage(ctx, s, e.mfn);
          }
        }
        p2m.p2mTeardownDiscarding(ctx, s, d);
      },
    },
    expect: { invariant: 'no-orphan-reference', depth: 4 },
  },
  {
    name: 'no-foreign-guard-in-p2m-remove-page',
    base: 'xen-4.19',
    description:
      'p2m_remove_page invalidates the M2P entry of a foreign frame too (undoes the `!p2m_is_foreign` ' +
      'guard of 243cebb3df): removing the target\'s foreign entry wipes the owner\'s M2P entry while the ' +
      'owner still maps the frame.',
    overrides: {
      p2mRemovePage: (ctx, s, d, gfn, mfn) => {
        const t = entryType(s.p2m[d]![gfn]!);
        if (!p2mIsGrant(t) && !p2mIsShared(t)) s.frames[mfn]!.m2p = null;
        return ctx.xen.p2mSetEntry(ctx, s, d, gfn, null);
      },
    },
    expect: { invariant: 'm2p-consistent', depth: 2 },
  },
  {
    name: 'pt-accepts-foreign-without-refcount',
    base: 'seed',
    description:
      'The PT backend (p2m-pt.c) writes foreign entries instead of refusing them, without the reference ' +
      'the EPT write takes (undoes the seed\'s "pvh fixme" refusal without porting the counting). The ' +
      'owner can free the frame under the mapping.',
    universe: { backend: 'pt' },
    overrides: {
      p2mPtSetEntry: (_ctx, s, d, gfn, neu) => {
        s.p2m[d]![gfn] = neu;
        return 0;
      },
    },
    expect: { invariant: 'refcount-matches-holders', depth: 1 },
  },
  {
    name: 'put-null-on-lookup-failure',
    base: 'xen-4.19',
    description:
      'p2m_add_foreign\'s error path puts the page even when get_page_from_gfn returned NULL ' +
      '(173ae32502, fixed by 62dde2c1ef): mapping an unpopulated foreign gfn is put_page(NULL).',
    overrides: {
      p2mAddForeign: (ctx, s, tdom, fgfn, gpfn, fdom) => {
        if (tdom === fdom) return EINVAL;
        const { page } = ctx.xen.getPageFromGfn(ctx, s, fdom, fgfn);
        if (page === null) ctx.xen.putPage(ctx, s, null); // goto put_one with page == NULL
        ctx.xen.putPage(ctx, s, page);
        return p2m.p2mAddForeign419(ctx, s, tdom, fgfn, gpfn, fdom);
      },
    },
    expect: { invariant: 'no-hypervisor-fault', depth: 2 },
  },
  {
    name: 'get-before-insert-without-rollback',
    base: 'xen-4.19',
    description:
      'set_foreign_p2m_entry takes the mapping reference before the insert and does not drop it when the ' +
      'insert fails (Arm before cc184e82a2). Here the insert fails with -ENOMEM on a dead target (XSA-410\'s ' +
      'refusal): the reference is held by no entry.',
    overrides: {
      p2mEntryModify: entryModifyWithoutGet, // the write itself does not count (Arm's p2m of 2014)
      setForeignP2mEntry: (ctx, s, d, gfn, mfn) => {
        const owner = pageGetOwner(s, mfn);
        if (owner === null || !ctx.xen.getPage(ctx, s, mfn, owner)) return EBUSY;
        return ctx.xen.setTypedP2mEntry(ctx, s, d, gfn, mfn, 'map_foreign'); // no put_page on failure
      },
    },
    expect: { invariant: 'refcount-matches-holders', depth: 3 },
  },
  {
    name: 'xsa-222-unchecked-removal',
    base: 'xen-4.19',
    description:
      'guest_remove_page as before XSA-222 (a0cce6048d, b614f642c3): the allocation reference and the ' +
      'temporary one are dropped whether or not the p2m removal succeeded. A removal that must split a ' +
      'superpage and cannot allocate the table page fails, and the frame is freed while the superpage ' +
      'still maps it.',
    universe: { superpages: true, ops: ['populate_physmap', 'decrease_reservation', 'add_to_physmap_foreign', 'remove_from_physmap', 'destroy', 'fail_next_alloc'] },
    overrides: {
      guestRemovePage: (ctx, s, d, gmfn) => {
        const e = s.p2m[d]![gmfn]!;
        if (e === null) return ENOENT;
        const mfn = e.mfn;
        if (!ctx.xen.getPage(ctx, s, mfn, d)) return ENXIO;
        dropAllocationReference(ctx, s, mfn);
        ctx.xen.guestPhysmapRemovePage(ctx, s, d, gmfn, mfn); // result ignored
        ctx.xen.putPage(ctx, s, mfn);
        return 0;
      },
    },
    expect: { invariant: 'no-dangling-mapping', depth: 2 },
  },
  {
    name: 'teardown-cursor-skips-failed-entry',
    base: 'head',
    description:
      'relinquish_p2m_mapping as in v1 of the 2024 patch (<20240430165845.81696-3-roger.pau@citrix.com>; caught in Jan Beulich\'s review, not committed): the cursor ' +
      'moves past an entry before its removal is tried, so when the removal fails the retry continues ' +
      'after it. Here the removal fails with head\'s -EILSEQ (ac607edc2e, release build); the retried ' +
      'destroy finishes, and the root clear drops the skipped entry without a put.',
    universe: { build: 'release' },
    overrides: {
      relinquishP2mMapping: (ctx, s, d, p) => {
        const r = s.domains[d]!.relinquish!;
        const row = s.p2m[d]!;
        for (let gfn = r.cursor; gfn < row.length; gfn++) {
          const e = row[gfn]!;
          if (e === null || e.type !== 'map_foreign') continue;
          if (preemptCheck(p)) {
            r.cursor = gfn;
            return ERESTART;
          }
          r.cursor = gfn + 1; // gfn -= 1 << order, before the removal
          const rc = ctx.xen.p2mSetEntry(ctx, s, d, gfn, null);
          if (rc !== 0) return rc;
        }
        r.cursor = row.length;
        return 0;
      },
    },
    expect: { invariant: 'refcount-matches-holders', depth: 3 },
  },
  // --- caught only with --granularity steps (MODEL.md §6): windows inside one hypercall ---
  {
    name: 'put-before-insert',
    base: 'seed',
    description:
      'p2m_add_foreign drops its temporary reference on the source frame (get_page_from_gfn\'s) before ' +
      'set_foreign_p2m_entry instead of after it. Nothing pins the frame between the put and the insert: ' +
      'another vCPU frees it (decrease_reservation of the source), and the seed\'s EPT write, whose ' +
      'get_page result is ignored, maps the free frame. Atomic granularity cannot see it: no other ' +
      'hypercall runs inside p2m_add_foreign.',
    universe: { granularity: 'steps', vcpus: 2, domains: 'dom0:pvh:hw,dom1:pvh,dom2:hvm', gfns: 1, spareFrames: 0, ops: ['decrease_reservation', 'add_to_physmap_foreign'] },
    overrides: { p2mAddForeign: p2mAddForeignPutBeforeInsert },
    expect: { invariant: 'no-dangling-mapping', depth: 18 },
  },
  {
    name: 'lookup-reference-outside-lock',
    base: 'xen-4.19',
    description:
      'Arm\'s XSA-473 race (fixed there by 2275bf83a1, "the P2M lock needs to be held until we have the ' +
      'reference in hand") put into x86: get_page_from_gfn reads the entry under the p2m lock but takes ' +
      'the reference on its frame after the unlock. Meanwhile another vCPU removes the entry, the frame ' +
      'is freed and handed out again, and the reference lands on a frame the entry no longer maps; ' +
      'remove_from_physmap then clears that frame\'s M2P entry under its new owner. XSA-473 is Arm-only: ' +
      'x86 has taken the foreign reference under the p2m read lock since 50fe6e7370 (Xen 4.5).',
    universe: { granularity: 'steps', vcpus: 2, domains: 'dom0:pvh:hw,dom1:hvm', gfns: 1, spareFrames: 0, ops: ['populate_physmap', 'decrease_reservation', 'add_to_physmap_foreign', 'remove_from_physmap'] },
    overrides: { getPageFromGfn: getPageFromGfnReferenceOutsideLock },
    expect: { invariant: 'no-hypervisor-fault', depth: 39 },
  },
  {
    name: 'reuse-before-flush',
    base: 'xen-4.19',
    description:
      'An analogy to XSA-480 (4bc2e5333a: p2m table pages went back to the paging pool, which has no ' +
      'flush filter, before the deferred EPT flush): here a guest frame goes back for reuse before the ' +
      'deferred flush because the heap allocator loses its own flush (alloc_heap_pages\' ' +
      'filtered_flush_tlb_mask, whose IPI sends each CPU through a VM entry that runs INVEPT). ' +
      'guest_remove_page frees the frame before put_gfn flushes, another vCPU allocates it, and the ' +
      'guest\'s TLB still translates to it. XSA-480 itself (table pages) is not modelled: a domain\'s ' +
      'tables are one flag.',
    universe: { granularity: 'steps', vcpus: 2, domains: 'dom0:pvh:hw,dom1:hvm', gfns: 1, spareFrames: 0, ops: ['populate_physmap', 'decrease_reservation'] },
    overrides: { assignPages: assignPagesWithoutTlbFlush },
    expect: { invariant: 'no-dangling-mapping', depth: 15 },
  },
];

/** relinquish_p2m_mapping holding a temporary reference around each removal (a fix for §3.6 L). */
export function relinquishP2mMappingWithTemporaryReference(ctx: Ctx, s: State, d: DomIndex, p: Preempt): number {
  const r = s.domains[d]!.relinquish!;
  const row = s.p2m[d]!;
  for (let gfn = r.cursor; gfn < row.length; gfn++) {
    const e = row[gfn]!;
    if (e === null || e.type !== 'map_foreign') continue;
    if (preemptCheck(p)) {
      r.cursor = gfn;
      return ERESTART;
    }
    ctx.xen.pageGetOwnerAndReference(ctx, s, e.mfn); // the entry's reference keeps the count above 0
    const rc = ctx.xen.p2mSetEntry(ctx, s, d, gfn, null);
    ctx.xen.putPage(ctx, s, e.mfn);
    if (rc !== 0) {
      r.cursor = gfn;
      return rc;
    }
  }
  r.cursor = row.length;
  return 0;
}

/** The seed's p2m_add_foreign with the temporary reference put before the insert. */
function p2mAddForeignPutBeforeInsert(ctx: Ctx, s: State, tdom: DomIndex, fgfn: number, gpfn: number, fdom: DomIndex): number {
  if (tdom === fdom || ctx.u.domains[tdom]!.kind !== 'pvh') return EINVAL;
  const { page, t: p2mt } = ctx.xen.getPageFromGfn(ctx, s, fdom, fgfn);
  if (page === null || !p2mIsValid(p2mt)) {
    if (page !== null) ctx.xen.putPage(ctx, s, page);
    return EINVAL;
  }
  p2mLock(ctx, tdom); // get_gfn(tdom, gpfn)
  const prev = s.p2m[tdom]![gpfn]!;
  if (prev !== null) ctx.xen.guestRemovePage(ctx, s, tdom, gpfn);
  ctx.xen.putPage(ctx, s, page); // the mutation: before the insert
  const rc = ctx.xen.setForeignP2mEntry(ctx, s, tdom, gpfn, page) !== 0 ? EINVAL : 0;
  p2mUnlock(ctx, tdom); // put_gfn(tdom, gpfn)
  return rc;
}

/** get_page_from_gfn (4.19) with the lookup under the p2m lock and the reference taken after the unlock. */
function getPageFromGfnReferenceOutsideLock(ctx: Ctx, s: State, d: DomIndex, gfn: number): PageFromGfn {
  p2mLock(ctx, d);
  const e = s.p2m[d]![gfn]!;
  p2mUnlock(ctx, d); // the mutation: the lock is gone before the reference is taken
  const t = entryType(e);
  if (e !== null && p2mIsAnyRam(t)) {
    if (p2mIsForeign(t)) {
      const owner = ctx.xen.pageGetOwnerAndReference(ctx, s, e.mfn);
      if (owner === undefined) return { page: null, t };
      xenAssert(ctx, owner !== d, 'assert-get-page-from-gfn-self', e.mfn);
      return { page: e.mfn, t };
    }
    if (ctx.xen.getPage(ctx, s, e.mfn, d) || ctx.xen.getPage(ctx, s, e.mfn, 'cow')) return { page: e.mfn, t };
  }
  return { page: null, t };
}

/** assign_pages from a heap without the TLB-flush filter of alloc_heap_pages. */
function assignPagesWithoutTlbFlush(_ctx: Ctx, s: State, d: DomIndex, mfn: number): void {
  const pg = s.frames[mfn]!;
  pg.owner = d;
  pg.count = 1;
  pg.allocated = true;
  activeLedger()?.record(mfn, +1, 'assign_pages', 'the allocation reference');
}

export function findMutant(name: string): Mutant | undefined {
  return MUTANTS.find((m) => m.name === name);
}

export function mutantTable(m: Mutant): XenFunctions {
  return { ...VERSION_TABLES[m.base], ...m.overrides, version: `${m.base}+${m.name}` };
}
