// The registry: every invariant and witness of MODEL.md §7, in a fixed order.
import { cleanupPossibleInvariant } from './cleanup-possible.js';
import { failedCallHasNoEffect } from './failed-call-has-no-effect.js';
import { foreignEntryShape } from './foreign-entry-shape.js';
import { m2pConsistent } from './m2p-consistent.js';
import { noDanglingMapping } from './no-dangling-mapping.js';
import { noHypervisorFault } from './no-hypervisor-fault.js';
import { noOrphanReference } from './no-orphan-reference.js';
import { ramEntryOwned } from './ram-entry-owned.js';
import { refcountMatchesHolders } from './refcount-matches-holders.js';
import { callPre, IN_FLIGHT, type Action, type Rc, type State } from '../model/index.js';
import type { Invariant, PropertyContext, Witness } from './types.js';
import { domainDestroyed, foreignMappingExists, foreignRemovedByRemoveFromPhysmap, legitimateZombie } from './witnesses.js';

export * from './types.js';
export { foreignHolders, freeableDeadDomains } from './holders.js';
export { cleanupPossible, cleanupActions, isClean, describeLeftovers, encodingMemo, type CleanupMemo } from './cleanup-possible.js';

export const INVARIANTS: readonly Invariant[] = [
  refcountMatchesHolders,
  noDanglingMapping,
  ramEntryOwned,
  foreignEntryShape,
  m2pConsistent,
  noHypervisorFault,
  noOrphanReference,
  failedCallHasNoEffect,
  cleanupPossibleInvariant,
];

export const WITNESSES: readonly Witness[] = [
  foreignMappingExists,
  domainDestroyed,
  legitimateZombie,
  foreignRemovedByRemoveFromPhysmap,
];

export const FAULT_INVARIANT = noHypervisorFault.name;

/**
 * What a transition property judges: a whole hypercall, the state before it and the state after it.
 * With atomic granularity that is the transition. With steps, a transition is one segment: a call
 * still in flight is not judged yet (null), and the segment that ends a call is judged on the state
 * before the call as far as the call is concerned (`callPre`, model/steps.ts: every other vCPU's
 * changes are in it, the call's own are not) and the state after it.
 */
export function callBefore(pre: State, a: Action, rc: Rc, post: State, c: PropertyContext): State | null {
  if (post.steps === undefined) return pre;
  if (rc === IN_FLIGHT) return null;
  return callPre(c.u, c.xen, pre, a, post);
}

/**
 * An invariant's verdict on one step (pre, action, rc, post): its transition part (on the whole call,
 * see callBefore), then its state part on `post`. A faulted state is judged by no-hypervisor-fault
 * alone, and a faulted call is not a failed call (MODEL.md §7). null when it holds.
 */
export function judgeStep(inv: Invariant, pre: State, a: Action, rc: Rc, post: State, c: PropertyContext): string | null {
  if (post.fault !== null && inv.name !== FAULT_INVARIANT) return null;
  const before = inv.checkTransition ? callBefore(pre, a, rc, post, c) : null;
  return (before !== null ? inv.checkTransition!(before, a, rc, post, c) : null) ?? inv.check?.(post, c) ?? null;
}

export function findInvariant(name: string): Invariant | undefined {
  return INVARIANTS.find((i) => i.name === name);
}
