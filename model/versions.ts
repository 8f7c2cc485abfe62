// Which Xen function bodies are in force for each version (MODEL.md §5). A mutant or a --variant
// file derives a table from one of these by overriding entries.
import * as domain from './domain.js';
import * as memory from './memory.js';
import * as p2m from './p2m.js';
import * as page from './page.js';
import type { Version } from './types.js';
import type { TlbFlushPolicy, XenFunctions } from './xen.js';

/** The write flushes the translation it removed before it returns: nothing is left pending. */
const FLUSH_IN_WRITE: TlbFlushPolicy = { at: 'write', allocatorFlushReaches: true };
/**
 * EPT from 09fc40ed30 (Xen 4.7): ept_sync_domain marks every CPU in ept->invalidate and, with
 * p2m->defer_flush, leaves the IPI to the outermost p2m_unlock; a CPU forced out of the guest by the
 * allocator's flush IPI runs INVEPT at its next VM entry.
 */
const EPT_DEFERRED: TlbFlushPolicy = { at: 'unlock', allocatorFlushReaches: true };
/**
 * NPT from e1604ea827 (2026-03-23, RELEASE-4.22.0): hap_write_p2m_entry_post only sets
 * p2m->need_flush; hap_p2m_tlb_flush at the outermost p2m_unlock tickles the guest ASIDs. The
 * allocator's FLUSH_TLB IPI does not (no FLUSH_HVM_ASID_CORE), so a nested translation survives it.
 */
const NPT_DEFERRED: TlbFlushPolicy = { at: 'unlock', allocatorFlushReaches: false };

/**
 * Seed V6.2 (Dec 2013) on Xen 4.4, with set_typed_p2m_entry and p2m_remove_page's foreign guard of
 * the committed patch 4/7 (243cebb3df; the V6 text of 4/7 is not available).
 */
export const SEED: XenFunctions = {
  version: 'seed',
  finalTeardownReleasesForeign: false,
  relinquishPhases: ['paging', 'memory'],
  // Xen 4.4: ept_set_entry calls ept_sync_domain after the write; p2m-pt.c flushes in its write too
  tlbFlush: { ept: FLUSH_IN_WRITE, pt: FLUSH_IN_WRITE },
  getPage: page.getPage,
  putPage: page.putPage,
  pageGetOwnerAndReference: page.pageGetOwnerAndReference,
  freeDomheapPage: page.freeDomheapPage,
  assignPages: page.assignPages,
  atomicWriteEptEntry: p2m.atomicWriteEptEntrySeed,
  p2mPtSetEntry: p2m.p2mPtSetEntryRefusingForeign,
  p2mSetEntry: p2m.p2mSetEntry44,
  p2mEntryModify: p2m.p2mEntryModify419, // not called by the 2013/2014 backends
  p2mEntryModifyGetNew: p2m.p2mEntryModifyGetNew419,
  p2mEntryModifyPutOld: p2m.p2mEntryModifyPutOld419,
  setTypedP2mEntry: p2m.setTypedP2mEntrySeed,
  setForeignP2mEntry: p2m.setForeignP2mEntry,
  p2mRemovePage: p2m.p2mRemovePage,
  guestPhysmapRemovePage: p2m.guestPhysmapRemovePage,
  getPageFromGfn: p2m.getPageFromGfn44,
  hapAlloc: p2m.hapAlloc44,
  p2mAddForeign: p2m.p2mAddForeignSeed,
  p2mRemoveForeign: p2m.p2mRemoveForeignSeed,
  xsmMapGmfnForeign: p2m.xsmMapGmfnForeign, // not called before 4.19: the seed's hook judged the caller
  guestRemovePage: memory.guestRemovePage44,
  populatePhysmap: memory.populatePhysmap44,
  decreaseReservation: memory.decreaseReservation,
  removeFromPhysmap: memory.removeFromPhysmapSeed,
  addToPhysmapForeign: memory.addToPhysmapForeignSeed,
  p2mChangeEntryTypeGlobal: p2m.p2mChangeEntryTypeGlobal,
  setLogDirty: p2m.setLogDirty,
  domainKillBegin: domain.domainKillBegin,
  domainKill: domain.domainKill,
  domainRelinquishResources: domain.domainRelinquishResources,
  relinquishP2mMapping: domain.relinquishP2mMappingAbsent,
  relinquishMemory: domain.relinquishMemory,
  pagingTeardown: p2m.pagingTeardown44,
  p2mTeardown: p2m.p2mTeardownDiscarding,
  domainCrash: domain.domainCrash,
};

/** Xen 4.5: 92bc02ab69 + 50fe6e7370 (hardware domain only, RAM sources, 4.5 EPT write). */
export const XEN_4_5: XenFunctions = {
  ...SEED,
  version: 'xen-4.5',
  atomicWriteEptEntry: p2m.atomicWriteEptEntry45,
  setTypedP2mEntry: p2m.setTypedP2mEntry45,
  getPageFromGfn: p2m.getPageFromGfn45,
  p2mAddForeign: p2m.p2mAddForeign45,
  p2mRemoveForeign: p2m.p2mRemoveForeignAbsent,
  removeFromPhysmap: memory.removeFromPhysmap45,
  addToPhysmapForeign: memory.addToPhysmapForeign45,
};

/**
 * Xen 4.19: 845a60b63b (foreign references dropped during kill by relinquish_p2m_mapping, before the
 * root clear of teardown's paging phase, 1df52a2702), XSM judging the target domain (xsm_map_gmfn_foreign: the control domain or a device
 * model of the source), XSA-222's guest_remove_page, p2m_remove_entry and aborting previous-page
 * removal, p2m_entry_modify on both backends (PT counts too), XSA-410's hap_alloc refusing dying
 * domains (ff600a8cf8).
 */
export const XEN_4_19: XenFunctions = {
  ...XEN_4_5,
  version: 'xen-4.19',
  relinquishPhases: ['mappings', 'paging', 'memory'],
  // RELEASE-4.19.0: EPT defers (ept_sync_domain under p2m->defer_flush); NPT's
  // hap_write_p2m_entry_post calls guest_flush_tlb_mask at once
  tlbFlush: { ept: EPT_DEFERRED, pt: FLUSH_IN_WRITE },
  atomicWriteEptEntry: p2m.atomicWriteEptEntry419,
  p2mPtSetEntry: p2m.p2mPtSetEntry419,
  p2mEntryModify: p2m.p2mEntryModify419,
  p2mEntryModifyPutOld: p2m.p2mEntryModifyPutOld419,
  setTypedP2mEntry: p2m.setTypedP2mEntryHead,
  p2mRemovePage: p2m.p2mRemovePage419,
  hapAlloc: p2m.hapAlloc419,
  p2mAddForeign: p2m.p2mAddForeign419,
  guestRemovePage: memory.guestRemovePage419,
  populatePhysmap: memory.populatePhysmap416, // a16cf950fc
  getPageFromGfn: p2m.getPageFromGfn419,
  removeFromPhysmap: memory.removeFromPhysmap419,
  addToPhysmapForeign: memory.addToPhysmapForeign419,
  relinquishP2mMapping: domain.relinquishP2mMapping,
  pagingTeardown: p2m.pagingTeardown419,
};

/**
 * HEAD (read at master c447b7308b): 4.19 plus ac607edc2e (§3.6 L; its fault at teardown is inferred
 * from the source, not reported) and a8325f981c (get_page_from_gfn puts and returns NULL, in release
 * builds, for a foreign entry on the querying domain's own frame).
 */
export const HEAD: XenFunctions = {
  ...XEN_4_19,
  version: 'head',
  tlbFlush: { ept: EPT_DEFERRED, pt: NPT_DEFERRED }, // e1604ea827
  p2mRemovePage: p2m.p2mRemovePageHead, // b04114ae2d
  p2mEntryModifyPutOld: p2m.p2mEntryModifyPutOldHead,
  getPageFromGfn: p2m.getPageFromGfnHead,
};

export const VERSION_TABLES: Record<Version, XenFunctions> = {
  seed: SEED,
  'xen-4.5': XEN_4_5,
  'xen-4.19': XEN_4_19,
  head: HEAD,
};
