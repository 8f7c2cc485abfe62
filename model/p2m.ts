// xen/arch/x86/mm/p2m.c: the generic p2m layer, p2m_add_foreign and p2m_remove_foreign.
import { atomicWriteEptEntry45, atomicWriteEptEntrySeed } from './p2m/ept.js';
import { p2mPtSetEntryRefusingForeign } from './p2m/pt.js';
import {
  entryChanged,
  entryType,
  p2mIsAnyRam,
  p2mIsForeign,
  p2mIsGrant,
  p2mIsHole,
  p2mIsRam,
  p2mIsShared,
  p2mIsValid,
} from './p2m/types.js';
import { assertUnreachable, xenAssert } from './fault.js';
import { EBUSY, EILSEQ, EINVAL, ENOMEM, EPERM, ESRCH, type DomIndex, type Entry, type P2mType, type State } from './types.js';
import type { Ctx, PageFromGfn, Preempt } from './xen.js';
import { ERESTART } from './types.js';
import { preemptCheck } from './preempt.js';
import { p2mLock, p2mUnlock, writeEntry } from './sched.js';

export { atomicWriteEptEntry45, atomicWriteEptEntrySeed, p2mPtSetEntryRefusingForeign };

/**
 * set_p2m_entry() → p2m->set_entry(): the backend's walk to the leaf (ept_set_entry's ept_next_level,
 * p2m-pt.c's p2m_next_level), then its leaf write. The walk needs a table page to insert into a p2m
 * whose tables are gone, and to split a superpage one half of which changes (MODEL.md §3.8); when the
 * allocation fails the write returns -ENOMEM and nothing changes. (Writing an entry empty never
 * allocates for a missing table: the model removes present entries only, whose tables exist.)
 */
export function p2mSetEntry44(ctx: Ctx, s: State, d: DomIndex, gfn: number, e: Entry | null): number {
  const rc = p2mWalkToLeaf(ctx, s, d, gfn, e !== null);
  if (rc !== 0) return rc;
  return p2mWriteLeaf(ctx, s, d, gfn, e);
}

/** The backend's write of the leaf entry itself, once the walk has reached it. */
export function p2mWriteLeaf(ctx: Ctx, s: State, d: DomIndex, gfn: number, e: Entry | null): number {
  return ctx.u.backend === 'ept' ? ctx.xen.atomicWriteEptEntry(ctx, s, d, gfn, e) : ctx.xen.p2mPtSetEntry(ctx, s, d, gfn, e);
}

/**
 * The table walk of a 4k write at `gfn`: a missing table is allocated for an insert
 * (ept_set_middle_entry, p2m_next_level), and a superpage over `gfn` is split into two 4k entries
 * (ept_split_super_page) with one table page. A failed allocation leaves the p2m as it was (the split
 * is built in a private copy and freed: `ept_free_entry(p2m, &split_ept_entry, i); rc = -ENOMEM`).
 */
export function p2mWalkToLeaf(ctx: Ctx, s: State, d: DomIndex, gfn: number, insert: boolean): number {
  const dom = s.domains[d]!;
  if (insert && !dom.tables) {
    if (!p2mAllocPtp(ctx, s, d)) return ENOMEM;
    dom.tables = true;
  }
  const row = s.p2m[d]!;
  const e = row[gfn]!;
  if (e !== null && e.order === 1) {
    if (!p2mAllocPtp(ctx, s, d)) return ENOMEM;
    const buddy = gfn ^ 1;
    const b = row[buddy]!;
    row[gfn] = { type: e.type, mfn: e.mfn };
    row[buddy] = { type: b.type, mfn: b.mfn };
  }
  return 0;
}

/**
 * p2m_alloc_ptp() → the paging pool's allocator (hap_alloc_p2m_page). An armed fail_next_alloc is
 * consumed by the next attempt, whichever domain makes it (fault injection: MODEL.md §3.7).
 */
export function p2mAllocPtp(ctx: Ctx, s: State, d: DomIndex): boolean {
  if (s.armedFailures > 0) {
    s.armedFailures -= 1;
    return false;
  }
  return ctx.xen.hapAlloc(ctx, s, d);
}

/** hap_alloc() in Xen 4.4 and 4.5: a page from the domain's pool, none once hap_teardown emptied it. */
export function hapAlloc44(_ctx: Ctx, s: State, d: DomIndex): boolean {
  return s.domains[d]!.pool;
}

/**
 * hap_alloc() from ff600a8cf8 (XSA-410, "refuse new allocations for dying domains"): NULL for a
 * dying or dead domain, before the free list is looked at; then the pool as before.
 */
export function hapAlloc419(_ctx: Ctx, s: State, d: DomIndex): boolean {
  const dom = s.domains[d]!;
  if (dom.life !== 'alive') return false; // if ( unlikely(d->is_dying) ) return NULL;
  return dom.pool;
}

/**
 * set_typed_p2m_entry() as committed in 243cebb3df (patch 4/7; the V6 text is unavailable): an old
 * grant entry crashes the domain; an old RAM entry's frame loses its M2P entry; then set_p2m_entry.
 */
export function setTypedP2mEntrySeed(ctx: Ctx, s: State, d: DomIndex, gfn: number, mfn: number, t: P2mType): number {
  p2mLock(ctx, d); // gfn_lock(p2m, gfn, 0)
  const old = s.p2m[d]![gfn]!; // omfn = p2m->get_entry(p2m, gfn, &ot, ...)
  if (p2mIsGrant(entryType(old))) {
    ctx.xen.domainCrash(ctx, s, d);
    p2mUnlock(ctx, d);
    return EBUSY;
  }
  if (p2mIsRam(entryType(old))) s.frames[old!.mfn]!.m2p = null; // set_gpfn_from_mfn(omfn, INVALID_M2P_ENTRY)
  const rc = ctx.xen.p2mSetEntry(ctx, s, d, gfn, { type: t, mfn });
  p2mUnlock(ctx, d); // gfn_unlock(p2m, gfn, 0)
  return rc;
}

/** 92bc02ab69 (Xen 4.5): an old grant *or foreign* entry makes set_typed_p2m_entry crash the domain. */
export function setTypedP2mEntry45(ctx: Ctx, s: State, d: DomIndex, gfn: number, mfn: number, t: P2mType): number {
  p2mLock(ctx, d); // gfn_lock(p2m, gfn, 0)
  const old = s.p2m[d]![gfn]!;
  if (p2mIsGrant(entryType(old)) || p2mIsForeign(entryType(old))) {
    ctx.xen.domainCrash(ctx, s, d);
    p2mUnlock(ctx, d);
    return EBUSY;
  }
  if (p2mIsRam(entryType(old))) s.frames[old!.mfn]!.m2p = null;
  const rc = ctx.xen.p2mSetEntry(ctx, s, d, gfn, { type: t, mfn });
  p2mUnlock(ctx, d); // gfn_unlock(p2m, gfn, 0)
  return rc;
}

/** set_foreign_p2m_entry(d, gfn, mfn) = set_typed_p2m_entry(d, gfn, mfn, p2m_map_foreign). */
export function setForeignP2mEntry(ctx: Ctx, s: State, d: DomIndex, gfn: number, mfn: number): number {
  return ctx.xen.setTypedP2mEntry(ctx, s, d, gfn, mfn, 'map_foreign');
}

/**
 * p2m_remove_page(): invalidate the M2P entry unless the type is grant, shared or (243cebb3df)
 * foreign; ASSERT the mfn matches a valid entry; set the entry to (INVALID_MFN, p2m_invalid).
 */
export function p2mRemovePage(ctx: Ctx, s: State, d: DomIndex, gfn: number, mfn: number): number {
  const e = s.p2m[d]![gfn]!;
  const t = entryType(e);
  if (!p2mIsGrant(t) && !p2mIsShared(t) && !p2mIsForeign(t)) s.frames[mfn]!.m2p = null;
  xenAssert(ctx, !(p2mIsValid(t) && e!.mfn !== mfn), 'assert-p2m-remove-page-mfn', mfn);
  return ctx.xen.p2mSetEntry(ctx, s, d, gfn, null);
}

/**
 * p2m_remove_entry() as in 4.19: a *valid* (RAM) entry that does not map `mfn` is refused with
 * -EILSEQ before anything changes (4.4's ASSERT became this check in c65ea16dbc; only a caller whose lookup raced
 * with another vCPU's change of the entry gets there). A foreign entry is not p2m_is_valid, nor is a
 * hole: either is removed whatever frame the caller looked up.
 */
export function p2mRemovePage419(ctx: Ctx, s: State, d: DomIndex, gfn: number, mfn: number): number {
  const e = s.p2m[d]![gfn]!;
  if (p2mIsValid(entryType(e)) && e!.mfn !== mfn) return EILSEQ;
  return p2mRemoveEntryChecked(ctx, s, d, gfn, mfn);
}

/**
 * b04114ae2d (2025-03-11, master, RELEASE-4.21.0): "grant and foreign entries (together with RAM
 * becoming ANY_RAM) as well as BROKEN want the MFN checking, too": an any-RAM entry must map `mfn`,
 * a hole needs INVALID_MFN (no caller in the model passes it), other types are refused; -EILSEQ
 * before anything changes. A removal whose entry was emptied or replaced under it now fails.
 */
export function p2mRemovePageHead(ctx: Ctx, s: State, d: DomIndex, gfn: number, mfn: number): number {
  const e = s.p2m[d]![gfn]!;
  if (!p2mIsAnyRam(entryType(e)) || e!.mfn !== mfn) return EILSEQ;
  return p2mRemoveEntryChecked(ctx, s, d, gfn, mfn);
}

/**
 * The rest of p2m_remove_entry() (4.19 to master) once the old entry passed its check: the M2P entry
 * is invalidated unless the type is special (grant, foreign) or shared; the entry is set to
 * (INVALID_MFN, p2m_invalid); a failed write puts the M2P entry back where the entry still holds a
 * non-hole, non-special, non-shared type ("set_gpfn_from_mfn(mfn_x(mfn) + i, gfn_x(gfn) + i)",
 * 74a11c43fd, "deal with partial success of p2m_set_entry()") and the error is returned.
 */
function p2mRemoveEntryChecked(ctx: Ctx, s: State, d: DomIndex, gfn: number, mfn: number): number {
  const t = entryType(s.p2m[d]![gfn]!);
  if (!p2mIsGrant(t) && !p2mIsShared(t) && !p2mIsForeign(t)) s.frames[mfn]!.m2p = null;
  const rc = ctx.xen.p2mSetEntry(ctx, s, d, gfn, null);
  if (rc !== 0) {
    const after = entryType(s.p2m[d]![gfn]!);
    if (!p2mIsHole(after) && !p2mIsGrant(after) && !p2mIsShared(after) && !p2mIsForeign(after)) s.frames[mfn]!.m2p = gfn;
  }
  return rc;
}

/** guest_physmap_remove_page(): void in 4.4 (its result is ignored by every caller of that era). */
export function guestPhysmapRemovePage(ctx: Ctx, s: State, d: DomIndex, gfn: number, mfn: number): number {
  p2mLock(ctx, d); // gfn_lock(p2m, gfn, page_order)
  const rc = ctx.xen.p2mRemovePage(ctx, s, d, gfn, mfn);
  p2mUnlock(ctx, d); // gfn_unlock(p2m, gfn, page_order)
  return rc;
}

/**
 * 4.4 get_page_from_gfn() (§1.10): RAM (or grant) with a valid mfn → get_page(page, d), falling back
 * to get_page(page, dom_cow); anything else, foreign included → NULL with the type reported.
 */
export function getPageFromGfn44(ctx: Ctx, s: State, d: DomIndex, gfn: number): PageFromGfn {
  p2mLock(ctx, d); // p2m_read_lock(p2m) (the model's p2m lock is one exclusive lock)
  const e = s.p2m[d]![gfn]!;
  const t = entryType(e);
  let page: number | null = null;
  if (e !== null && (p2mIsRam(t) || p2mIsGrant(t))) {
    if (ctx.xen.getPage(ctx, s, e.mfn, d) || ctx.xen.getPage(ctx, s, e.mfn, 'cow')) page = e.mfn;
  }
  p2mUnlock(ctx, d); // p2m_read_unlock(p2m)
  return { page, t };
}

/**
 * 50fe6e7370 get_page_from_gfn() (4.5 to 4.19): the fast path tests p2m_is_any_ram; a foreign entry's
 * frame is referenced with page_get_owner_and_reference, then `ASSERT(fdom != d)`: a debug build
 * faults on a foreign entry mapping the querying domain's own frame, a release build returns it with
 * the reference held. A free frame (count 0) gives NULL without a reference. A RAM frame: 4.5's fast
 * path tries get_page(page, d), then get_page(page, dom_cow) (p2m.c 4.5 326-329).
 */
export function getPageFromGfn45(ctx: Ctx, s: State, d: DomIndex, gfn: number): PageFromGfn {
  p2mLock(ctx, d); // p2m_read_lock(p2m)
  const r = getPageFromGfn45Locked(ctx, s, d, gfn, true);
  p2mUnlock(ctx, d); // p2m_read_unlock(p2m)
  return r;
}

/**
 * get_page_from_gfn() in 4.19 (p2m.c 4.19 332-392): as 4.5, but a RAM frame is referenced for one
 * owner only, `!p2m_is_shared(*t) ? p2m->domain : dom_cow`. The slow path (a second lookup under the
 * write lock, taken when the fast path's get_page of a RAM frame failed) is not modelled: in every
 * state the model reaches it would give NULL as well (docs/semantics.md).
 */
export function getPageFromGfn419(ctx: Ctx, s: State, d: DomIndex, gfn: number): PageFromGfn {
  p2mLock(ctx, d); // p2m_read_lock(p2m)
  const r = getPageFromGfn45Locked(ctx, s, d, gfn, false);
  p2mUnlock(ctx, d); // p2m_read_unlock(p2m)
  return r;
}

/** The lookup and the reference of 50fe6e7370's get_page_from_gfn, both under the p2m lock. */
function getPageFromGfn45Locked(ctx: Ctx, s: State, d: DomIndex, gfn: number, cowFallback: boolean): PageFromGfn {
  const e = s.p2m[d]![gfn]!;
  const t = entryType(e);
  if (e !== null && p2mIsAnyRam(t)) {
    if (p2mIsForeign(t)) {
      const owner = ctx.xen.pageGetOwnerAndReference(ctx, s, e.mfn);
      if (owner === undefined) return { page: null, t }; // fdom == NULL: page = NULL
      xenAssert(ctx, owner !== d, 'assert-get-page-from-gfn-self', e.mfn);
      return { page: e.mfn, t };
    }
    if (cowFallback) {
      if (ctx.xen.getPage(ctx, s, e.mfn, d) || ctx.xen.getPage(ctx, s, e.mfn, 'cow')) return { page: e.mfn, t };
    } else if (ctx.xen.getPage(ctx, s, e.mfn, p2mIsShared(t) ? 'cow' : d)) return { page: e.mfn, t };
  }
  return { page: null, t };
}

/**
 * a8325f981c (head) get_page_from_gfn → get_page_from_mfn_and_type, on both paths: a foreign entry
 * whose frame the querying domain owns is ASSERT_UNREACHABLE; a release build puts the reference and
 * returns NULL ("Don't leak the reference on release builds").
 */
export function getPageFromGfnHead(ctx: Ctx, s: State, d: DomIndex, gfn: number): PageFromGfn {
  p2mLock(ctx, d); // p2m_read_lock(p2m)
  const r = getPageFromGfnHeadLocked(ctx, s, d, gfn);
  p2mUnlock(ctx, d); // p2m_read_unlock(p2m)
  return r;
}

function getPageFromGfnHeadLocked(ctx: Ctx, s: State, d: DomIndex, gfn: number): PageFromGfn {
  const e = s.p2m[d]![gfn]!;
  const t = entryType(e);
  if (e !== null && p2mIsAnyRam(t)) {
    if (p2mIsForeign(t)) {
      const fdom = ctx.xen.pageGetOwnerAndReference(ctx, s, e.mfn);
      if (fdom === undefined) return { page: null, t };
      if (fdom !== d) return { page: e.mfn, t };
      assertUnreachable(ctx, 'assert-get-page-from-mfn-and-type-self', e.mfn);
      ctx.xen.putPage(ctx, s, e.mfn);
      return { page: null, t };
    }
    // get_page_from_mfn_and_type: one owner, dom_cow for a shared entry
    if (ctx.xen.getPage(ctx, s, e.mfn, p2mIsShared(t) ? 'cow' : d)) return { page: e.mfn, t };
  }
  return { page: null, t };
}

function isPvh(ctx: Ctx, d: DomIndex): boolean {
  return ctx.u.domains[d]!.kind === 'pvh';
}

/**
 * Seed V6.2 p2m_add_foreign(tdom, fgfn, gpfn, fdom), line by line (§1.4). fdom was resolved by the
 * caller (get_pg_owner); there is no hardware-domain restriction.
 */
export function p2mAddForeignSeed(ctx: Ctx, s: State, tdom: DomIndex, fgfn: number, gpfn: number, fdom: DomIndex): number {
  // if ( tdom == fdom || !tdom || !fdom || !is_pvh_domain(tdom) ) return -EINVAL;
  if (tdom === fdom || !isPvh(ctx, tdom)) return EINVAL;

  // following will take a refcnt on the mfn
  const { page, t: p2mt } = ctx.xen.getPageFromGfn(ctx, s, fdom, fgfn);
  if (page === null || !p2mIsValid(p2mt)) {
    if (page !== null) ctx.xen.putPage(ctx, s, page);
    return EINVAL;
  }
  const mfn = page;

  // Remove previously mapped page if it is present. (get_gfn: the model has no Xen-heap frames,
  // so "Normal domain memory is freed, to avoid leaking memory".) The result is ignored.
  p2mLock(ctx, tdom); // prev_mfn = get_gfn(tdom, gpfn, &p2mt_prev)
  const prev = s.p2m[tdom]![gpfn]!;
  if (prev !== null) ctx.xen.guestRemovePage(ctx, s, tdom, gpfn);

  // Create the new mapping (set_foreign_p2m_entry(...) == 0 is failure in the bool convention).
  let rc = 0;
  if (ctx.xen.setForeignP2mEntry(ctx, s, tdom, gpfn, mfn) !== 0) rc = EINVAL;
  ctx.xen.putPage(ctx, s, page);
  p2mUnlock(ctx, tdom); // put_gfn(tdom, gpfn), after set_foreign_p2m_entry
  return rc;
}

/**
 * 50fe6e7370 (Xen 4.5) p2m_add_foreign(tdom, fgfn, gpfn, foreigndom), after the lookup of fdom
 * (§1.4 "Committed"): hardware domain only; the source must be RAM, not shared, not a hole.
 */
export function p2mAddForeign45(ctx: Ctx, s: State, tdom: DomIndex, fgfn: number, gpfn: number, fdom: DomIndex): number {
  if (!isPvh(ctx, tdom)) return EINVAL;
  // pvh fixme: until p2m teardown cleans up foreign entries, only the hardware domain may map them
  if (!ctx.u.domains[tdom]!.hardware) return EPERM;
  if (tdom === fdom) return EINVAL;
  // xsm_map_gmfn_foreign(XSM_TARGET, tdom, fdom): the dummy policy allows dom0.

  const { page, t: p2mt } = ctx.xen.getPageFromGfn(ctx, s, fdom, fgfn);
  if (page === null || !p2mIsRam(p2mt) || p2mIsShared(p2mt) || p2mIsHole(p2mt)) {
    if (page !== null) ctx.xen.putPage(ctx, s, page);
    return EINVAL;
  }
  const mfn = page;

  // Remove previously mapped page if it was present; the result is still ignored until XSA-222.
  p2mLock(ctx, tdom); // prev_mfn = get_gfn(tdom, gpfn, &p2mt_prev)
  const prev = s.p2m[tdom]![gpfn]!;
  if (prev !== null) ctx.xen.guestRemovePage(ctx, s, tdom, gpfn);

  const rc = ctx.xen.setForeignP2mEntry(ctx, s, tdom, gpfn, mfn);
  ctx.xen.putPage(ctx, s, page);
  p2mUnlock(ctx, tdom); // put_gfn(tdom, gpfn); rcu_unlock_domain(fdom)
  return rc;
}

/**
 * Seed V6.2 p2m_remove_foreign(d, gpfn) (§1.9): no temporary reference is held across the removal,
 * so the EPT write's put may free the frame before the entry is cleared.
 */
export function p2mRemoveForeignSeed(ctx: Ctx, s: State, d: DomIndex, gpfn: number): number {
  // ASSERT(is_pvh_domain(d)): only PVH domains can hold foreign entries in the seed.
  p2mLock(ctx, d);
  const e = s.p2m[d]![gpfn]!; // mfn = get_gfn_query(d, gpfn, &p2mt)
  if (!p2mIsForeign(entryType(e))) {
    p2mUnlock(ctx, d); // put_gfn(d, gpfn)
    return EINVAL; // "Invalid type for gpfn"
  }
  // mfn_valid(mfn) holds for every model frame
  const foreignDom = s.frames[e!.mfn]!.owner;
  xenAssert(ctx, foreignDom !== d, 'assert-remove-foreign-owner', e!.mfn); // ASSERT(d != foreign_dom)
  ctx.xen.guestPhysmapRemovePage(ctx, s, d, gpfn, e!.mfn);
  p2mUnlock(ctx, d); // put_gfn(d, gpfn)
  return 0;
}

/** After 50fe6e7370 p2m_remove_foreign is gone: get_page_from_gfn handles foreign entries. */
export function p2mRemoveForeignAbsent(_ctx: Ctx, _s: State, _d: DomIndex, _gpfn: number): number {
  return EINVAL;
}

/**
 * p2m_teardown() at final destroy, seed and Xen 4.5 (§1.11): phys_table is dropped and the table
 * pages go back to the pool. It never looks at leaf entries: every entry vanishes and foreign
 * references are lost.
 */
export function p2mTeardownDiscarding(_ctx: Ctx, s: State, d: DomIndex): void {
  const p2m = s.p2m[d]!;
  for (let g = 0; g < p2m.length; g++) p2m[g] = null;
  s.domains[d]!.tables = false;
  s.domains[d]!.pool = false;
}

/**
 * p2m_entry_modify() (xen/arch/x86/include/asm/p2m.h, shared by EPT, NPT and shadow since
 * ce0224bf96), as in Xen 4.19: level-1 entries only, and only when (type, mfn) changes; a new
 * foreign entry takes page_get_owner_and_reference (else -EBUSY), an old one is put. The caller
 * writes the PTE after it returns: the put happens before the write.
 */
export function p2mEntryModify419(ctx: Ctx, s: State, d: DomIndex, gfn: number, neu: Entry | null): number {
  const old = s.p2m[d]![gfn]!;
  if (!entryChanged(old, neu)) return 0;
  if (p2mIsForeign(entryType(neu))) {
    const rc = ctx.xen.p2mEntryModifyGetNew(ctx, s, neu!.mfn);
    if (rc !== 0) return rc;
  }
  if (p2mIsForeign(entryType(old))) return ctx.xen.p2mEntryModifyPutOld(ctx, s, old!.mfn);
  return 0;
}

/**
 * p2m_entry_modify's get half for a new foreign entry (4.19): `!mfn_valid(nfn) || p2m is not the
 * host p2m` is -EINVAL (every model p2m is a host p2m); page_get_owner_and_reference, -EBUSY when
 * the frame is free; then p2m->nr_foreign++ (derived in the model).
 */
export function p2mEntryModifyGetNew419(ctx: Ctx, s: State, mfn: number): number {
  const owner = ctx.xen.pageGetOwnerAndReference(ctx, s, mfn);
  if (owner === undefined || owner === null) return EBUSY;
  return 0;
}

/** Putting an old foreign entry's reference in p2m_entry_modify, up to Xen 4.19: a plain put_page. */
export function p2mEntryModifyPutOld419(ctx: Ctx, s: State, mfn: number): number {
  ctx.xen.putPage(ctx, s, mfn);
  return 0;
}

/**
 * ac607edc2e (2026-02-19, head): before putting an old foreign entry, p2m_entry_modify requires
 * `count > (allocated ? 2 : 1)`: the caller must hold an extra reference, since the put happens
 * before the PTE write. Otherwise `ASSERT_UNREACHABLE(); return -EILSEQ;`. relinquish_p2m_mapping
 * holds none (xen-foreign-protocol.md §3.6 L; read at master c447b7308b): this fault is inferred
 * from reading the source, not confirmed by a bug report.
 */
export function p2mEntryModifyPutOldHead(ctx: Ctx, s: State, mfn: number): number {
  const pg = s.frames[mfn]!;
  if (!(pg.count > (pg.allocated ? 2 : 1))) {
    assertUnreachable(ctx, 'assert-entry-modify-extra-ref', mfn);
    return EILSEQ;
  }
  ctx.xen.putPage(ctx, s, mfn);
  return 0;
}

/** Xen 4.19 EPT: atomic_write_ept_entry calls p2m_entry_modify for leaves, then writes. */
export function atomicWriteEptEntry419(ctx: Ctx, s: State, d: DomIndex, gfn: number, neu: Entry | null): number {
  const rc = ctx.xen.p2mEntryModify(ctx, s, d, gfn, neu);
  if (rc !== 0) return rc;
  writeEntry(ctx, s, d, gfn, neu); // write_atomic(&entryptr->epte, new.epte)
  return 0;
}

/** Xen 4.19 PT (p2m_pt_set_entry): the foreign refusal is gone (ce0224bf96); p2m_entry_modify counts. */
export function p2mPtSetEntry419(ctx: Ctx, s: State, d: DomIndex, gfn: number, neu: Entry | null): number {
  const rc = ctx.xen.p2mEntryModify(ctx, s, d, gfn, neu);
  if (rc !== 0) return rc;
  writeEntry(ctx, s, d, gfn, neu); // safe_write_pte / paging_write_p2m_entry
  return 0;
}

/**
 * set_typed_p2m_entry() in 4.19 and HEAD (p2m.c 4.19 1043-1118): an old grant, foreign or mmio_direct
 * entry whose (mfn, type) differs → domain_crash(d) and -EPERM; the identical entry is a no-op;
 * p2m_set_entry; then, if it succeeded, an old RAM entry's frame loses its M2P (4.4 and 4.5 cleared
 * it before the write).
 */
export function setTypedP2mEntryHead(ctx: Ctx, s: State, d: DomIndex, gfn: number, mfn: number, t: P2mType): number {
  p2mLock(ctx, d); // gfn_lock(p2m, gfn, 0)
  const old = s.p2m[d]![gfn]!;
  const ot = entryType(old);
  if (p2mIsGrant(ot) || p2mIsForeign(ot)) {
    if (old!.mfn === mfn && ot === t) {
      p2mUnlock(ctx, d);
      return 0;
    }
    ctx.xen.domainCrash(ctx, s, d);
    p2mUnlock(ctx, d);
    return EPERM;
  }
  const rc = ctx.xen.p2mSetEntry(ctx, s, d, gfn, { type: t, mfn });
  // only once the write succeeded does the old RAM frame lose its M2P entry (a 4k write fails whole)
  if (rc === 0 && p2mIsRam(ot)) s.frames[old!.mfn]!.m2p = null; // set_gpfn_from_mfn(omfn, INVALID_M2P_ENTRY)
  p2mUnlock(ctx, d); // gfn_unlock(p2m, gfn, 0)
  return rc;
}

/**
 * p2m_add_foreign() from 845a60b63b (Xen 4.19) to HEAD (§3.2), after fdom was looked up:
 * arch_acquire_resource_check(tdom) accepts every HVM/PVH domain without altp2m or nested HVM (all
 * model domains); the source must be RAM, not shared, not a hole; removing the previous page at gpfn
 * aborts on error (XSA-222: a previous foreign entry makes guest_remove_page fail with -ENXIO).
 */
export function p2mAddForeign419(ctx: Ctx, s: State, tdom: DomIndex, fgfn: number, gpfn: number, fdom: DomIndex): number {
  if (tdom === fdom) return EINVAL;
  const rc = ctx.xen.xsmMapGmfnForeign(ctx, s, tdom, fdom);
  if (rc !== 0) return rc;
  return p2mAddForeignChecked419(ctx, s, tdom, fgfn, gpfn, fdom);
}

/**
 * xsm_map_gmfn_foreign(XSM_TARGET, tdom, fdom) under the dummy policy (xen/include/xsm/dummy.h,
 * xsm_default_action): the subject is tdom, not the caller. Allowed when tdom is fdom, or tdom's
 * device-model target is fdom (`src->target == target`), or tdom is the control domain (on x86 only
 * dom0, the hardware domain); else -EPERM.
 */
export function xsmMapGmfnForeign(ctx: Ctx, _s: State, tdom: DomIndex, fdom: DomIndex): number {
  if (tdom === fdom) return 0;
  if (ctx.u.targets[tdom] === fdom) return 0;
  if (ctx.u.domains[tdom]!.hardware) return 0; // is_control_domain(src)
  return EPERM;
}

/** The rest of p2m_add_foreign (4.19 to HEAD) once the domains have passed their checks. */
export function p2mAddForeignChecked419(ctx: Ctx, s: State, tdom: DomIndex, fgfn: number, gpfn: number, fdom: DomIndex): number {
  const { page, t: p2mt } = ctx.xen.getPageFromGfn(ctx, s, fdom, fgfn);
  if (page === null) return EINVAL;
  let rc = 0;
  if (!p2mIsRam(p2mt) || p2mIsShared(p2mt) || p2mIsHole(p2mt)) {
    rc = EINVAL;
  } else {
    const mfn = page;
    // Remove previously mapped page if it was present (no special pages in the model).
    p2mLock(ctx, tdom); // prev_mfn = get_gfn(tdom, gpfn, &p2mt_prev)
    const prev = s.p2m[tdom]![gpfn]!;
    if (prev !== null) rc = ctx.xen.guestRemovePage(ctx, s, tdom, gpfn);
    if (rc === 0) rc = ctx.xen.setForeignP2mEntry(ctx, s, tdom, gpfn, mfn);
    p2mUnlock(ctx, tdom); // put_gfn(tdom, gpfn), before the put_page
  }
  ctx.xen.putPage(ctx, s, page);
  return rc;
}

/**
 * The `paging` phase (PROG_paging, 0dfffe01d5) from 1df52a2702 (XSA-410, Xen 4.17): paging_teardown → hap_teardown →
 * p2m_teardown(hostp2m, remove_root=false) zeroes the root under the p2m lock (every remaining entry
 * vanishes, no reference is put) and frees the other table pages; then hap_set_allocation(d, 0)
 * empties the pool. Preemptible: one chunk.
 */
export function pagingTeardown419(_ctx: Ctx, s: State, d: DomIndex, p: Preempt): number {
  if (preemptCheck(p)) return ERESTART;
  const p2m = s.p2m[d]!;
  for (let g = 0; g < p2m.length; g++) p2m[g] = null;
  s.domains[d]!.tables = false;
  s.domains[d]!.pool = false;
  return 0;
}

/**
 * Xen 4.4/4.5, RELMEM_not_started: paging_teardown → hap_teardown → hap_set_allocation(d, 0, NULL)
 * gives the pool's free pages back to the heap (not preemptible: it shares the first chunk of
 * relinquish_memory). The p2m's entries and tables stay until the final destroy.
 */
export function pagingTeardown44(_ctx: Ctx, s: State, d: DomIndex, _p: Preempt): number {
  s.domains[d]!.pool = false;
  return 0;
}

/**
 * p2m_change_entry_type_global(d, ot, nt) as the seed's ept_change_entry_type_page does it: every
 * valid leaf of type `ot`, at whatever level (a superpage stays one), is rewritten as `nt` through
 * the backend's leaf write: no walk, no allocation. It never selects foreign entries (log-dirty
 * converts ram_rw ↔ ram_logdirty only).
 */
export function p2mChangeEntryTypeGlobal(ctx: Ctx, s: State, d: DomIndex, ot: P2mType, nt: P2mType): void {
  const p2m = s.p2m[d]!;
  for (let g = 0; g < p2m.length; g++) {
    const e = p2m[g]!;
    if (e !== null && e.type === ot) p2mWriteLeaf(ctx, s, d, g, e.order === 1 ? { type: nt, mfn: e.mfn, order: 1 } : { type: nt, mfn: e.mfn });
  }
}

/**
 * Optional operation set_log_dirty(d, on) (§1.6): XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY / OFF.
 * paging_log_dirty_enable refuses a domain already in log-dirty mode.
 */
export function setLogDirty(ctx: Ctx, s: State, d: DomIndex, on: boolean): number {
  const dom = s.domains[d]!;
  if (dom.life === 'destroyed') return ESRCH;
  if (dom.life !== 'alive') return EINVAL;
  if (dom.logDirty === on) return on ? EINVAL : 0;
  dom.logDirty = on;
  if (on) ctx.xen.p2mChangeEntryTypeGlobal(ctx, s, d, 'ram_rw', 'ram_logdirty');
  else ctx.xen.p2mChangeEntryTypeGlobal(ctx, s, d, 'ram_logdirty', 'ram_rw');
  return 0;
}
