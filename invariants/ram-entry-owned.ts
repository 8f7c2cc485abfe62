import { domainName, formatEntry, formatOwner } from '../model/index.js';
import type { Invariant } from './types.js';

export const ramEntryOwned: Invariant = {
  kind: 'invariant',
  name: 'ram-entry-owned',
  description: "an alive domain's RAM entry maps its own frame (dom_cow's for ram_shared)",
  check(s, { u }) {
    for (let d = 0; d < s.p2m.length; d++) {
      if (s.domains[d]!.life !== 'alive') continue;
      const row = s.p2m[d]!;
      for (let g = 0; g < row.length; g++) {
        const e = row[g]!;
        if (e === null || e.type === 'map_foreign') continue;
        const want = e.type === 'ram_shared' ? 'cow' : d;
        const owner = s.frames[e.mfn]!.owner;
        if (owner !== want) {
          return `p2m[${domainName(u, d)}][${g}] = ${formatEntry(e)}: frame ${e.mfn} is owned by ${formatOwner(u, owner)}, expected ${formatOwner(u, want)}`;
        }
      }
    }
    return null;
  },
};
