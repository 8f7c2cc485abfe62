// The PT backend (p2m-pt.c: AMD NPT and shadow), xen-foreign-protocol.md §1.7.
import { EINVAL, type DomIndex, type Entry, type State } from '../types.js';
import type { Ctx } from '../xen.js';
import { writeEntry } from '../sched.js';
import { entryType, p2mIsForeign } from './types.js';

/**
 * Seed V6.2 / Xen 4.5 `p2m_set_entry` (p2m-pt.c): "pvh fixme: foreign types are only supported on
 * ept at present": a foreign type is refused and the entry left unchanged (the seed returned 0, false
 * under the bool convention; 50fe6e7370's p2m_pt_set_entry returns -EINVAL). Other writes hold no
 * reference on x86.
 */
export function p2mPtSetEntryRefusingForeign(ctx: Ctx, s: State, d: DomIndex, gfn: number, neu: Entry | null): number {
  if (p2mIsForeign(entryType(neu))) return EINVAL; // gdprintk("Unimplemented foreign p2m type.")
  writeEntry(ctx, s, d, gfn, neu);
  return 0;
}
