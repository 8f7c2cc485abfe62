// p2m type predicates, xen/include/asm-x86/p2m.h (xen-foreign-protocol.md §1.2). Eras differ in which
// predicate they test, so keep them exact.
import type { Entry, P2mType } from '../types.js';

export type MaybeType = P2mType | null; // null: p2m_invalid

/** p2m_is_ram: rw, logdirty, ro, paging_*, shared. */
export function p2mIsRam(t: MaybeType): boolean {
  return t === 'ram_rw' || t === 'ram_logdirty' || t === 'ram_shared';
}
/** p2m_is_valid: RAM or MMIO; not grant, not foreign. */
export function p2mIsValid(t: MaybeType): boolean {
  return p2mIsRam(t);
}
/** p2m_is_hole: mmio_dm, invalid, paging_in, paged. */
export function p2mIsHole(t: MaybeType): boolean {
  return t === null;
}
export function p2mIsShared(t: MaybeType): boolean {
  return t === 'ram_shared';
}
export function p2mIsForeign(t: MaybeType): boolean {
  return t === 'map_foreign';
}
/** p2m_is_grant: the model has no grant entries. */
export function p2mIsGrant(_t: MaybeType): boolean {
  return false;
}
/** p2m_is_any_ram (50fe6e7370): RAM, grant or foreign. */
export function p2mIsAnyRam(t: MaybeType): boolean {
  return p2mIsRam(t) || p2mIsGrant(t) || p2mIsForeign(t);
}

export function entryType(e: Entry | null): MaybeType {
  return e === null ? null : e.type;
}

/** Whether a write changes (mfn, type): the `changed` of atomic_write_ept_entry / p2m_entry_modify. */
export function entryChanged(old: Entry | null, neu: Entry | null): boolean {
  if (old === null || neu === null) return old !== neu;
  return old.mfn !== neu.mfn || old.type !== neu.type;
}
