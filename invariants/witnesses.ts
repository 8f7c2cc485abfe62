// "Sometimes" properties (MODEL.md §7): each must be reached, or the model is vacuous.
import { freeableDeadDomains } from './holders.js';
import type { Witness } from './types.js';

export const foreignMappingExists: Witness = {
  kind: 'witness',
  name: 'foreign-mapping-exists',
  description: 'some p2m holds a foreign entry',
  holds: (s) => s.p2m.some((row) => row.some((e) => e !== null && e.type === 'map_foreign')),
};

export const domainDestroyed: Witness = {
  kind: 'witness',
  name: 'domain-destroyed',
  description: 'some domain is destroyed',
  holds: (s) => s.domains.some((d) => d.life === 'destroyed'),
};

export const legitimateZombie: Witness = {
  kind: 'witness',
  name: 'legitimate-zombie',
  description: 'a dead domain owns frames, each of which can still be freed by a holder',
  holds(s, c) {
    const freeable = freeableDeadDomains(s, c);
    return s.domains.some((d, i) => d.life === 'dead' && freeable.has(i) && s.frames.some((f) => f.owner === i));
  },
};

export const foreignRemovedByRemoveFromPhysmap: Witness = {
  kind: 'witness',
  name: 'foreign-removed-by-remove-from-physmap',
  description: 'remove_from_physmap removes a foreign entry',
  holdsTransition(pre, a, rc, post) {
    return (
      a.op === 'remove_from_physmap' &&
      rc === 0 &&
      pre.p2m[a.d]![a.g]?.type === 'map_foreign' &&
      post.p2m[a.d]![a.g] === null
    );
  },
};
