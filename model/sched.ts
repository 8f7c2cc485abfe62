// What the Xen function bodies tell the `steps` granularity (MODEL.md §6): where a p2m lock is taken
// and released, where an entry is written, where a frame goes back to the heap or comes out of it.
// With `atomic` granularity `ctx.sched` is undefined and each helper is the plain statement it wraps,
// so the one body of each Xen function serves both granularities.
import type { DomIndex, Entry, State } from './types.js';
import type { Ctx } from './xen.js';

/** The scheduler of one segment (model/steps.ts); absent with atomic granularity. */
export interface Sched {
  /** p2m_lock / gfn_lock / get_gfn: an interleaving point unless this vCPU already holds it. */
  lock(d: DomIndex): void;
  /** p2m_unlock / gfn_unlock / put_gfn: the outermost release is a point, and flushes the deferred TLB work. */
  unlock(d: DomIndex): void;
  /** An interleaving point before a write of p2m[d][gfn]. */
  beforeWrite(d: DomIndex, gfn: number): void;
  /** After the write: the old translation may stay in d's TLB until the flush. */
  afterWrite(d: DomIndex, old: Entry | null, neu: Entry | null): void;
  /** free_domheap_page(mfn): the frame is free; a TLB that still holds it holds a stale translation. */
  freed(mfn: number): void;
  /** The heap allocator hands out mfn: its TLB-flush filter flushes every TLB that may still hold it. */
  allocated(mfn: number): void;
}

/** p2m_lock(p2m) (and gfn_lock, get_gfn's lock): recursive, as Xen's mm locks are. */
export function p2mLock(ctx: Ctx, d: DomIndex): void {
  const sc = ctx.sched;
  if (sc !== undefined) sc.lock(d);
}

/** p2m_unlock(p2m) (and gfn_unlock, put_gfn). */
export function p2mUnlock(ctx: Ctx, d: DomIndex): void {
  const sc = ctx.sched;
  if (sc !== undefined) sc.unlock(d);
}

/** The leaf write itself (write_atomic / safe_write_pte): `p2m[d][gfn] = e`. */
export function writeEntry(ctx: Ctx, s: State, d: DomIndex, gfn: number, e: Entry | null): void {
  const sc = ctx.sched;
  if (sc === undefined) {
    s.p2m[d]![gfn] = e;
    return;
  }
  sc.beforeWrite(d, gfn);
  const old = s.p2m[d]![gfn]!;
  s.p2m[d]![gfn] = e;
  sc.afterWrite(d, old, e);
}

/** free_heap_pages stamps the frame (tlbflush_timestamp): noted for the TLB model. */
export function noteFreed(ctx: Ctx, mfn: number): void {
  const sc = ctx.sched;
  if (sc !== undefined) sc.freed(mfn);
}

/**
 * alloc_heap_pages' filtered_flush_tlb_mask(tlbflush_timestamp): a frame freed since a TLB last
 * flushed is flushed from every TLB before it is handed out again.
 */
export function allocatorTlbFlush(ctx: Ctx, mfn: number): void {
  const sc = ctx.sched;
  if (sc !== undefined) sc.allocated(mfn);
}
