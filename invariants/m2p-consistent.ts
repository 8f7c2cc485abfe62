import { domainName, formatEntry, type Entry } from '../model/index.js';
import type { Invariant } from './types.js';

function isOwnRam(e: Entry | null): e is Entry {
  return e !== null && (e.type === 'ram_rw' || e.type === 'ram_logdirty');
}

export const m2pConsistent: Invariant = {
  kind: 'invariant',
  name: 'm2p-consistent',
  description: "an alive domain's frame named by its M2P entry is mapped there as RAM, and every own RAM entry is named by its M2P",
  holdsOnSelfLoops: true,
  check(s, { u }) {
    for (let m = 0; m < s.frames.length; m++) {
      const f = s.frames[m]!;
      if (typeof f.owner !== 'number' || f.m2p === null || s.domains[f.owner]!.life !== 'alive') continue;
      if (s.steps !== undefined && s.steps.holder[f.owner] !== -1) continue; // mid-update under its p2m lock
      const e = s.p2m[f.owner]![f.m2p] ?? null;
      if (!isOwnRam(e) || e.mfn !== m) {
        return `frame ${m}: m2p says ${domainName(u, f.owner)} gfn ${f.m2p}, but p2m[${domainName(u, f.owner)}][${f.m2p}] = ${formatEntry(e)}`;
      }
    }
    for (let d = 0; d < s.p2m.length; d++) {
      if (s.domains[d]!.life !== 'alive') continue;
      // steps granularity: a p2m and its M2P entries change together under the p2m lock, not at once
      if (s.steps !== undefined && s.steps.holder[d] !== -1) continue;
      const row = s.p2m[d]!;
      for (let g = 0; g < row.length; g++) {
        const e = row[g]!;
        if (!isOwnRam(e) || s.frames[e.mfn]!.owner !== d) continue;
        const m2p = s.frames[e.mfn]!.m2p;
        if (m2p !== g) {
          return `p2m[${domainName(u, d)}][${g}] = ${formatEntry(e)}, but frame ${e.mfn}'s m2p is ${m2p === null ? 'none' : `gfn ${m2p}`}`;
        }
      }
    }
    return null;
  },
  // The transition part: a foreign operation (a foreign map, or the removal of a foreign entry)
  // changes no M2P entry except that of t's own previous page at gT. A frame the operation frees
  // loses its M2P with the frame itself, which is not a change made by the foreign code.
  checkTransition(pre, a, _rc, post, { u }) {
    let allowed = -1;
    if (a.op === 'add_to_physmap_foreign') {
      const prev = pre.p2m[a.t]![a.gT]!;
      if (prev !== null && prev.type !== 'map_foreign' && pre.frames[prev.mfn]!.owner === a.t) allowed = prev.mfn;
    } else if (a.op === 'remove_from_physmap') {
      if (pre.p2m[a.d]![a.g]?.type !== 'map_foreign') return null;
    } else {
      return null;
    }
    for (let m = 0; m < pre.frames.length; m++) {
      if (m === allowed || post.frames[m]!.owner === null) continue;
      const before = pre.frames[m]!.m2p;
      const after = post.frames[m]!.m2p;
      if (before !== after) {
        return `frame ${m}'s m2p changed ${before === null ? 'none' : `gfn ${before}`} → ${after === null ? 'none' : `gfn ${after}`} in ${a.op}, which may only touch ${allowed < 0 ? 'no m2p entry' : `frame ${allowed}'s`}`;
      }
    }
    return null;
  },
};
