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
import { bug } from './fault.js';
import { getPage, pageGetOwnerAndReference, putPage } from './page.js';
import { EBUSY, EINVAL, ENOMEM, EPERM, ESRCH, type DomIndex, type Entry, type P2mType, type State } from './types.js';
import type { Ctx, PageFromGfn } from './xen.js';

export { atomicWriteEptEntry45, atomicWriteEptEntrySeed, p2mPtSetEntryRefusingForeign };

/** set_p2m_entry() → p2m->set_entry(): the host's backend writes the entry. */
export function p2mSetEntry44(ctx: Ctx, s: State, d: DomIndex, gfn: number, e: Entry | null): number {
  return ctx.u.backend === 'ept'
    ? ctx.xen.atomicWriteEptEntry(ctx, s, d, gfn, e)
    : ctx.xen.p2mPtSetEntry(ctx, s, d, gfn, e);
}

/**
 * set_typed_p2m_entry() as committed in 243cebb3df (patch 4/7; the V6 text is unavailable): an old
 * grant entry crashes the domain; an old RAM entry's frame loses its M2P entry; then set_p2m_entry.
 */
export function setTypedP2mEntrySeed(ctx: Ctx, s: State, d: DomIndex, gfn: number, mfn: number, t: P2mType): number {
  const old = s.p2m[d]![gfn]!; // omfn = p2m->get_entry(p2m, gfn, &ot, ...)
  if (p2mIsGrant(entryType(old))) {
    ctx.xen.domainCrash(ctx, s, d);
    return EBUSY;
  }
  if (p2mIsRam(entryType(old))) s.frames[old!.mfn]!.m2p = null; // set_gpfn_from_mfn(omfn, INVALID_M2P_ENTRY)
  return ctx.xen.p2mSetEntry(ctx, s, d, gfn, { type: t, mfn });
}

/** 92bc02ab69 (Xen 4.5): an old grant *or foreign* entry makes set_typed_p2m_entry crash the domain. */
export function setTypedP2mEntry45(ctx: Ctx, s: State, d: DomIndex, gfn: number, mfn: number, t: P2mType): number {
  const old = s.p2m[d]![gfn]!;
  if (p2mIsGrant(entryType(old)) || p2mIsForeign(entryType(old))) {
    ctx.xen.domainCrash(ctx, s, d);
    return EBUSY;
  }
  if (p2mIsRam(entryType(old))) s.frames[old!.mfn]!.m2p = null;
  return ctx.xen.p2mSetEntry(ctx, s, d, gfn, { type: t, mfn });
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
  if (p2mIsValid(t) && e!.mfn !== mfn) bug('assert-p2m-remove-page-mfn', mfn);
  return ctx.xen.p2mSetEntry(ctx, s, d, gfn, null);
}

/** guest_physmap_remove_page(): void in 4.4 (its result is ignored by every caller of that era). */
export function guestPhysmapRemovePage(ctx: Ctx, s: State, d: DomIndex, gfn: number, mfn: number): number {
  return ctx.xen.p2mRemovePage(ctx, s, d, gfn, mfn);
}

/**
 * 4.4 get_page_from_gfn() (§1.10): RAM (or grant) with a valid mfn → get_page(page, d), falling back
 * to get_page(page, dom_cow); anything else, foreign included → NULL with the type reported.
 */
export function getPageFromGfn44(ctx: Ctx, s: State, d: DomIndex, gfn: number): PageFromGfn {
  const e = s.p2m[d]![gfn]!;
  const t = entryType(e);
  if (e !== null && (p2mIsRam(t) || p2mIsGrant(t))) {
    if (getPage(ctx, s, e.mfn, d) || getPage(ctx, s, e.mfn, 'cow')) return { page: e.mfn, t };
  }
  return { page: null, t };
}

/**
 * 50fe6e7370 get_page_from_gfn(): the fast path tests p2m_is_any_ram; a foreign entry's frame is
 * referenced with page_get_owner_and_reference (any owner but d).
 */
export function getPageFromGfn45(ctx: Ctx, s: State, d: DomIndex, gfn: number): PageFromGfn {
  const e = s.p2m[d]![gfn]!;
  const t = entryType(e);
  if (e !== null && p2mIsAnyRam(t)) {
    if (p2mIsForeign(t)) {
      const owner = pageGetOwnerAndReference(s, e.mfn);
      if (owner === undefined) return { page: null, t };
      if (owner === d || owner === null) {
        putPage(ctx, s, e.mfn);
        return { page: null, t };
      }
      return { page: e.mfn, t };
    }
    if (getPage(ctx, s, e.mfn, d) || getPage(ctx, s, e.mfn, 'cow')) return { page: e.mfn, t };
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
    if (page !== null) putPage(ctx, s, page);
    return EINVAL;
  }
  const mfn = page;

  // Remove previously mapped page if it is present. (get_gfn: the model has no Xen-heap frames,
  // so "Normal domain memory is freed, to avoid leaking memory".) The result is ignored.
  const prev = s.p2m[tdom]![gpfn]!;
  if (prev !== null) ctx.xen.guestRemovePage(ctx, s, tdom, gpfn);

  // Create the new mapping (set_foreign_p2m_entry(...) == 0 is failure in the bool convention).
  let rc = 0;
  if (ctx.xen.setForeignP2mEntry(ctx, s, tdom, gpfn, mfn) !== 0) rc = EINVAL;
  putPage(ctx, s, page);
  // put_gfn(tdom, gpfn)
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
    if (page !== null) putPage(ctx, s, page);
    return EINVAL;
  }
  const mfn = page;

  // Remove previously mapped page if it was present; the result is still ignored until XSA-222.
  const prev = s.p2m[tdom]![gpfn]!;
  if (prev !== null) ctx.xen.guestRemovePage(ctx, s, tdom, gpfn);

  const rc = ctx.xen.setForeignP2mEntry(ctx, s, tdom, gpfn, mfn);
  putPage(ctx, s, page);
  // put_gfn(tdom, gpfn); rcu_unlock_domain(fdom)
  return rc;
}

/**
 * Seed V6.2 p2m_remove_foreign(d, gpfn) (§1.9): no temporary reference is held across the removal,
 * so the EPT write's put may free the frame before the entry is cleared.
 */
export function p2mRemoveForeignSeed(ctx: Ctx, s: State, d: DomIndex, gpfn: number): number {
  // ASSERT(is_pvh_domain(d)): only PVH domains can hold foreign entries in the seed.
  const e = s.p2m[d]![gpfn]!; // mfn = get_gfn_query(d, gpfn, &p2mt)
  if (!p2mIsForeign(entryType(e))) return EINVAL; // "Invalid type for gpfn"
  // mfn_valid(mfn) holds for every model frame
  const foreignDom = s.frames[e!.mfn]!.owner;
  if (foreignDom === d) bug('assert-remove-foreign-owner', e!.mfn); // ASSERT(d != foreign_dom)
  ctx.xen.guestPhysmapRemovePage(ctx, s, d, gpfn, e!.mfn);
  // put_gfn(d, gpfn)
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
    // !mfn_valid(nfn) || p2m is not the host p2m → -EINVAL: every model p2m is a host p2m
    const owner = pageGetOwnerAndReference(s, neu!.mfn);
    if (owner === undefined || owner === null) return EBUSY;
    // p2m->nr_foreign++ (derived in the model)
  }
  if (p2mIsForeign(entryType(old))) {
    ctx.xen.p2mEntryModifyPutOld(ctx, s, old!.mfn);
  }
  return 0;
}

/** Putting an old foreign entry's reference in p2m_entry_modify, up to Xen 4.19: a plain put_page. */
export function p2mEntryModifyPutOld419(ctx: Ctx, s: State, mfn: number): void {
  putPage(ctx, s, mfn);
}

/**
 * ac607edc2e (2026-02-19, head): before putting an old foreign entry, p2m_entry_modify requires
 * `count > (allocated ? 2 : 1)`: the caller must hold an extra reference, since the put happens
 * before the PTE write. relinquish_p2m_mapping holds none (xen-foreign-protocol.md §3.6 L): this
 * fault is inferred from reading the source, not confirmed by a bug report. Debug builds hit the
 * ASSERT; the model reports the ASSERT.
 */
export function p2mEntryModifyPutOldHead(ctx: Ctx, s: State, mfn: number): void {
  const pg = s.frames[mfn]!;
  if (!(pg.count > (pg.allocated ? 2 : 1))) bug('assert-entry-modify-extra-ref', mfn);
  putPage(ctx, s, mfn);
}

/** Xen 4.19 EPT: atomic_write_ept_entry calls p2m_entry_modify for leaves, then writes. */
export function atomicWriteEptEntry419(ctx: Ctx, s: State, d: DomIndex, gfn: number, neu: Entry | null): number {
  const rc = ctx.xen.p2mEntryModify(ctx, s, d, gfn, neu);
  if (rc !== 0) return rc;
  s.p2m[d]![gfn] = neu; // write_atomic(&entryptr->epte, new.epte)
  return 0;
}

/** Xen 4.19 PT (p2m_pt_set_entry): the foreign refusal is gone (ce0224bf96); p2m_entry_modify counts. */
export function p2mPtSetEntry419(ctx: Ctx, s: State, d: DomIndex, gfn: number, neu: Entry | null): number {
  const rc = ctx.xen.p2mEntryModify(ctx, s, d, gfn, neu);
  if (rc !== 0) return rc;
  s.p2m[d]![gfn] = neu; // safe_write_pte / paging_write_p2m_entry
  return 0;
}

/**
 * From XSA-410 (ff600a8cf8, "refuse new allocations for dying domains"): hap_alloc returns NULL for a
 * dying domain, so an insert into a domain that is not alive fails with -ENOMEM and writes nothing
 * (MODEL.md §3.6: every insert is taken to need an allocation). Removals still go through.
 */
export function p2mSetEntry419(ctx: Ctx, s: State, d: DomIndex, gfn: number, e: Entry | null): number {
  if (e !== null && s.domains[d]!.life !== 'alive') return ENOMEM;
  return p2mSetEntry44(ctx, s, d, gfn, e);
}

/**
 * set_typed_p2m_entry() in HEAD: an old grant, foreign or mmio_direct entry whose (mfn, type)
 * differs → domain_crash(d) and -EPERM; the identical entry is a no-op; an old RAM entry's frame
 * loses its M2P; then p2m_set_entry.
 */
export function setTypedP2mEntryHead(ctx: Ctx, s: State, d: DomIndex, gfn: number, mfn: number, t: P2mType): number {
  const old = s.p2m[d]![gfn]!;
  const ot = entryType(old);
  if (p2mIsGrant(ot) || p2mIsForeign(ot)) {
    if (old!.mfn === mfn && ot === t) return 0;
    ctx.xen.domainCrash(ctx, s, d);
    return EPERM;
  }
  if (p2mIsRam(ot)) s.frames[old!.mfn]!.m2p = null;
  return ctx.xen.p2mSetEntry(ctx, s, d, gfn, { type: t, mfn });
}

/**
 * p2m_add_foreign() from 845a60b63b (Xen 4.19) to HEAD (§3.2), after fdom was looked up:
 * arch_acquire_resource_check(tdom) accepts every HVM/PVH domain without altp2m or nested HVM (all
 * model domains); the source must be RAM, not shared, not a hole; removing the previous page at gpfn
 * aborts on error (XSA-222: a previous foreign entry makes guest_remove_page fail with -ENXIO).
 */
export function p2mAddForeign419(ctx: Ctx, s: State, tdom: DomIndex, fgfn: number, gpfn: number, fdom: DomIndex): number {
  if (tdom === fdom) return EINVAL;
  // xsm_map_gmfn_foreign(XSM_TARGET, tdom, fdom): allowed for the privileged caller
  return p2mAddForeignChecked419(ctx, s, tdom, fgfn, gpfn, fdom);
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
    const prev = s.p2m[tdom]![gpfn]!;
    if (prev !== null) rc = ctx.xen.guestRemovePage(ctx, s, tdom, gpfn);
    if (rc === 0) rc = ctx.xen.setForeignP2mEntry(ctx, s, tdom, gpfn, mfn);
    // put_gfn(tdom, gpfn)
  }
  putPage(ctx, s, page);
  return rc;
}

/** The `paging` phase from 845a60b63b: p2m_teardown(remove_root=false) clears the root page. */
export function p2mTeardownClearRoot(_ctx: Ctx, s: State, d: DomIndex): void {
  const p2m = s.p2m[d]!;
  for (let g = 0; g < p2m.length; g++) p2m[g] = null;
}

/** Seed and 4.5: hap_teardown frees the pool but leaves every entry (this phase is not listed). */
export function p2mTeardownClearRootAbsent(_ctx: Ctx, _s: State, _d: DomIndex): void {}

/**
 * p2m_change_entry_type_global(d, ot, nt) as the seed's ept_change_entry_type_page does it: every
 * valid leaf of type `ot` is rewritten as `nt` through the backend's entry write. It never selects
 * foreign entries (log-dirty converts ram_rw ↔ ram_logdirty only).
 */
export function p2mChangeEntryTypeGlobal(ctx: Ctx, s: State, d: DomIndex, ot: P2mType, nt: P2mType): void {
  const p2m = s.p2m[d]!;
  for (let g = 0; g < p2m.length; g++) {
    const e = p2m[g]!;
    if (e !== null && e.type === ot) ctx.xen.p2mSetEntry(ctx, s, d, g, { type: nt, mfn: e.mfn });
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
