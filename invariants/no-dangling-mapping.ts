import { domainName, formatEntry, STALE } from '../model/index.js';
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
    // steps granularity: a translation its TLB may still hold (the flush is deferred to the p2m
    // unlock), whose frame went back to the heap and was handed out again before the flush
    const tlb = s.steps?.tlb;
    if (tlb !== undefined) {
      for (let d = 0; d < tlb.length; d++) {
        if (s.domains[d]!.life !== 'alive') continue;
        const r = tlb[d]!;
        for (let m = 0; m < r.length; m++) {
          if ((r[m]! & STALE) !== 0 && s.frames[m]!.owner !== null) {
            return `${domainName(u, d)}'s TLB may still translate to frame ${m} (flush pending), which was freed and handed out again`;
          }
        }
      }
    }
    return null;
  },
};
