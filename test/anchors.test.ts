// The sanity anchors of MODEL.md §8, replayed through `apply`: the named invariant holds before the
// last step and fails after it, with a message naming the frame and the counts. A faulted state is
// judged by `no-hypervisor-fault` alone; transition properties go through `checkTransition`.
import { describe, expect, it } from 'vitest';
import { EINVAL, makeXenModel, type Action, type Rc, type State, type Universe } from '../model/index.js';
import { INVARIANTS, WITNESSES, type PropertyContext } from '../invariants/index.js';
import { DOM0, DOM1, DOM2, act, ctxFor, invariant, runFromBoot, universe } from './helpers.js';

/** The message of invariant `name` on state `s` (its state part), or null. */
function stateMessage(name: string, s: State, c: PropertyContext): string | null {
  const inv = invariant(name);
  if (!inv.check) throw new Error(`${name} has no state part`);
  return inv.check(s, c);
}

/** Every invariant's verdict on a transition, the way the checker judges it. */
function violations(pre: State, a: Action, rc: Rc, post: State, c: PropertyContext): string[] {
  if (post.fault !== null) return invariant('no-hypervisor-fault').check!(post, c) === null ? [] : ['no-hypervisor-fault'];
  return INVARIANTS.filter(
    (inv) => (inv.check?.(post, c) ?? null) !== null || (inv.checkTransition?.(pre, a, rc, post, c) ?? null) !== null,
  ).map((inv) => inv.name);
}

/** Every distinct non-faulted state reachable in at most `depth` operations, and the transitions into them. */
function transitionsUpTo(u: Universe, depth: number): { pre: State; a: Action; rc: Rc; post: State; depth: number }[] {
  const model = makeXenModel(u);
  const seen = new Set<string>();
  const key = (s: State) => Buffer.from(model.encode(s)).toString('hex');
  let frontier = [model.init()];
  seen.add(key(frontier[0]!));
  const out: { pre: State; a: Action; rc: Rc; post: State; depth: number }[] = [];
  for (let d = 1; d <= depth; d++) {
    const next: State[] = [];
    for (const s of frontier) {
      if (s.fault !== null) continue;
      for (const a of model.actions) {
        const { next: post, rc } = model.apply(s, a);
        out.push({ pre: s, a, rc, post, depth: d });
        const k = key(post);
        if (!seen.has(k)) {
          seen.add(k);
          next.push(post);
        }
      }
    }
    frontier = next;
  }
  return out;
}

describe('anchor: seed/ept refcount-matches-holders at depth 2', () => {
  const u = universe({ version: 'seed', backend: 'ept' });
  const c = ctxFor(u);
  const r = runFromBoot(u, [act.mapForeign(DOM1, 0, DOM2, 0), act.destroy(DOM1)]);

  it("holds after dom1 maps dom2's page, fails once dom1 is destroyed with the mapping in its p2m", () => {
    expect(r.rcs).toEqual([0, 0]);
    expect(stateMessage('refcount-matches-holders', r.states[0]!, c)).toBeNull();
    expect(stateMessage('refcount-matches-holders', r.states[1]!, c)).toBeNull();
    const msg = stateMessage('refcount-matches-holders', r.final, c);
    expect(msg).not.toBeNull();
    expect(msg).toMatch(/frame 4\b/);
    expect(msg).toMatch(/dom2/);
    expect(msg).toMatch(/count 2, expected 1\b/);
    expect(msg).toMatch(/allocated 1 \+ 0 foreign entries/);
    expect(msg).toMatch(/1 reference\(s\) held by nothing/);
  });

  it('every invariant holds on the states before the last step', () => {
    expect(violations(r.states[0]!, act.mapForeign(DOM1, 0, DOM2, 0), r.rcs[0]!, r.states[1]!, c)).toEqual([]);
    // the leaked reference can never be dropped: no cleanup gets dom2's frame back either (MODEL.md §7, r4)
    expect(violations(r.states[1]!, act.destroy(DOM1), r.rcs[1]!, r.final, c)).toEqual(['refcount-matches-holders', 'cleanup-possible']);
  });

  it('is shortest: no state at depth 1 violates it', () => {
    const depth1 = transitionsUpTo(u, 1);
    expect(depth1).toHaveLength(57);
    for (const t of depth1) expect(stateMessage('refcount-matches-holders', t.post, c)).toBeNull();
  });
});

describe('anchor: seed/ept no-orphan-reference at depth 3', () => {
  const u = universe({ version: 'seed', backend: 'ept' });
  const c = ctxFor(u);
  const r = runFromBoot(u, [act.mapForeign(DOM1, 0, DOM2, 0), act.destroy(DOM1), act.destroy(DOM2)]);

  it('holds until dom2 is destroyed too, then frame 4 of dead dom2 is held by nothing', () => {
    expect(r.rcs).toEqual([0, 0, 0]);
    for (const s of r.states.slice(0, 3)) expect(stateMessage('no-orphan-reference', s, c)).toBeNull();
    expect(r.final.domains[DOM2]!.life).toBe('dead');
    const msg = stateMessage('no-orphan-reference', r.final, c);
    expect(msg).not.toBeNull();
    expect(msg).toMatch(/frame 4 of dead dom2/);
    expect(msg).toMatch(/count 1\b/);
    expect(msg).toMatch(/held by nothing/);
  });

  it('is shortest: no state within depth 2 violates it', () => {
    for (const t of transitionsUpTo(u, 2)) expect(stateMessage('no-orphan-reference', t.post, c)).toBeNull();
  });

  it('tells a legitimate zombie apart: destroying dom2 while alive dom1 still maps its page is no orphan', () => {
    const z = runFromBoot(u, [act.mapForeign(DOM1, 0, DOM2, 0), act.destroy(DOM2)]);
    expect(z.final.domains[DOM2]!.life).toBe('dead');
    expect(stateMessage('no-orphan-reference', z.final, c)).toBeNull();
    expect(stateMessage('refcount-matches-holders', z.final, c)).toBeNull();
    const witness = WITNESSES.find((w) => w.name === 'legitimate-zombie')!;
    expect(witness.holds!(z.final, c)).toBe(true);
    expect(witness.holds!(r.final, c)).toBe(false);
  });
});

describe.each(['seed', 'xen-4.5'] as const)('anchor: %s/pt failed-call-has-no-effect at depth 1', (version) => {
  const u = universe({ version, backend: 'pt' });
  const c = ctxFor(u);
  const a = act.mapForeign(DOM0, 0, DOM1, 0);
  const r = runFromBoot(u, [a]);
  const inv = invariant('failed-call-has-no-effect');

  it("fails: dom0's page at gT is freed, then the backend refuses the foreign write with -EINVAL", () => {
    expect(r.rcs).toEqual([EINVAL]);
    const msg = inv.checkTransition!(r.states[0]!, a, r.rcs[0]!, r.final, c);
    expect(msg).not.toBeNull();
    expect(msg).toMatch(/add_to_physmap_foreign returned -EINVAL/);
    expect(msg).toMatch(/frames\[0\]\.owner dom0 → free/);
    expect(msg).toMatch(/frames\[0\]\.count 1 → 0/);
    expect(msg).toMatch(/p2m\[dom0\]\[0\] ram_rw\(mfn 0\) → empty/);
  });

  it('holds on a refused call that changes nothing, and on successful calls', () => {
    const refused = act.mapForeign(DOM1, 0, DOM1, 1);
    const rr = runFromBoot(u, [refused]);
    expect(rr.rcs[0]).toBeLessThan(0);
    expect(inv.checkTransition!(rr.states[0]!, refused, rr.rcs[0]!, rr.final, c)).toBeNull();
    const ok = act.decrease(DOM1, 0);
    const ro = runFromBoot(u, [ok]);
    expect(ro.rcs).toEqual([0]);
    expect(inv.checkTransition!(ro.states[0]!, ok, 0, ro.final, c)).toBeNull();
  });

  it('is the only property the step violates: the state itself is consistent and the m2p transition part holds', () => {
    expect(violations(r.states[0]!, a, r.rcs[0]!, r.final, c)).toEqual(['failed-call-has-no-effect']);
    expect(invariant('m2p-consistent').checkTransition!(r.states[0]!, a, r.rcs[0]!, r.final, c)).toBeNull();
  });

  it("every depth-1 violation is a foreign map returning -EINVAL after freeing t's page at gT", () => {
    const bad = transitionsUpTo(u, 1).filter((t) => inv.checkTransition!(t.pre, t.a, t.rc, t.post, c) !== null);
    expect(bad.length).toBeGreaterThan(0);
    expect(bad.map((t) => t.a)).toContainEqual(a);
    for (const t of bad) {
      expect(t.a.op).toBe('add_to_physmap_foreign');
      expect(t.rc).toBe(EINVAL);
      if (t.a.op !== 'add_to_physmap_foreign') continue;
      const old = t.pre.p2m[t.a.t]![t.a.gT]!;
      expect(old).not.toBeNull();
      expect(t.post.p2m[t.a.t]![t.a.gT]).toBeNull();
      expect(t.post.frames[old.mfn]!.owner).toBeNull();
    }
  });
});

describe('anchor: xen-4.5/ept no-hypervisor-fault at depth 2', () => {
  const u = universe({ version: 'xen-4.5', backend: 'ept' });
  const c = ctxFor(u);
  const a = act.mapForeign(DOM0, 0, DOM1, 0);
  const r = runFromBoot(u, [a, a]);

  it('holds after dom0 maps the page once, fails when it maps the same page again at the same gfn', () => {
    expect(r.rcs).toEqual([0, null]);
    expect(stateMessage('no-hypervisor-fault', r.states[1]!, c)).toBeNull();
    expect(violations(r.states[0]!, a, r.rcs[0]!, r.states[1]!, c)).toEqual([]);
    const msg = stateMessage('no-hypervisor-fault', r.final, c);
    expect(msg).not.toBeNull();
    expect(msg).toMatch(/domain_crash\(\) of the hardware domain/);
    expect(r.final.fault).toEqual({ kind: 'hardware-domain-crashed', frame: null });
  });

  it('judges the faulted state by no-hypervisor-fault alone', () => {
    expect(violations(r.states[1]!, a, r.rcs[1]!, r.final, c)).toEqual(['no-hypervisor-fault']);
    // a faulted call is not a failed call
    expect(invariant('failed-call-has-no-effect').checkTransition!(r.states[1]!, a, null, r.final, c)).toBeNull();
  });

  it('is shortest: no depth-1 state is faulted, and no other invariant fails within depth 2', () => {
    const all = transitionsUpTo(u, 2);
    for (const t of all.filter((x) => x.depth === 1)) expect(t.post.fault).toBeNull();
    const names = new Set(all.flatMap((t) => violations(t.pre, t.a, t.rc, t.post, c)));
    expect([...names]).toEqual(['no-hypervisor-fault']);
  });
});

describe('invariants that stay clean on the anchors of other versions', () => {
  it('xen-4.5/ept: mapping and destroying the owner, then unmapping, never breaks refcount or orphan checks', () => {
    const u = universe({ version: 'xen-4.5', backend: 'ept' });
    const c = ctxFor(u);
    const r = runFromBoot(u, [act.mapForeign(DOM0, 0, DOM2, 0), act.destroy(DOM2), act.remove(DOM0, 0)]);
    expect(r.rcs).toEqual([0, 0, 0]);
    for (const s of r.states) {
      expect(stateMessage('refcount-matches-holders', s, c)).toBeNull();
      expect(stateMessage('no-orphan-reference', s, c)).toBeNull();
    }
    expect(r.final.domains[DOM2]!.life).toBe('destroyed');
  });
});

// Beyond MODEL.md §8: the seed lets a dead domain be the target t, and set_typed_p2m_entry drops the
// M2P entry of whatever frame t's stale RAM entry at gT names, even when that frame was freed and
// reallocated to another, alive, domain (MODEL.md §3.3 "an old RAM entry's frame loses its m2p").
describe('finding: seed/ept m2p-consistent at depth 6 (a foreign map into a zombie clears another domain\'s M2P)', () => {
  const u = universe({ version: 'seed', backend: 'ept' });
  const c = ctxFor(u);
  const last = act.mapForeign(DOM1, 1, DOM2, 0);
  const r = runFromBoot(u, [
    act.decrease(DOM2, 0), // frame 4 freed
    act.remove(DOM0, 0), // dom0's gfn 0 emptied (frame 0 stays allocated)
    act.mapForeign(DOM0, 0, DOM1, 0), // dom0 maps dom1's frame 2
    act.destroy(DOM1), // dom1 dead (frame 2 pinned), frame 3 freed, dom1's p2m stale
    act.populate(DOM2, 0), // frame 3, the lowest free one, becomes dom2's gfn 0
    last, // t = dead dom1: its stale entry at gfn 1 names frame 3, now dom2's
  ]);
  const m2p = invariant('m2p-consistent');

  it('holds before the last step, fails after it in both its state and its transition part', () => {
    expect(r.rcs).toEqual([0, 0, 0, 0, 0, 0]);
    expect(r.beforeLast.domains[DOM1]!.life).toBe('dead');
    expect(r.beforeLast.p2m[DOM1]![1]).toEqual({ type: 'ram_rw', mfn: 3 });
    expect(r.beforeLast.frames[3]).toEqual({ owner: DOM2, count: 1, allocated: true, m2p: 0 });
    for (const s of r.states.slice(0, -1)) expect(m2p.check!(s, c)).toBeNull();
    expect(r.final.frames[3]!.m2p).toBeNull();
    expect(m2p.check!(r.final, c)).toMatch(/p2m\[dom2\]\[0\] = ram_rw\(mfn 3\), but frame 3's m2p is none/);
    expect(m2p.checkTransition!(r.beforeLast, last, 0, r.final, c)).toMatch(/frame 3's m2p changed gfn 0 → none/);
  });
});
