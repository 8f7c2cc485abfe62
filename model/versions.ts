// Which Xen function bodies are in force for each version (MODEL.md §5). A mutant or a --variant
// file derives a table from one of these by overriding entries.
import * as domain from './domain.js';
import * as memory from './memory.js';
import * as p2m from './p2m.js';
import type { Version } from './types.js';
import type { XenFunctions } from './xen.js';

/** Seed V6.2 (Dec 2013) on Xen 4.4, with set_typed_p2m_entry of the committed 4/7 (243cebb3df). */
export const SEED: XenFunctions = {
  version: 'seed',
  finalTeardownReleasesForeign: false,
  relinquishPhases: ['memory'],
  atomicWriteEptEntry: p2m.atomicWriteEptEntrySeed,
  p2mPtSetEntry: p2m.p2mPtSetEntryRefusingForeign,
  p2mSetEntry: p2m.p2mSetEntry44,
  p2mEntryModify: p2m.p2mEntryModify419, // not called by the 2013/2014 backends
  p2mEntryModifyPutOld: p2m.p2mEntryModifyPutOld419,
  setTypedP2mEntry: p2m.setTypedP2mEntrySeed,
  setForeignP2mEntry: p2m.setForeignP2mEntry,
  p2mRemovePage: p2m.p2mRemovePage,
  guestPhysmapRemovePage: p2m.guestPhysmapRemovePage,
  getPageFromGfn: p2m.getPageFromGfn44,
  p2mAddForeign: p2m.p2mAddForeignSeed,
  p2mRemoveForeign: p2m.p2mRemoveForeignSeed,
  guestRemovePage: memory.guestRemovePage44,
  populatePhysmap: memory.populatePhysmap,
  decreaseReservation: memory.decreaseReservation,
  removeFromPhysmap: memory.removeFromPhysmapSeed,
  addToPhysmapForeign: memory.addToPhysmapForeignSeed,
  p2mChangeEntryTypeGlobal: p2m.p2mChangeEntryTypeGlobal,
  setLogDirty: p2m.setLogDirty,
  domainKill: domain.domainKill,
  domainRelinquishResources: domain.domainRelinquishResources,
  relinquishP2mMapping: domain.relinquishP2mMappingAbsent,
  relinquishMemory: domain.relinquishMemory,
  p2mTeardownClearRoot: p2m.p2mTeardownClearRootAbsent,
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
 * Xen 4.19: 845a60b63b (any HVM/PVH target; foreign references dropped during kill by
 * relinquish_p2m_mapping, then the root cleared), XSA-222's guest_remove_page and aborting
 * previous-page removal, p2m_entry_modify on both backends (PT counts too), XSA-410's refusal of
 * inserts into dying domains.
 */
export const XEN_4_19: XenFunctions = {
  ...XEN_4_5,
  version: 'xen-4.19',
  relinquishPhases: ['mappings', 'paging', 'memory'],
  atomicWriteEptEntry: p2m.atomicWriteEptEntry419,
  p2mPtSetEntry: p2m.p2mPtSetEntry419,
  p2mSetEntry: p2m.p2mSetEntry419,
  p2mEntryModify: p2m.p2mEntryModify419,
  p2mEntryModifyPutOld: p2m.p2mEntryModifyPutOld419,
  setTypedP2mEntry: p2m.setTypedP2mEntryHead,
  p2mAddForeign: p2m.p2mAddForeign419,
  guestRemovePage: memory.guestRemovePage419,
  addToPhysmapForeign: memory.addToPhysmapForeign419,
  relinquishP2mMapping: domain.relinquishP2mMapping,
  p2mTeardownClearRoot: p2m.p2mTeardownClearRoot,
};

/** HEAD: 4.19 plus ac607edc2e (§3.6 L), whose fault is inferred from the source, not reported. */
export const HEAD: XenFunctions = {
  ...XEN_4_19,
  version: 'head',
  p2mEntryModifyPutOld: p2m.p2mEntryModifyPutOldHead,
};

export const VERSION_TABLES: Record<Version, XenFunctions> = {
  seed: SEED,
  'xen-4.5': XEN_4_5,
  'xen-4.19': XEN_4_19,
  head: HEAD,
};
