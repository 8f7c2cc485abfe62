import { backendSupportsForeign, domainName, formatEntry, formatOwner } from '../model/index.js';
import type { Invariant } from './types.js';

export const foreignEntryShape: Invariant = {
  kind: 'invariant',
  name: 'foreign-entry-shape',
  description: 'a foreign entry maps a frame of another, non-null owner, not dom_cow, on a backend that supports it',
  check(s, { u }) {
    for (let d = 0; d < s.p2m.length; d++) {
      if (s.domains[d]!.life === 'destroyed') continue;
      const row = s.p2m[d]!;
      for (let g = 0; g < row.length; g++) {
        const e = row[g]!;
        if (e === null || e.type !== 'map_foreign') continue;
        // (the place is spelled out only for a violation: this runs on every new state)
        const where = () => `p2m[${domainName(u, d)}][${g}] = ${formatEntry(e)}`;
        if (!backendSupportsForeign(u)) return `${where()}: the ${u.backend} backend of ${u.version} cannot hold foreign entries`;
        const owner = s.frames[e.mfn]!.owner;
        if (owner === null || owner === 'cow' || owner === d) {
          return `${where()}: frame ${e.mfn} is owned by ${formatOwner(u, owner)}; a foreign entry must map another domain's frame`;
        }
      }
    }
    return null;
  },
};
