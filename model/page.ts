// Frame primitives, xen/arch/x86/mm.c and xen/common/page_alloc.c @RELEASE-4.4.0
// (xen-foreign-protocol.md §1.1).
import { bug } from './fault.js';
import { activeLedger } from './ledger.js';
import type { Ctx } from './xen.js';
import { allocatorTlbFlush, noteFreed } from './sched.js';
import type { DomIndex, Owner, State } from './types.js';

export function pageGetOwner(s: State, mfn: number): Owner {
  return s.frames[mfn]!.owner;
}

/**
 * page_get_owner_and_reference(): +1 on the count unless it is 0 (a free frame), then the owner,
 * whoever it is. Returns `undefined` when no reference was taken.
 */
export function pageGetOwnerAndReference(_ctx: Ctx, s: State, mfn: number): Owner | undefined {
  const owner = takeReference(s, mfn);
  if (owner !== undefined) activeLedger()?.record(mfn, +1, 'page_get_owner_and_reference');
  return owner;
}

function takeReference(s: State, mfn: number): Owner | undefined {
  const pg = s.frames[mfn]!;
  if (pg.count === 0) return undefined;
  pg.count += 1;
  return pg.owner;
}

/**
 * get_page(page, d): keeps the reference only if the owner is exactly `d`. With `d === null` and a
 * free frame the comparison NULL == NULL "succeeds" without a reference, as in the C (§1.1 caveat).
 */
export function getPage(ctx: Ctx, s: State, mfn: number, d: Owner): boolean {
  const owner = takeReference(s, mfn);
  const ownerOrNull = owner === undefined ? null : owner;
  if (ownerOrNull === d) {
    if (owner !== undefined) activeLedger()?.record(mfn, +1, 'get_page');
    return true;
  }
  if (owner !== undefined && owner !== null) {
    releaseReference(ctx, s, mfn); // taken and dropped again: not a ledger event
  }
  return false;
}

/** put_page(): -1; at 0 the frame goes back to the heap (free_domheap_page). */
export function putPage(ctx: Ctx, s: State, mfn: number | null, note?: string): void {
  if (mfn === null) bug('put_page-null');
  if (s.frames[mfn]!.count > 0) activeLedger()?.record(mfn, -1, 'put_page', note);
  releaseReference(ctx, s, mfn);
}

function releaseReference(ctx: Ctx, s: State, mfn: number): void {
  const pg = s.frames[mfn]!;
  if (pg.count === 0) bug('put_page-count-zero', mfn);
  pg.count -= 1;
  if (pg.count === 0) ctx.xen.freeDomheapPage(ctx, s, mfn);
}

/**
 * `if ( test_and_clear_bit(_PGC_allocated, &page->count_info) ) put_page(page);`: drops the
 * allocation reference, if the frame still has it.
 */
export function dropAllocationReference(ctx: Ctx, s: State, mfn: number): void {
  const pg = s.frames[mfn]!;
  if (!pg.allocated) return;
  pg.allocated = false;
  ctx.xen.putPage(ctx, s, mfn, 'the allocation reference');
}

/**
 * assign_pages() for one frame taken from the heap by alloc_domheap_pages: the frame becomes `d`'s,
 * `count_info = PGC_allocated | 1`.
 */
export function assignPages(ctx: Ctx, s: State, d: DomIndex, mfn: number): void {
  allocatorTlbFlush(ctx, mfn); // alloc_heap_pages: filtered_flush_tlb_mask(tlbflush_timestamp)
  const pg = s.frames[mfn]!;
  pg.owner = d; // page_set_owner
  pg.count = 1;
  pg.allocated = true;
  activeLedger()?.record(mfn, +1, 'assign_pages', 'the allocation reference');
}

/**
 * free_domheap_pages(): the frame leaves its owner's page_list (tot_pages - 1) and is free. When a
 * domain's tot_pages reaches 0, put_domain() drops the reference its memory held; for a dead domain
 * that may be the last one, and complete_domain_destroy() runs (§1.11). (A dying domain still holds
 * its creation reference: domain_kill drops it when it finishes.)
 */
export function freeDomheapPage(ctx: Ctx, s: State, mfn: number): void {
  const pg = s.frames[mfn]!;
  const owner = pg.owner;
  pg.owner = null;
  pg.allocated = false;
  pg.m2p = null;
  noteFreed(ctx, mfn); // free_heap_pages: page->tlbflush_timestamp
  activeLedger()?.record(mfn, 0, 'free_domheap_page');
  if (typeof owner === 'number' && totPages(s, owner) === 0) putDomain(ctx, s, owner);
}

/**
 * Whether anything still holds a reference on domain `d` besides its creation reference: its memory
 * (tot_pages > 0), or a device model of it that is not destroyed (XEN_DOMCTL_set_target: "Hold
 * reference on @e until we destroy @d", put in the device model's complete_domain_destroy).
 * Derived, never stored (MODEL.md §2).
 */
export function domainHeld(ctx: Ctx, s: State, d: DomIndex): boolean {
  if (totPages(s, d) > 0) return true;
  const targets = ctx.u.targets;
  for (let x = 0; x < targets.length; x++) if (targets[x] === d && s.domains[x]!.life !== 'destroyed') return true;
  return false;
}

/** put_domain(d): when a dead domain's last reference goes, complete_domain_destroy runs. */
export function putDomain(ctx: Ctx, s: State, d: DomIndex): void {
  if (s.domains[d]!.life === 'dead' && !domainHeld(ctx, s, d)) completeDomainDestroy(ctx, s, d);
}

/** d->tot_pages: derived, never stored (MODEL.md §2). */
export function totPages(s: State, d: DomIndex): number {
  let n = 0;
  for (const f of s.frames) if (f.owner === d) n += 1;
  return n;
}

/**
 * complete_domain_destroy() → arch_domain_destroy() → paging_final_teardown() → p2m_teardown(); then
 * `if ( d->target != NULL ) put_domain(d->target)`: a device model's destruction may complete its
 * target's in the same step.
 */
export function completeDomainDestroy(ctx: Ctx, s: State, d: DomIndex): void {
  s.domains[d]!.life = 'destroyed';
  s.domains[d]!.relinquish = null;
  ctx.xen.p2mTeardown(ctx, s, d);
  const target = ctx.u.targets[d]!;
  if (target >= 0) putDomain(ctx, s, target);
}
