// The hypervisor state of MODEL.md §2, as plain data that immer can draft.
//
// Domains and frames are referred to by index: `domains[i]` is the i-th domain of the universe
// (sorted by domain id), `frames[m]` is machine frame m. A frame's owner is a domain index, `'cow'`
// (dom_cow: a shared page) or `null` (free).

export type Version = 'seed' | 'xen-4.5' | 'xen-4.19' | 'head';
export const VERSIONS: readonly Version[] = ['seed', 'xen-4.5', 'xen-4.19', 'head'];

export type Backend = 'ept' | 'pt';
export const BACKENDS: readonly Backend[] = ['ept', 'pt'];

export type DomainKind = 'pvh' | 'hvm';

/** `alive` → `dying` (killed, relinquishing) → `dead` (a zombie while it owns frames) → `destroyed`. */
export type Life = 'alive' | 'dying' | 'dead' | 'destroyed';
export const LIVES: readonly Life[] = ['alive', 'dying', 'dead', 'destroyed'];

/** The p2m types the model uses (xen/include/asm-x86/p2m.h); an absent entry is `p2m_invalid`. */
export type P2mType = 'ram_rw' | 'ram_logdirty' | 'ram_shared' | 'map_foreign';
export const P2M_TYPES: readonly P2mType[] = ['ram_rw', 'ram_logdirty', 'ram_shared', 'map_foreign'];

export type DomIndex = number;
export type Owner = DomIndex | 'cow' | null;

export interface Frame {
  owner: Owner;
  /** The PGC_count_mask part of count_info. */
  count: number;
  /** _PGC_allocated: while set, one unit of `count` belongs to it. */
  allocated: boolean;
  /** The M2P entry: the gfn this frame is mapped at in its owner, or null (INVALID_M2P_ENTRY). */
  m2p: number | null;
}

/** Where a preemptible teardown stands (d->arch.relmem and its cursor). */
export interface Relinquish {
  phase: RelinquishPhase;
  cursor: number;
}
/**
 * The phases of domain_relinquish_resources that touch the model's state, in the order of the
 * version: `mappings` (relinquish_p2m_mapping, from 845a60b63b), `paging` (hap_teardown; from 1df52a2702
 * its p2m_teardown clears the root), `memory` (relinquish_memory over page_list), then `done`.
 */
export type RelinquishPhase = 'mappings' | 'paging' | 'memory' | 'done';
export const RELINQUISH_PHASES: readonly RelinquishPhase[] = ['mappings', 'paging', 'memory', 'done'];

export interface Domain {
  life: Life;
  logDirty: boolean;
  relinquish: Relinquish | null;
  /**
   * Whether the p2m's intermediate tables exist (MODEL.md §3.8). A write into a p2m without them
   * must allocate a table page first. From xen-4.19 they go at the root clear of teardown's
   * `paging` phase; before, they live until the final destroy.
   */
  tables: boolean;
  /** Whether the domain's paging pool still has pages (hap_teardown empties it during relinquish). */
  pool: boolean;
}

/**
 * A p2m entry. `order: 1` marks half of a superpage (--superpages): the aligned gfn pair 2i, 2i+1
 * maps two consecutive frames with one entry, which must be split (a table page allocated) before
 * one half can change. Each gfn of the pair holds its own view (its mfn) with the same type.
 */
export interface Entry {
  type: P2mType;
  mfn: number;
  order?: 1;
}

export type { FaultKind } from './fault.js';
import type { FaultKind } from './fault.js';
import type { StepsState } from './steps.js';

export interface Fault {
  kind: FaultKind;
  /** The frame, for a reference-count fault; otherwise null. */
  frame: number | null;
}

export interface State {
  frames: Frame[];
  domains: Domain[];
  /** p2m[d][g]: null (p2m_invalid) or an entry. */
  p2m: (Entry | null)[][];
  /** Allocation failures armed by fail_next_alloc, consumed by the next table allocation (at most 1). */
  armedFailures: number;
  fault: Fault | null;
  /** With `steps` granularity only (MODEL.md §6): the vCPUs, the p2m locks, the TLBs. */
  steps?: StepsState;
}

// Errno values (xen/include/public/errno.h), negated as Xen returns them.
export const EPERM = -1;
export const ENOENT = -2;
export const ESRCH = -3;
export const ENOMEM = -12;
export const EBUSY = -16;
export const EEXIST = -17;
export const EINVAL = -22;
export const ENXIO = -6;
export const EILSEQ = -84;
/** -ERESTART: preempted, the toolstack calls again (a continuation, not an error). */
export const ERESTART = -85;

const ERRNO_NAMES: Record<number, string> = {
  [EPERM]: '-EPERM',
  [ENOENT]: '-ENOENT',
  [ESRCH]: '-ESRCH',
  [ENXIO]: '-ENXIO',
  [ENOMEM]: '-ENOMEM',
  [EBUSY]: '-EBUSY',
  [EEXIST]: '-EEXIST',
  [EINVAL]: '-EINVAL',
  [EILSEQ]: '-EILSEQ',
  [ERESTART]: '-ERESTART',
};

export function rcName(rc: number): string {
  return rc === 0 ? '0' : (ERRNO_NAMES[rc] ?? String(rc));
}
