// Symmetry reduction over interchangeable domains: two domains of the same kind, neither the hardware
// domain, play the same part in every rule (actions range over all domains; frames are chosen by
// number, not by owner), so a state and the state with those domains' roles swapped have the same
// futures and the same verdicts. Frames are not interchangeable: populate_physmap takes the
// lowest-numbered free frame, and a dead domain's stale entries can name a free frame, so which frame
// is lowest changes what happens next.
import type { Action } from './actions.js';
import type { Universe } from './config.js';
import { encodeState } from './encode.js';
import type { DomIndex, State } from './types.js';

/** perm[d] is the new index of domain d. */
export type DomPerm = readonly number[];

/** Groups (of two or more) of interchangeable domains. */
export function symmetryClasses(u: Universe): number[][] {
  const groups = new Map<string, number[]>();
  u.domains.forEach((d, i) => {
    // a device model and its target play different parts (XSM lets only the one map the other)
    if (d.hardware || u.targets[i]! >= 0 || u.targets.includes(i)) return;
    const key = d.kind;
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  return [...groups.values()].filter((g) => g.length > 1);
}

function permutations(xs: number[]): number[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

/** Every permutation of the domains that maps each class onto itself (the identity first). */
export function domainPermutations(u: Universe): DomPerm[] {
  let perms: number[][] = [u.domains.map((_, i) => i)];
  for (const cls of symmetryClasses(u)) {
    const next: number[][] = [];
    for (const base of perms) {
      for (const image of permutations(cls)) {
        const p = [...base];
        cls.forEach((d, k) => (p[d] = image[k]!));
        next.push(p);
      }
    }
    perms = next;
  }
  return perms;
}

export function invertPerm(p: DomPerm): number[] {
  const inv = new Array<number>(p.length);
  p.forEach((to, from) => (inv[to] = from));
  return inv;
}

/** The state with domain d renamed perm[d] (frames keep their numbers). */
export function permuteState(s: State, p: DomPerm): State {
  const inv = invertPerm(p);
  return {
    frames: s.frames.map((f) => ({ ...f, owner: typeof f.owner === 'number' ? p[f.owner]! : f.owner })),
    domains: inv.map((d) => ({ ...s.domains[d]!, relinquish: s.domains[d]!.relinquish === null ? null : { ...s.domains[d]!.relinquish! } })),
    p2m: inv.map((d) => s.p2m[d]!.map((e) => (e === null ? null : { ...e }))),
    armedFailures: s.armedFailures,
    fault: s.fault === null ? null : { ...s.fault },
  };
}

export function permuteAction(a: Action, p: DomPerm): Action {
  const m = (d: DomIndex) => p[d]!;
  switch (a.op) {
    case 'add_to_physmap_foreign':
      return { ...a, t: m(a.t), f: m(a.f) };
    case 'fail_next_alloc':
      return a;
    default:
      return { ...a, d: m(a.d) };
  }
}

function lexLess(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return false;
}

/**
 * The canonical encoding of `s`: the smallest encoding over the permutations (written to `out`);
 * returns the permutation that gives it.
 */
export function canonicalEncode(s: State, perms: readonly DomPerm[], out: Uint8Array, scratch: Uint8Array): DomPerm {
  encodeState(s, out);
  let best = perms[0]!;
  for (let k = 1; k < perms.length; k++) {
    encodeState(s, scratch, perms[k]!);
    if (lexLess(scratch, out)) {
      out.set(scratch);
      best = perms[k]!;
    }
  }
  return best;
}
