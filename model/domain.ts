// Teardown: xen/common/domain.c domain_kill, xen/arch/x86/domain.c domain_relinquish_resources and
// relinquish_memory (xen-foreign-protocol.md §1.11, §3.3).
//
// domain_relinquish_resources is a resumable state machine (d->arch.relmem plus a cursor, here
// `domains[d].relinquish`). Atomic teardown runs it to the end in one transition; preemptible
// teardown gives each relinquish_step a budget of one chunk (one gfn of the p2m walk, one frame of
// relinquish_memory, the root clear) and -ERESTART says "call again".
import { assertUnreachable, bug, xenAssert } from './fault.js';
import { dropAllocationReference, putDomain } from './page.js';
import { preemptCheck } from './preempt.js';
import { EINVAL, ERESTART, ESRCH, type DomIndex, type Relinquish, type RelinquishPhase, type State } from './types.js';
import type { Ctx, Preempt } from './xen.js';

export { NO_PREEMPTION, preemptCheck } from './preempt.js';

function mayDestroy(ctx: Ctx, d: DomIndex): boolean {
  return !ctx.u.domains[d]!.hardware || ctx.u.hardwareDomainDestroyable;
}

/**
 * The toolstack's destroy (MODEL.md §3.5), atomic: domain_kill runs every relinquish step and
 * finishes. The hardware domain answers -EINVAL unless the universe makes it destroyable.
 */
export function destroyDomain(ctx: Ctx, s: State, d: DomIndex): number {
  if (!mayDestroy(ctx, d)) return EINVAL;
  const life = s.domains[d]!.life;
  if (life === 'destroyed') return ESRCH; // rcu_lock_domain_by_id fails
  if (life === 'dead') return 0; // domain_kill on DOMDYING_dead: nothing left to do
  return ctx.xen.domainKill(ctx, s, d, { budget: Infinity });
}

/**
 * Preemptible teardown, first half of domain_kill: alive → dying (domain_pause, is_dying set;
 * event channels and grants have no model state). No relinquish work yet.
 */
export function killBegin(ctx: Ctx, s: State, d: DomIndex): number {
  if (!mayDestroy(ctx, d)) return EINVAL;
  const dom = s.domains[d]!;
  if (dom.life === 'destroyed') return ESRCH;
  if (dom.life !== 'alive') return 0; // already dying or dead: relinquish_step carries on
  ctx.xen.domainKillBegin(ctx, s, d);
  return 0;
}

/**
 * Preemptible teardown: the toolstack calls domain_kill again; one chunk of relinquish work runs,
 * and when the last phase is done the domain dies in the same step (the automatic finish). A
 * preempted call returns -ERESTART to the toolstack as a continuation: the model reports 0.
 */
export function relinquishStep(ctx: Ctx, s: State, d: DomIndex): number {
  if (s.domains[d]!.life === 'destroyed') return ESRCH;
  if (s.domains[d]!.life !== 'dying') return EINVAL; // nothing to relinquish
  const rc = ctx.xen.domainKill(ctx, s, d, { budget: 1 });
  return rc === ERESTART ? 0 : rc;
}

/**
 * domain_kill(d): alive → dying (is_dying set); domain_relinquish_resources (to completion, or
 * until preempted or failed: a dying domain re-enters here on the next call); → dead; put_domain
 * drops the creation reference. With tot_pages already 0 and no device model holding it, that was
 * the last reference and complete_domain_destroy runs at once.
 */
export function domainKill(ctx: Ctx, s: State, d: DomIndex, p: Preempt): number {
  const dom = s.domains[d]!;
  if (dom.life === 'alive') ctx.xen.domainKillBegin(ctx, s, d);
  const rc = ctx.xen.domainRelinquishResources(ctx, s, d, p);
  if (rc !== 0) return rc;
  dom.life = 'dead';
  dom.relinquish = null;
  putDomain(ctx, s, d); // the creation reference
  return 0;
}

/**
 * domain_kill's first half (DOMDYING_alive): domain_pause, is_dying = DOMDYING_dying; event channels
 * and grants have no model state. The relinquish state machine starts at the version's first phase.
 */
export function domainKillBegin(ctx: Ctx, s: State, d: DomIndex): void {
  const dom = s.domains[d]!;
  dom.life = 'dying';
  dom.relinquish = { phase: ctx.xen.relinquishPhases[0]!, cursor: 0 };
}

function relmem(s: State, d: DomIndex): Relinquish {
  return s.domains[d]!.relinquish!;
}

function enterPhase(r: Relinquish, phase: RelinquishPhase): void {
  r.phase = phase;
  r.cursor = 0;
}

/**
 * domain_relinquish_resources(d): the phases of the version (`relinquishPhases`) in order.
 * Seed and 4.5 (Xen 4.4's state machine): RELMEM_not_started's paging_teardown empties the HAP pool
 * but leaves every p2m entry and table; relinquish_shared_pages has nothing to do; relinquish_memory
 * over page_list. The p2m stays, stale, until the domain is destroyed.
 * From 845a60b63b: PROG_mappings (relinquish_p2m_mapping) runs after `shared` and before `paging`,
 * whose p2m_teardown(remove_root=false) (1df52a2702, XSA-410) clears the root: every remaining entry
 * vanishes without reference handling; then memory.
 */
export function domainRelinquishResources(ctx: Ctx, s: State, d: DomIndex, p: Preempt): number {
  const r = relmem(s, d);
  const phases = ctx.xen.relinquishPhases;
  for (;;) {
    let rc = 0;
    switch (r.phase) {
      case 'mappings':
        rc = ctx.xen.relinquishP2mMapping(ctx, s, d, p);
        break;
      case 'paging':
        rc = ctx.xen.pagingTeardown(ctx, s, d, p);
        break;
      case 'memory':
        rc = ctx.xen.relinquishMemory(ctx, s, d, p);
        break;
      case 'done':
        return 0;
    }
    if (rc !== 0) return rc;
    enterPhase(r, phases[phases.indexOf(r.phase) + 1] ?? 'done');
  }
}

/**
 * relinquish_memory(d, &d->page_list): for each page d owns (frame order, from the cursor):
 * get_page or skip; clear _PGC_allocated and put; put; hypercall_preempt_check after each page.
 * Frames another domain maps survive with the mapping's reference.
 */
export function relinquishMemory(ctx: Ctx, s: State, d: DomIndex, p: Preempt): number {
  const r = relmem(s, d);
  for (let mfn = r.cursor; mfn < s.frames.length; mfn++) {
    const pg = s.frames[mfn]!;
    if (pg.owner !== d) continue;
    if (preemptCheck(p)) {
      r.cursor = mfn;
      return ERESTART;
    }
    if (!ctx.xen.getPage(ctx, s, mfn, d)) continue; // "Couldn't get a reference: the page is being freed"
    dropAllocationReference(ctx, s, mfn);
    ctx.xen.putPage(ctx, s, mfn);
  }
  r.cursor = s.frames.length;
  return 0;
}

/**
 * relinquish_p2m_mapping(d) (845a60b63b, unchanged to c447b7308b): from the cursor
 * p2m->teardown_gfn, every foreign entry is set to (INVALID_MFN, p2m_invalid), which puts its
 * reference; a failure is ASSERT_UNREACHABLE and breaks out without advancing, so the gfn is retried;
 * preemption is checked per foreign entry here (Xen: every 256 iterations). On the way out,
 * `ASSERT(gfn <= p2m->max_mapped_pfn || !p2m->nr_foreign)`: a walk that reached the end with a
 * foreign entry left (one inserted behind the cursor while the walk was preempted) fails it.
 */
export function relinquishP2mMapping(ctx: Ctx, s: State, d: DomIndex, p: Preempt): number {
  const r = relmem(s, d);
  const p2m = s.p2m[d]!;
  for (let gfn = r.cursor; gfn < p2m.length; gfn++) {
    const e = p2m[gfn]!;
    if (e === null || e.type !== 'map_foreign') continue;
    if (preemptCheck(p)) {
      r.cursor = gfn;
      return ERESTART;
    }
    const rc = ctx.xen.p2mSetEntry(ctx, s, d, gfn, null);
    if (rc !== 0) {
      assertUnreachable(ctx, 'assert-relinquish-removal-failed', e.mfn);
      r.cursor = gfn; // break without advancing
      return rc;
    }
  }
  r.cursor = p2m.length;
  const left = p2m.findIndex((e) => e !== null && e.type === 'map_foreign');
  xenAssert(ctx, left < 0, 'assert-relinquish-foreign-left', left < 0 ? null : p2m[left]!.mfn);
  return 0;
}

/** Seed and 4.5 have no relinquish_p2m_mapping (845a60b63b adds it in 2024). */
export function relinquishP2mMappingAbsent(_ctx: Ctx, _s: State, _d: DomIndex, _p: Preempt): number {
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
