// The registry: every invariant and witness of MODEL.md §7, in a fixed order.
import { failedCallHasNoEffect } from './failed-call-has-no-effect.js';
import { foreignEntryShape } from './foreign-entry-shape.js';
import { m2pConsistent } from './m2p-consistent.js';
import { noDanglingMapping } from './no-dangling-mapping.js';
import { noHypervisorFault } from './no-hypervisor-fault.js';
import { noOrphanReference } from './no-orphan-reference.js';
import { ramEntryOwned } from './ram-entry-owned.js';
import { refcountMatchesHolders } from './refcount-matches-holders.js';
import type { Invariant, Witness } from './types.js';
import { domainDestroyed, foreignMappingExists, foreignRemovedByRemoveFromPhysmap, legitimateZombie } from './witnesses.js';

export * from './types.js';
export { foreignHolders, freeableDeadDomains } from './holders.js';

export const INVARIANTS: readonly Invariant[] = [
  refcountMatchesHolders,
  noDanglingMapping,
  ramEntryOwned,
  foreignEntryShape,
  m2pConsistent,
  noHypervisorFault,
  noOrphanReference,
  failedCallHasNoEffect,
];

export const WITNESSES: readonly Witness[] = [
  foreignMappingExists,
  domainDestroyed,
  legitimateZombie,
  foreignRemovedByRemoveFromPhysmap,
];

export const FAULT_INVARIANT = noHypervisorFault.name;

export function findInvariant(name: string): Invariant | undefined {
  return INVARIANTS.find((i) => i.name === name);
}
