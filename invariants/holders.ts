// Who holds references on a frame, and which dead domains can still be destroyed: shared by
// refcount-matches-holders, no-orphan-reference and the legitimate-zombie witness.
import { domainName, type DomIndex, type State, type Universe } from '../model/index.js';
import type { PropertyContext } from './types.js';

export interface ForeignHolder {
  d: DomIndex;
  g: number;
}

/** The foreign entries mapping `mfn` in p2ms that still exist (not destroyed). */
export function foreignHolders(s: State, mfn: number): ForeignHolder[] {
  const out: ForeignHolder[] = [];
  s.p2m.forEach((row, d) => {
    if (s.domains[d]!.life === 'destroyed') return;
    row.forEach((e, g) => {
      if (e !== null && e.type === 'map_foreign' && e.mfn === mfn) out.push({ d, g });
    });
  });
  return out;
}

/** Per frame, how many foreign entries of p2ms that still exist map it (one pass). */
export function foreignEntryCounts(s: State): Int32Array {
  const counts = new Int32Array(s.frames.length);
  for (let d = 0; d < s.p2m.length; d++) {
    if (s.domains[d]!.life === 'destroyed') continue;
    const row = s.p2m[d]!;
    for (let g = 0; g < row.length; g++) {
      const e = row[g]!;
      if (e !== null && e.type === 'map_foreign') counts[e.mfn]! += 1;
    }
  }
  return counts;
}

/**
 * With `steps` granularity: the references on `mfn` that hypercalls in flight hold and no holder
 * accounts for yet (a temporary reference; a put made before the write that removes its entry).
 */
export function inFlightReferences(s: State, mfn: number): number {
  let n = 0;
  for (const v of s.steps?.vcpus ?? []) n += v.delta[mfn]!;
  return n;
}

export function formatHolders(u: Universe, hs: ForeignHolder[]): string {
  return hs.length === 0 ? 'none' : hs.map((h) => `p2m[${domainName(u, h.d)}][${h.g}]`).join(', ');
}

/**
 * The dead domains that can still be destroyed (MODEL.md §7 no-orphan-reference), as a least
 * fixpoint: a dead domain is freeable when every frame it owns is; a frame is freeable when a
 * domain mapping it foreign is alive or dying, or is dead, drops that mapping when destroyed (only
 * where final teardown releases foreign references) and is itself freeable. A cycle of zombies
 * holding each other's frames never enters the set.
 */
export function freeableDeadDomains(s: State, c: PropertyContext): Set<DomIndex> {
  const freeable = new Set<DomIndex>();
  if (!s.domains.some((d) => d.life === 'dead')) return freeable;
  let changed = true;
  while (changed) {
    changed = false;
    s.domains.forEach((dom, d) => {
      if (dom.life !== 'dead' || freeable.has(d)) return;
      const all = s.frames.every((f, m) => f.owner !== d || frameCanBeFreed(s, m, freeable, c));
      if (all) {
        freeable.add(d);
        changed = true;
      }
    });
  }
  return freeable;
}

export function frameCanBeFreed(s: State, mfn: number, freeable: Set<DomIndex>, c: PropertyContext): boolean {
  return foreignHolders(s, mfn).some(({ d }) => {
    const life = s.domains[d]!.life;
    if (life === 'alive' || life === 'dying') return true;
    return life === 'dead' && c.xen.finalTeardownReleasesForeign && freeable.has(d);
  });
}
