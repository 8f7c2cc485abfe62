// The EPT backend's entry write, xen/arch/x86/mm/p2m-ept.c (xen-foreign-protocol.md §1.5).
import { pageGetOwner } from '../page.js';
import { EBUSY, ESRCH, type DomIndex, type Entry, type State } from '../types.js';
import type { Ctx } from '../xen.js';
import { writeEntry } from '../sched.js';
import { entryChanged, entryType, p2mIsForeign } from './types.js';

/**
 * Seed V6.2 `atomic_write_ept_entry(entryptr, new)`: a foreign new entry takes a reference with
 * get_page(page, page_get_owner(page)), its result ignored; an old foreign entry is put *before* the
 * write; then write_atomic. No level check, no "changed" check, no error return.
 */
export function atomicWriteEptEntrySeed(ctx: Ctx, s: State, d: DomIndex, gfn: number, neu: Entry | null): number {
  const old = s.p2m[d]![gfn]!;
  if (p2mIsForeign(entryType(neu))) {
    // ASSERT(mfn_valid(new->mfn)); fdom = page_get_owner(page); get_page(page, fdom);
    const fdom = pageGetOwner(s, neu!.mfn);
    ctx.xen.getPage(ctx, s, neu!.mfn, fdom);
  }
  if (p2mIsForeign(entryType(old))) ctx.xen.putPage(ctx, s, old!.mfn);
  writeEntry(ctx, s, d, gfn, neu); // write_atomic(&entryptr->epte, new->epte)
  return 0;
}

/**
 * 50fe6e7370 (Xen 4.5) `atomic_write_ept_entry(entryptr, new, level)`: leaf entries only (the model
 * has no superpages), reference handling only when (mfn, type) changes; the get must succeed or
 * nothing is written; the old foreign entry is put *after* the write.
 */
export function atomicWriteEptEntry45(ctx: Ctx, s: State, d: DomIndex, gfn: number, neu: Entry | null): number {
  const old = s.p2m[d]![gfn]!;
  const changed = entryChanged(old, neu);
  let oldmfn: number | null = null;
  if (p2mIsForeign(entryType(neu)) && changed) {
    // mfn_valid() holds for every model frame
    const fdom = pageGetOwner(s, neu!.mfn);
    if (fdom === null) return ESRCH;
    if (!ctx.xen.getPage(ctx, s, neu!.mfn, fdom)) return EBUSY;
  }
  if (p2mIsForeign(entryType(old)) && changed) oldmfn = old!.mfn;
  writeEntry(ctx, s, d, gfn, neu); // write_atomic(&entryptr->epte, new.epte)
  if (oldmfn !== null) ctx.xen.putPage(ctx, s, oldmfn);
  return 0;
}
