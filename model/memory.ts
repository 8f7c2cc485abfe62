// xen/common/memory.c (and the x86 arch_memory_op): the hypercall bodies the toolstack in dom0 issues.
import { dropAllocationReference } from './page.js';
import { p2mIsForeign } from './p2m/types.js';
import { EEXIST, EINVAL, ENOENT, ENOMEM, ENXIO, EPERM, ESRCH, type DomIndex, type State } from './types.js';
import type { Ctx } from './xen.js';
import { p2mLock, p2mUnlock } from './sched.js';

/** The hardware domain's index: its toolstack is the caller of every hypercall. */
export function callerDomain(ctx: Ctx): DomIndex {
  return ctx.u.domains.findIndex((d) => d.hardware);
}

function isDestroyed(s: State, d: DomIndex): boolean {
  return s.domains[d]!.life === 'destroyed';
}

/**
 * XENMEM_populate_physmap, one extent (MODEL.md §3.1): alloc_domheap_pages → assign_pages (refuses
 * a dying domain) takes the lowest-numbered free frame; guest_physmap_add_page; set_gpfn_from_mfn.
 * A present entry is refused with -EEXIST (Xen would replace it: a deliberate simplification).
 * Up to a16cf950fc (Xen 4.16) the result of guest_physmap_add_page is ignored: a failed insert still
 * counts the extent as done (0). Either way the page stays assigned to `d`, with no entry and no M2P
 * entry (set only on success); relinquish_memory reclaims it at death.
 */
export function populatePhysmap44(ctx: Ctx, s: State, d: DomIndex, gfn: number): number {
  return populateOne(ctx, s, d, gfn, true);
}

/**
 * From a16cf950fc (2021, Xen 4.16): `if ( guest_physmap_add_page(...) ) goto out;`: a failed insert
 * ends the call with the extent not counted (the model returns the error); the page stays assigned.
 */
export function populatePhysmap416(ctx: Ctx, s: State, d: DomIndex, gfn: number): number {
  return populateOne(ctx, s, d, gfn, false);
}

function populateOne(ctx: Ctx, s: State, d: DomIndex, gfn: number, insertErrorIgnored: boolean): number {
  if (isDestroyed(s, d)) return ESRCH;
  const dom = s.domains[d]!;
  if (dom.life !== 'alive') return EINVAL; // assign_pages: d->is_dying
  // guest_physmap_add_page → guest_physmap_add_entry: p2m_lock(p2m). Xen allocates first and takes
  // the lock to replace whatever the entry holds; the model refuses a present entry instead, so the
  // check, the allocation and the insert are one critical section (steps granularity: two vCPUs
  // never both find the entry empty and both insert).
  p2mLock(ctx, d);
  if (s.p2m[d]![gfn] !== null) {
    p2mUnlock(ctx, d);
    return EEXIST;
  }
  const mfn = s.frames.findIndex((f) => f.owner === null);
  if (mfn < 0) {
    p2mUnlock(ctx, d);
    return ENOMEM;
  }
  ctx.xen.assignPages(ctx, s, d, mfn);
  const rc = ctx.xen.p2mSetEntry(ctx, s, d, gfn, { type: dom.logDirty ? 'ram_logdirty' : 'ram_rw', mfn });
  if (rc !== 0) {
    p2mUnlock(ctx, d);
    return insertErrorIgnored ? 0 : rc;
  }
  s.frames[mfn]!.m2p = gfn; // set_gpfn_from_mfn(mfn, gpfn)
  p2mUnlock(ctx, d); // p2m_unlock(p2m)
  return 0;
}

/**
 * guest_remove_page(d, gmfn), Xen 4.4 (§1.8). The C returned 1 on success, 0 on failure; the model
 * returns 0 / -errno. A foreign, shared or stale entry fails get_page(page, d) and nothing changes.
 */
export function guestRemovePage44(ctx: Ctx, s: State, d: DomIndex, gmfn: number): number {
  p2mLock(ctx, d);
  const e = s.p2m[d]![gmfn]!; // mfn = get_gfn_query(d, gmfn, &p2mt)
  if (e === null) {
    p2mUnlock(ctx, d); // put_gfn(d, gmfn)
    return ENOENT; // !mfn_valid(mfn): "Domain %u page number %lx invalid"
  }
  const mfn = e.mfn;
  if (!ctx.xen.getPage(ctx, s, mfn, d)) {
    p2mUnlock(ctx, d); // put_gfn(d, gmfn)
    return EINVAL; // "Bad page free for domain %u"
  }
  dropAllocationReference(ctx, s, mfn);
  ctx.xen.guestPhysmapRemovePage(ctx, s, d, gmfn, mfn);
  ctx.xen.putPage(ctx, s, mfn);
  p2mUnlock(ctx, d); // put_gfn(d, gmfn)
  return 0;
}

/**
 * XENMEM_decrease_reservation, one extent → guest_remove_page (MODEL.md §3.2). No is_dying check:
 * a zombie's stale entries are acted on.
 */
export function decreaseReservation(ctx: Ctx, s: State, d: DomIndex, gfn: number): number {
  if (isDestroyed(s, d)) return ESRCH; // rcu_lock_domain_by_any_id
  return ctx.xen.guestRemovePage(ctx, s, d, gfn);
}

/**
 * Seed V6.2 XENMEM_remove_from_physmap (§1.9): own RAM is unhooked (still allocated: relinquish
 * reclaims it); a foreign entry, for which 4.4's get_page_from_gfn returns NULL with the type, goes
 * through p2m_remove_foreign; anything else is -ENOENT.
 */
export function removeFromPhysmapSeed(ctx: Ctx, s: State, d: DomIndex, gpfn: number): number {
  if (isDestroyed(s, d)) return ESRCH; // rcu_lock_domain_by_any_id
  // xsm_remove_from_physmap(XSM_TARGET, current, d): dom0 is privileged
  const { page, t } = ctx.xen.getPageFromGfn(ctx, s, d, gpfn);
  if (page !== null) {
    ctx.xen.guestPhysmapRemovePage(ctx, s, d, gpfn, page);
    ctx.xen.putPage(ctx, s, page);
    return 0;
  }
  if (p2mIsForeign(t)) return ctx.xen.p2mRemoveForeign(ctx, s, d, gpfn);
  return ENOENT;
}

/**
 * Xen 4.5 XENMEM_remove_from_physmap (50fe6e7370): get_page_from_gfn takes a temporary reference on
 * a foreign entry too; the generic path removes the entry (the write puts the mapping reference),
 * then puts the temporary one.
 */
export function removeFromPhysmap45(ctx: Ctx, s: State, d: DomIndex, gpfn: number): number {
  if (isDestroyed(s, d)) return ESRCH;
  const { page } = ctx.xen.getPageFromGfn(ctx, s, d, gpfn);
  if (page === null) return ENOENT;
  ctx.xen.guestPhysmapRemovePage(ctx, s, d, gpfn, page);
  ctx.xen.putPage(ctx, s, page);
  return 0;
}

/**
 * XENMEM_remove_from_physmap after XSA-222 (a0cce6048d), as in 4.19: the removal's error is returned
 * (4.5 returned 0 whatever happened).
 */
export function removeFromPhysmap419(ctx: Ctx, s: State, d: DomIndex, gpfn: number): number {
  if (isDestroyed(s, d)) return ESRCH;
  const { page } = ctx.xen.getPageFromGfn(ctx, s, d, gpfn);
  if (page === null) return ENOENT;
  const rc = ctx.xen.guestPhysmapRemovePage(ctx, s, d, gpfn, page);
  ctx.xen.putPage(ctx, s, page);
  return rc;
}

/**
 * Seed: XENMEM_add_to_physmap_range with XENMAPSPACE_gmfn_foreign, one (idx, gpfn) pair:
 * d = rcu_lock_domain_by_any_id(t); fd = get_pg_owner(f), which refuses the caller itself
 * ("Cannot specify itself as foreign domain") → -ESRCH; xsm_add_to_physmap(XSM_TARGET, current, d,
 * fd) allows the privileged caller; xenmem_add_to_physmap_once → p2m_add_foreign(d, idx, gpfn, fd).
 */
export function addToPhysmapForeignSeed(ctx: Ctx, s: State, t: DomIndex, gT: number, f: DomIndex, gF: number): number {
  if (isDestroyed(s, t) || isDestroyed(s, f)) return ESRCH;
  if (f === callerDomain(ctx)) return ESRCH;
  return ctx.xen.p2mAddForeign(ctx, s, t, gF, gT, f);
}

/**
 * Xen 4.5: XENMEM_add_to_physmap_batch → xenmem_add_to_physmap_one → p2m_add_foreign(d, idx, gpfn,
 * foreign_domid), which looks fdom up itself (rcu_lock_domain_by_any_id: finds dying domains too).
 */
export function addToPhysmapForeign45(ctx: Ctx, s: State, t: DomIndex, gT: number, f: DomIndex, gF: number): number {
  if (isDestroyed(s, t) || isDestroyed(s, f)) return ESRCH;
  return ctx.xen.p2mAddForeign(ctx, s, t, gF, gT, f);
}


/**
 * guest_remove_page(d, gmfn) after XSA-222 (a0cce6048d, b614f642c3), as in 4.19: -ENOENT (7867181b2a) for an
 * invalid entry; get_page(page, d) must succeed, else -ENXIO (a foreign or grant entry); the p2m
 * entry is removed first and _PGC_allocated is dropped only if the removal succeeded.
 */
export function guestRemovePage419(ctx: Ctx, s: State, d: DomIndex, gmfn: number): number {
  p2mLock(ctx, d); // mfn = get_gfn_query(d, gmfn, &p2mt)
  const e = s.p2m[d]![gmfn]!;
  if (e === null) {
    p2mUnlock(ctx, d); // put_gfn(d, gmfn)
    return ENOENT; // p2mt == p2m_invalid
  }
  const mfn = e.mfn;
  if (!ctx.xen.getPage(ctx, s, mfn, d)) {
    p2mUnlock(ctx, d); // put_gfn(d, gmfn)
    return ENXIO; // "Bad page free"
  }
  const rc = ctx.xen.guestPhysmapRemovePage(ctx, s, d, gmfn, mfn);
  if (rc === 0) dropAllocationReference(ctx, s, mfn);
  ctx.xen.putPage(ctx, s, mfn);
  p2mUnlock(ctx, d); // out_put_gfn: put_gfn(d, gmfn)
  return rc;
}

/**
 * As in 4.19 (173ae32502, Xen 4.15): XENMEM_add_to_physmap_batch → p2m_add_foreign, where
 * rcu_lock_remote_domain_by_id(foreigndom) refuses the caller itself with -EPERM.
 */
export function addToPhysmapForeign419(ctx: Ctx, s: State, t: DomIndex, gT: number, f: DomIndex, gF: number): number {
  if (isDestroyed(s, t) || isDestroyed(s, f)) return ESRCH;
  if (f === callerDomain(ctx)) return EPERM;
  return ctx.xen.p2mAddForeign(ctx, s, t, gF, gT, f);
}
