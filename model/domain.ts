// Teardown: xen/common/domain.c domain_kill, xen/arch/x86/domain.c domain_relinquish_resources and
// relinquish_memory (xen-foreign-protocol.md §1.11).
import { bug } from './fault.js';
import { completeDomainDestroy, getPage, putPage, totPages } from './page.js';
import { EINVAL, ESRCH, type DomIndex, type State } from './types.js';
import type { Ctx } from './xen.js';

/**
 * The toolstack's destroy (MODEL.md §3.5), atomic: domain_kill runs every relinquish step and
 * finishes. The hardware domain answers -EINVAL unless the universe makes it destroyable.
 */
export function destroyDomain(ctx: Ctx, s: State, d: DomIndex): number {
  if (ctx.u.domains[d]!.hardware && !ctx.u.hardwareDomainDestroyable) return EINVAL;
  const life = s.domains[d]!.life;
  if (life === 'destroyed') return ESRCH; // rcu_lock_domain_by_id fails
  if (life === 'dead') return 0; // domain_kill on DOMDYING_dead: nothing left to do
  return ctx.xen.domainKill(ctx, s, d);
}

/**
 * domain_kill(d): alive → dying (is_dying set); domain_relinquish_resources to completion; → dead;
 * put_domain drops the creation reference. With tot_pages already 0 that was the last reference and
 * complete_domain_destroy runs at once.
 */
export function domainKill(ctx: Ctx, s: State, d: DomIndex): number {
  const dom = s.domains[d]!;
  if (dom.life === 'alive') dom.life = 'dying';
  const rc = ctx.xen.domainRelinquishResources(ctx, s, d);
  if (rc !== 0) return rc;
  dom.life = 'dead';
  dom.relinquish = null;
  if (totPages(s, d) === 0) completeDomainDestroy(ctx, s, d); // put_domain(d): refcnt reaches 0
  return 0;
}

/**
 * domain_relinquish_resources(d), Xen 4.4 (seed and 4.5): paging_teardown frees the HAP pool but
 * leaves every p2m entry in place; relinquish_shared_pages (nothing shared by default); then
 * relinquish_memory over page_list. The p2m stays, stale, until the domain is destroyed.
 */
export function domainRelinquishResources44(ctx: Ctx, s: State, d: DomIndex): number {
  return ctx.xen.relinquishMemory(ctx, s, d);
}

/**
 * relinquish_memory(d, &d->page_list): for each page d owns (in frame order): get_page or skip;
 * clear _PGC_allocated and put; put. Frames that another domain maps survive with the mapping's
 * reference.
 */
export function relinquishMemory(ctx: Ctx, s: State, d: DomIndex): number {
  for (let mfn = 0; mfn < s.frames.length; mfn++) {
    const pg = s.frames[mfn]!;
    if (pg.owner !== d) continue;
    if (!getPage(ctx, s, mfn, d)) continue; // "Couldn't get a reference: the page is being freed"
    if (pg.allocated) {
      pg.allocated = false;
      putPage(ctx, s, mfn);
    }
    putPage(ctx, s, mfn);
  }
  return 0;
}

/** Seed and 4.5 have no relinquish_p2m_mapping (845a60b63b adds it in 2024). */
export function relinquishP2mMappingAbsent(_ctx: Ctx, _s: State, _d: DomIndex): number {
  return 0;
}

/**
 * domain_crash(d): the hardware domain crashing is a fault (Xen reboots the host). Another domain
 * is shut down as crashed and the toolstack destroys it later: that is the `destroy` operation, so
 * the model records nothing here.
 */
export function domainCrash(ctx: Ctx, _s: State, d: DomIndex): void {
  if (ctx.u.domains[d]!.hardware) bug('hardware-domain-crashed');
}
