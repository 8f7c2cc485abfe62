// The table of Xen functions in force. A version (model/versions.ts) is one such table; a mutant or a
// user's --variant file overrides some of its entries. Every function calls the others through
// `ctx.xen`, never directly, so that an override takes effect wherever Xen would call it.
//
// Conventions: each function takes the context, the state (an immer draft or a plain mutable copy:
// it is mutated the way the C mutates memory) and the C's arguments. Return codes are 0 or a negative
// errno throughout, even where the C of 2013 used 1/0 (xen-foreign-protocol.md §1.12); the comment of
// each function says what the C returned.
import type { Universe } from './config.js';
import type { Sched } from './sched.js';
import type { Backend, DomIndex, Entry, Owner, P2mType, RelinquishPhase, State } from './types.js';

export interface PageFromGfn {
  /** The frame a reference was taken on, or null (nothing taken). */
  page: number | null;
  /** The type the lookup reported (`*t`), null for p2m_invalid. */
  t: P2mType | null;
}

export interface XenFunctions {
  // xen/arch/x86/mm.c, xen/common/page_alloc.c: the page primitives (MODEL.md §2)
  getPage(ctx: Ctx, s: State, mfn: number, d: Owner): boolean;
  /** put_page; `note` says what the reference was for (the ledger shows it). */
  putPage(ctx: Ctx, s: State, mfn: number | null, note?: string): void;
  /** The owner, with a reference taken; undefined when the frame is free (no reference taken). */
  pageGetOwnerAndReference(ctx: Ctx, s: State, mfn: number): Owner | undefined;
  freeDomheapPage(ctx: Ctx, s: State, mfn: number): void;
  assignPages(ctx: Ctx, s: State, d: DomIndex, mfn: number): void;

  /** Which version this table is (or is derived from). */
  readonly version: string;
  /**
   * Whether the final teardown of a p2m (p2m_teardown at complete_domain_destroy) drops the
   * references of the foreign entries it discards. No real version does; a mutant may.
   */
  readonly finalTeardownReleasesForeign: boolean;
  /** The phases of domain_relinquish_resources that touch model state, in order. */
  readonly relinquishPhases: readonly RelinquishPhase[];
  /**
   * When a translation removed by an entry write leaves the guest's TLB, per backend (MODEL.md §6,
   * r5): the version's C decides it, and only `steps` granularity can tell the difference.
   */
  readonly tlbFlush: Readonly<Record<Backend, TlbFlushPolicy>>;

  // xen/arch/x86/mm/p2m-ept.c, p2m-pt.c, p2m.c: writing one p2m entry
  atomicWriteEptEntry(ctx: Ctx, s: State, d: DomIndex, gfn: number, e: Entry | null): number;
  p2mPtSetEntry(ctx: Ctx, s: State, d: DomIndex, gfn: number, e: Entry | null): number;
  p2mSetEntry(ctx: Ctx, s: State, d: DomIndex, gfn: number, e: Entry | null): number;
  /** p2m_entry_modify (from c7a4c088ad and ce0224bf96, Xen 4.12; unused by the seed and 4.5 backends). */
  p2mEntryModify(ctx: Ctx, s: State, d: DomIndex, gfn: number, e: Entry | null): number;
  /** p2m_entry_modify's get half: the new foreign entry's reference (0, or -EBUSY and nothing taken). */
  p2mEntryModifyGetNew(ctx: Ctx, s: State, mfn: number): number;
  /** p2m_entry_modify's put half: the old foreign entry's reference (0, or an error and nothing put). */
  p2mEntryModifyPutOld(ctx: Ctx, s: State, mfn: number): number;
  setTypedP2mEntry(ctx: Ctx, s: State, d: DomIndex, gfn: number, mfn: number, t: P2mType): number;
  setForeignP2mEntry(ctx: Ctx, s: State, d: DomIndex, gfn: number, mfn: number): number;
  p2mRemovePage(ctx: Ctx, s: State, d: DomIndex, gfn: number, mfn: number): number;
  guestPhysmapRemovePage(ctx: Ctx, s: State, d: DomIndex, gfn: number, mfn: number): number;
  getPageFromGfn(ctx: Ctx, s: State, d: DomIndex, gfn: number): PageFromGfn;
  /** The paging pool's allocator (hap_alloc) for a p2m table page: true when a page was had. */
  hapAlloc(ctx: Ctx, s: State, d: DomIndex): boolean;

  // xen/arch/x86/mm/p2m.c: the foreign map and unmap
  p2mAddForeign(ctx: Ctx, s: State, tdom: DomIndex, fgfn: number, gpfn: number, fdom: DomIndex): number;
  p2mRemoveForeign(ctx: Ctx, s: State, d: DomIndex, gpfn: number): number;
  /** xsm_map_gmfn_foreign(XSM_TARGET, tdom, fdom): 0 or -EPERM (from Xen 4.19 in the model). */
  xsmMapGmfnForeign(ctx: Ctx, s: State, tdom: DomIndex, fdom: DomIndex): number;

  // xen/common/memory.c
  guestRemovePage(ctx: Ctx, s: State, d: DomIndex, gmfn: number): number;
  populatePhysmap(ctx: Ctx, s: State, d: DomIndex, gfn: number): number;
  decreaseReservation(ctx: Ctx, s: State, d: DomIndex, gfn: number): number;
  removeFromPhysmap(ctx: Ctx, s: State, d: DomIndex, gpfn: number): number;
  addToPhysmapForeign(ctx: Ctx, s: State, t: DomIndex, gT: number, f: DomIndex, gF: number): number;

  // the log-dirty type change (p2m_change_entry_type_global), optional operation set_log_dirty
  p2mChangeEntryTypeGlobal(ctx: Ctx, s: State, d: DomIndex, ot: P2mType, nt: P2mType): void;
  setLogDirty(ctx: Ctx, s: State, d: DomIndex, on: boolean): number;

  // xen/common/domain.c, xen/arch/x86/domain.c: teardown
  /** domain_kill's first half: alive → dying, is_dying set, relinquish at its first phase. */
  domainKillBegin(ctx: Ctx, s: State, d: DomIndex): void;
  domainKill(ctx: Ctx, s: State, d: DomIndex, p: Preempt): number;
  domainRelinquishResources(ctx: Ctx, s: State, d: DomIndex, p: Preempt): number;
  relinquishP2mMapping(ctx: Ctx, s: State, d: DomIndex, p: Preempt): number;
  relinquishMemory(ctx: Ctx, s: State, d: DomIndex, p: Preempt): number;
  /** The `paging` phase: paging_teardown → hap_teardown (the pool emptied; from 1df52a2702, XSA-410, the root cleared). */
  pagingTeardown(ctx: Ctx, s: State, d: DomIndex, p: Preempt): number;
  /** p2m_teardown at complete_domain_destroy (final destroy). */
  p2mTeardown(ctx: Ctx, s: State, d: DomIndex): void;
  domainCrash(ctx: Ctx, s: State, d: DomIndex): void;
}

/**
 * How a backend's entry write gets rid of the translation it removed (docs/semantics.md, "When a
 * removed translation leaves the TLB").
 */
export interface TlbFlushPolicy {
  /**
   * `write`: the write flushes before it returns (Xen 4.4/4.5 ept_set_entry → ept_sync_domain; 4.19's
   * hap_write_p2m_entry_post → guest_flush_tlb_mask). `unlock`: the write only notes the flush and the
   * outermost p2m_unlock issues it (p2m->defer_flush; EPT from 09fc40ed30, NPT from e1604ea827).
   */
  readonly at: 'write' | 'unlock';
  /**
   * With `unlock`: whether alloc_heap_pages' flush of a freed frame (filtered_flush_tlb_mask →
   * FLUSH_TLB | FLUSH_NO_ASSIST, an IPI to every CPU that may cache it) also ends the pending guest
   * translations. EPT: yes, since the write already marked every CPU in ept->invalidate
   * (ept_sync_domain_prepare) and the IPI forces a VM exit, after which vmx_vmenter_helper issues
   * INVEPT. NPT: no, the IPI flushes no guest ASID (that takes FLUSH_HVM_ASID_CORE), so the stale
   * nested translation stays usable after VMRUN until the deferred flush.
   */
  readonly allocatorFlushReaches: boolean;
}

/** The preemption budget of one domain_kill call, in chunks (Infinity: atomic teardown). */
export interface Preempt {
  budget: number;
}

export interface Ctx {
  readonly u: Universe;
  readonly xen: XenFunctions;
  /** With `steps` granularity, the scheduler of the running segment (model/sched.ts); else undefined. */
  readonly sched?: Sched;
}

export type XenFunctionName = Exclude<keyof XenFunctions, 'version' | 'finalTeardownReleasesForeign' | 'relinquishPhases' | 'tlbFlush'>;

/**
 * What each Xen function returns, so that an override's result is checked when it runs (a variant
 * that forgets a `return` must not pass as rc 0): `rc` 0 or a negative errno, `bool`, `void`, the
 * `{ page, t }` of get_page_from_gfn, an `owner` or undefined. A function missing here is a compile
 * error.
 */
export const XEN_RETURNS = {
  getPage: 'bool',
  putPage: 'void',
  pageGetOwnerAndReference: 'owner',
  freeDomheapPage: 'void',
  assignPages: 'void',
  atomicWriteEptEntry: 'rc',
  p2mPtSetEntry: 'rc',
  p2mSetEntry: 'rc',
  p2mEntryModify: 'rc',
  p2mEntryModifyGetNew: 'rc',
  p2mEntryModifyPutOld: 'rc',
  setTypedP2mEntry: 'rc',
  setForeignP2mEntry: 'rc',
  p2mRemovePage: 'rc',
  guestPhysmapRemovePage: 'rc',
  getPageFromGfn: 'pageFromGfn',
  hapAlloc: 'bool',
  p2mAddForeign: 'rc',
  p2mRemoveForeign: 'rc',
  xsmMapGmfnForeign: 'rc',
  guestRemovePage: 'rc',
  populatePhysmap: 'rc',
  decreaseReservation: 'rc',
  removeFromPhysmap: 'rc',
  addToPhysmapForeign: 'rc',
  p2mChangeEntryTypeGlobal: 'void',
  setLogDirty: 'rc',
  domainKillBegin: 'void',
  domainKill: 'rc',
  domainRelinquishResources: 'rc',
  relinquishP2mMapping: 'rc',
  relinquishMemory: 'rc',
  pagingTeardown: 'rc',
  p2mTeardown: 'void',
  domainCrash: 'void',
} as const satisfies Record<XenFunctionName, 'rc' | 'bool' | 'void' | 'pageFromGfn' | 'owner'>;
