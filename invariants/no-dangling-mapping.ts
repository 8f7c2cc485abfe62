import { domainName, formatEntry } from '../model/index.js';
import type { Invariant } from './types.js';

export const noDanglingMapping: Invariant = {
  kind: 'invariant',
  name: 'no-dangling-mapping',
  description: 'no entry of an alive domain, and no foreign entry anywhere, maps a free frame',
  check(s, { u }) {
    for (let d = 0; d < s.p2m.length; d++) {
      const life = s.domains[d]!.life;
      const row = s.p2m[d]!;
      for (let g = 0; g < row.length; g++) {
        const e = row[g]!;
        if (e === null || s.frames[e.mfn]!.owner !== null) continue;
        if (life === 'alive' || e.type === 'map_foreign') {
          return `p2m[${domainName(u, d)}][${g}] = ${formatEntry(e)} (${life} domain) maps frame ${e.mfn}, which is free`;
        }
      }
    }
    return null;
  },
};
