// The table of Xen functions in force. A version (model/versions.ts) is one such table; a mutant or a
// user's --variant file overrides some of its entries. Every function calls the others through
// `ctx.xen`, never directly, so that an override takes effect wherever Xen would call it.
//
// Conventions: each function takes the context, the state (an immer draft or a plain mutable copy:
// it is mutated the way the C mutates memory) and the C's arguments. Return codes are 0 or a negative
// errno throughout, even where the C of 2013 used 1/0 (xen-foreign-protocol.md §1.12); the comment of
// each function says what the C returned.
import type { Universe } from './config.js';
import type { DomIndex, Entry, P2mType, State } from './types.js';

export interface PageFromGfn {
  /** The frame a reference was taken on, or null (nothing taken). */
  page: number | null;
  /** The type the lookup reported (`*t`), null for p2m_invalid. */
  t: P2mType | null;
}

export interface XenFunctions {
  /** Which version this table is (or is derived from). */
  readonly version: string;
  /**
   * Whether the final teardown of a p2m (p2m_teardown at complete_domain_destroy) drops the
   * references of the foreign entries it discards. No real version does; a mutant may.
   */
  readonly finalTeardownReleasesForeign: boolean;

  // xen/arch/x86/mm/p2m-ept.c, p2m-pt.c, p2m.c: writing one p2m entry
  atomicWriteEptEntry(ctx: Ctx, s: State, d: DomIndex, gfn: number, e: Entry | null): number;
  p2mPtSetEntry(ctx: Ctx, s: State, d: DomIndex, gfn: number, e: Entry | null): number;
  p2mSetEntry(ctx: Ctx, s: State, d: DomIndex, gfn: number, e: Entry | null): number;
  setTypedP2mEntry(ctx: Ctx, s: State, d: DomIndex, gfn: number, mfn: number, t: P2mType): number;
  setForeignP2mEntry(ctx: Ctx, s: State, d: DomIndex, gfn: number, mfn: number): number;
  p2mRemovePage(ctx: Ctx, s: State, d: DomIndex, gfn: number, mfn: number): number;
  guestPhysmapRemovePage(ctx: Ctx, s: State, d: DomIndex, gfn: number, mfn: number): number;
  getPageFromGfn(ctx: Ctx, s: State, d: DomIndex, gfn: number): PageFromGfn;

  // xen/arch/x86/mm/p2m.c: the foreign map and unmap
  p2mAddForeign(ctx: Ctx, s: State, tdom: DomIndex, fgfn: number, gpfn: number, fdom: DomIndex): number;
  p2mRemoveForeign(ctx: Ctx, s: State, d: DomIndex, gpfn: number): number;

  // xen/common/memory.c
  guestRemovePage(ctx: Ctx, s: State, d: DomIndex, gmfn: number): number;
  populatePhysmap(ctx: Ctx, s: State, d: DomIndex, gfn: number): number;
  decreaseReservation(ctx: Ctx, s: State, d: DomIndex, gfn: number): number;
  removeFromPhysmap(ctx: Ctx, s: State, d: DomIndex, gpfn: number): number;
  addToPhysmapForeign(ctx: Ctx, s: State, t: DomIndex, gT: number, f: DomIndex, gF: number): number;

  // xen/common/domain.c, xen/arch/x86/domain.c: teardown
  domainKill(ctx: Ctx, s: State, d: DomIndex): number;
  domainRelinquishResources(ctx: Ctx, s: State, d: DomIndex): number;
  relinquishP2mMapping(ctx: Ctx, s: State, d: DomIndex): number;
  relinquishMemory(ctx: Ctx, s: State, d: DomIndex): number;
  p2mTeardown(ctx: Ctx, s: State, d: DomIndex): void;
  domainCrash(ctx: Ctx, s: State, d: DomIndex): void;
}

export interface Ctx {
  readonly u: Universe;
  readonly xen: XenFunctions;
}

export type XenFunctionName = Exclude<keyof XenFunctions, 'version' | 'finalTeardownReleasesForeign'>;
