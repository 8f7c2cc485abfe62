// Laws of the model over random action sequences (fast-check), for every modelled version × backend.
// A sequence stops at a faulted state: it has no successors.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  EEXIST,
  EINVAL,
  ENOENT,
  ENOMEM,
  EPERM,
  ESRCH,
  LIVES,
  OPERATIONS,
  diffStates,
  enumerateActions,
  makeUniverse,
  type Action,
  type Step,
  type State,
  type XenModel,
} from '../model/index.js';
import { INVARIANTS, foreignHolders } from '../invariants/index.js';
import { lifeCode, phaseCode, typeCode } from '../model/encode.js';
import { P2M_TYPES, RELINQUISH_PHASES } from '../model/types.js';
import { CONFIGS, DOM0, ctxFor, deepFreeze, foreignEntries, modelFor, owned, universe } from './helpers.js';

// npm run test:slow (CHECKER_SLOW_SUITE) runs more random sequences and one level deeper exhaustively
const SLOW = process.env.CHECKER_SLOW_SUITE !== undefined;
const NUM_RUNS = SLOW ? 300 : 100;
const EXHAUSTIVE = SLOW ? 4 : 3;
const ERRNOS = new Set([EPERM, ENOENT, ESRCH, ENOMEM, EEXIST, EINVAL]);

/** Runs the actions of `idxs` from the booted state, calling `visit` on every transition; stops at a fault. */
function walk(model: XenModel, idxs: readonly number[], visit: (pre: State, a: Action, step: Step) => void, start?: State): State {
  let s = start ?? model.init();
  for (const i of idxs) {
    const a = model.actions[i]!;
    if (s.fault !== null) {
      const faulted = s;
      expect(() => model.apply(faulted, a)).toThrow(/no successors/);
      break;
    }
    const step = model.apply(s, a);
    visit(s, a, step);
    s = step.next;
  }
  return s;
}

/**
 * Random action sequences, as indices into `model.actions`: half uniform over the actions, half
 * uniform over the operations first (so that destroy, 3 actions of 57, is drawn as often as the 36
 * foreign maps and zombies are reached often enough to test the laws about them).
 */
function sequences(model: XenModel): fc.Arbitrary<number[]> {
  const uniform = fc.array(fc.integer({ min: 0, max: model.actions.length - 1 }), { maxLength: 12 });
  const byOp = new Map<string, number[]>();
  model.actions.forEach((a, i) => byOp.set(a.op, [...(byOp.get(a.op) ?? []), i]));
  const perOp = fc.oneof(...[...byOp.values()].map((idxs) => fc.constantFrom(...idxs)));
  return fc.oneof(uniform, fc.array(perOp, { maxLength: 12 }));
}

/** Every transition from a non-faulted state reachable in fewer than `depth` operations (exhaustive). */
function transitionsUpTo(model: XenModel, depth: number, visit: (pre: State, a: Action, step: Step) => void): number {
  const seen = new Set<string>();
  const key = (s: State) => Buffer.from(model.encode(s)).toString('hex');
  let frontier = [model.init()];
  seen.add(key(frontier[0]!));
  let n = 0;
  for (let d = 1; d <= depth; d++) {
    const next: State[] = [];
    for (const s of frontier) {
      if (s.fault !== null) continue;
      for (const a of model.actions) {
        const step = model.applyFast(s, a);
        visit(s, a, step);
        n++;
        const k = key(step.next);
        if (!seen.has(k)) {
          seen.add(k);
          next.push(step.next);
        }
      }
    }
    frontier = next;
  }
  return n;
}

function check(model: XenModel, visit: (pre: State, a: Action, step: Step) => void): void {
  fc.assert(
    fc.property(sequences(model), (idxs) => {
      walk(model, idxs, visit);
    }),
    { numRuns: NUM_RUNS },
  );
}

describe('enumerateActions', () => {
  it('is deterministic: 57 actions on the default universe, 36 of them add_to_physmap_foreign, in operation order', () => {
    const u = universe();
    const a1 = enumerateActions(u);
    const a2 = enumerateActions(universe());
    expect(a2).toEqual(a1);
    expect(a1).toHaveLength(57);
    const count = (op: string) => a1.filter((a) => a.op === op).length;
    expect(count('add_to_physmap_foreign')).toBe(36);
    expect(count('populate_physmap')).toBe(6);
    expect(count('decrease_reservation')).toBe(6);
    expect(count('remove_from_physmap')).toBe(6);
    expect(count('destroy')).toBe(3);
    // the default operations (MODEL.md §3, atomic teardown, no optional ones) in their fixed order,
    // each block contiguous, and in the order of OPERATIONS
    const blocks = a1.map((a) => a.op).filter((op, i, all) => i === 0 || all[i - 1] !== op);
    expect(blocks).toEqual(['populate_physmap', 'decrease_reservation', 'add_to_physmap_foreign', 'remove_from_physmap', 'destroy']);
    const rank = blocks.map((op) => (OPERATIONS as readonly string[]).indexOf(op));
    expect(rank.every((r, i) => r >= 0 && (i === 0 || r > rank[i - 1]!))).toBe(true);
    // domains by index, then gfns; the foreign map in (t, gT, f, gF) order
    expect(a1[0]).toEqual({ op: 'populate_physmap', d: 0, g: 0 });
    expect(a1[1]).toEqual({ op: 'populate_physmap', d: 0, g: 1 });
    expect(a1[12]).toEqual({ op: 'add_to_physmap_foreign', t: 0, gT: 0, f: 0, gF: 0 });
    expect(a1[13]).toEqual({ op: 'add_to_physmap_foreign', t: 0, gT: 0, f: 0, gF: 1 });
    expect(a1[47]).toEqual({ op: 'add_to_physmap_foreign', t: 2, gT: 1, f: 2, gF: 1 });
    expect(a1[56]).toEqual({ op: 'destroy', d: 2 });
    // no duplicates
    expect(new Set(a1.map((a) => JSON.stringify(a))).size).toBe(57);
  });

  it("is the same for every version and backend, and is the model's action list", () => {
    const base = enumerateActions(universe());
    for (const c of CONFIGS) {
      expect(enumerateActions(universe(c))).toEqual(base);
      expect(modelFor(universe(c)).actions).toEqual(base);
    }
  });

  it('keeps the fixed operation order whatever order --ops lists them in', () => {
    const u = makeUniverse({ ops: 'destroy,populate_physmap' });
    const as = enumerateActions(u);
    expect(as.map((a) => a.op)).toEqual([...Array(6).fill('populate_physmap'), ...Array(3).fill('destroy')]);
  });

  it('scales with the universe: (2 ops × 3) per-gfn actions, (d·g)² foreign maps, d destroys', () => {
    const u = makeUniverse({ domains: 'dom0:pvh:hw,dom1:pvh', gfns: 3 });
    const as = enumerateActions(u);
    expect(as.filter((a) => a.op === 'add_to_physmap_foreign')).toHaveLength(36);
    expect(as).toHaveLength(3 * 6 + 36 + 2);
  });
});

describe.each(CONFIGS)('laws of $version/$backend over random action sequences', (c) => {
  const u = universe(c);
  const model = modelFor(u);
  const pc = ctxFor(u);

  it('apply never mutates its input (deep-frozen) and returns frozen states', () => {
    fc.assert(
      fc.property(sequences(model), (idxs) => {
        walk(model, idxs, (pre, a, step) => {
          expect(Object.isFrozen(step.next)).toBe(true);
          expect(Object.isFrozen(step.next.frames)).toBe(true);
          // applyFast works on a copy: the (frozen) input is left as it was too
          const before = JSON.stringify(pre);
          model.applyFast(pre, a);
          expect(JSON.stringify(pre)).toBe(before);
        }, deepFreeze(model.init()));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('apply leaves an unfrozen input byte-for-byte unchanged', () => {
    fc.assert(
      fc.property(sequences(model), (idxs) => {
        let s = model.init();
        for (const i of idxs) {
          if (s.fault !== null) break;
          const copy = JSON.parse(JSON.stringify(s)) as State;
          const before = JSON.stringify(copy);
          const { next } = model.apply(copy, model.actions[i]!);
          expect(JSON.stringify(copy)).toBe(before);
          s = next;
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('apply and applyFast give identical next states (encode) and return codes', () => {
    check(model, (pre, a, step) => {
      const fast = model.applyFast(pre, a);
      expect(fast.rc).toBe(step.rc);
      expect(Buffer.from(model.encode(fast.next)).equals(Buffer.from(model.encode(step.next)))).toBe(true);
      expect(fast.next).toEqual(step.next);
    });
  });

  it('apply is deterministic: the same action on the same state gives the same step', () => {
    check(model, (pre, a, step) => {
      const again = model.apply(pre, a);
      expect(again.rc).toBe(step.rc);
      expect(again.next).toEqual(step.next);
    });
  });

  it('encode/decode round-trips every reachable state', () => {
    check(model, (_pre, _a, { next }) => {
      const b = model.encode(next);
      expect(b).toHaveLength(model.encodedSize);
      expect(model.decode(b)).toEqual(next);
      expect(Buffer.from(model.encode(model.decode(b))).equals(Buffer.from(b))).toBe(true);
    });
  });

  it('the return code is 0 or a known negative errno, and null exactly when the call faulted', () => {
    check(model, (_pre, _a, { next, rc }) => {
      expect(rc === null).toBe(next.fault !== null);
      if (rc !== null) expect(rc === 0 || ERRNOS.has(rc)).toBe(true);
    });
  });

  it('frame accounting: counts never negative; a free frame has count 0, no allocation, no m2p; an owned one has count ≥ 1 and ≥ its allocation', () => {
    check(model, (_pre, _a, { next }) => {
      for (const f of next.frames) {
        expect(f.count).toBeGreaterThanOrEqual(0);
        expect(f.count).toBeLessThan(256); // fits its byte in the encoding
        if (f.owner === null) {
          expect(f).toEqual({ owner: null, count: 0, allocated: false, m2p: null });
        } else {
          expect(f.count).toBeGreaterThanOrEqual(1);
          expect(f.count).toBeGreaterThanOrEqual(f.allocated ? 1 : 0);
          expect(f.owner).not.toBe('cow'); // no share operation in the default ops
          if (f.m2p !== null) expect(f.m2p).toBeLessThan(u.gfns);
        }
      }
    });
  });

  it('the shape is constant: 7 frames, 3 domains, 3 × 2 p2m entries', () => {
    check(model, (_pre, _a, { next }) => {
      expect(next.frames).toHaveLength(7);
      expect(next.domains).toHaveLength(3);
      expect(next.p2m.map((row) => row.length)).toEqual([2, 2, 2]);
    });
  });

  it('domain lifecycle: life only moves forward; never dying in atomic mode; dom0 stays alive', () => {
    check(model, (pre, _a, { next }) => {
      next.domains.forEach((d, i) => {
        expect(LIVES.indexOf(d.life)).toBeGreaterThanOrEqual(LIVES.indexOf(pre.domains[i]!.life));
        expect(d.life).not.toBe('dying');
        expect(d.relinquish).toBeNull();
        expect(d.logDirty).toBe(false);
      });
      expect(next.domains[DOM0]!.life).toBe('alive');
    });
  });

  it('a destroyed domain owns no frame and its p2m is empty; a dead one owns at least one frame, none allocated', () => {
    check(model, (_pre, _a, { next }) => {
      next.domains.forEach((d, i) => {
        if (d.life === 'destroyed') {
          expect(owned(next, i)).toBe(0);
          expect(next.p2m[i]!.every((e) => e === null)).toBe(true);
        }
        if (d.life === 'dead') {
          expect(owned(next, i)).toBeGreaterThanOrEqual(1);
          expect(next.frames.some((f) => f.owner === i && f.allocated)).toBe(false);
        }
      });
      // allocated frames belong to alive domains (relinquish drops every allocation reference)
      for (const f of next.frames) if (f.allocated) expect(next.domains[f.owner as number]!.life).toBe('alive');
    });
  });

  it('no reference is ever missing: count ≥ allocation + foreign entries of p2ms that still exist', () => {
    check(model, (_pre, _a, { next }) => {
      if (next.fault !== null) return;
      next.frames.forEach((f, m) => {
        if (f.owner === null) return;
        expect(f.count).toBeGreaterThanOrEqual((f.allocated ? 1 : 0) + foreignHolders(next, m).length);
      });
    });
  });

  it('foreign entries only where the version allows them: PVH targets, ept only, dom0 only from xen-4.5', () => {
    check(model, (_pre, _a, { next }) => {
      for (const [d, , mfn] of foreignEntries(next)) {
        expect(u.domains[d]!.kind).toBe('pvh');
        expect(c.backend).toBe('ept');
        if (c.version === 'xen-4.5') expect(d).toBe(DOM0);
        expect(next.frames[mfn]!.owner).not.toBe(d);
      }
    });
  });

  it('a faulted state is only reached by the xen-4.5 hardware-domain crash on ept', () => {
    check(model, (_pre, _a, { next }) => {
      if (next.fault === null) return;
      expect(c).toEqual({ version: 'xen-4.5', backend: 'ept' });
      expect(next.fault).toEqual({ kind: 'hardware-domain-crashed', frame: null });
    });
  });

  if (c.backend === 'ept') {
    const failedCallHasNoEffect = (pre: State, a: Action, { next, rc }: Step) => {
      if (rc === null || rc >= 0) return;
      expect(diffStates(u, pre, next), `${a.op} ${JSON.stringify(a)} returned ${rc}`).toEqual([]);
      expect(next).toEqual(pre);
    };
    it('a failing call (rc < 0) never changes the state', () => {
      check(model, failedCallHasNoEffect);
    });
    it(`a failing call never changes the state: exhaustively, every transition within depth ${EXHAUSTIVE}`, () => {
      let failures = 0;
      const n = transitionsUpTo(model, EXHAUSTIVE, (pre, a, step) => {
        if (step.rc !== null && step.rc < 0) failures++;
        failedCallHasNoEffect(pre, a, step);
      });
      expect(n).toBeGreaterThan(57 * 57);
      expect(failures).toBeGreaterThan(0);
    });
  } else {
    it("a failing call changes the state only as add_to_physmap_foreign returning -EINVAL after freeing t's page at gT", () => {
      check(model, (pre, a, { next, rc }) => {
        if (rc === null || rc >= 0) return;
        const changes = diffStates(u, pre, next);
        if (changes.length === 0) return;
        expect(a.op).toBe('add_to_physmap_foreign');
        expect(rc).toBe(EINVAL);
        if (a.op !== 'add_to_physmap_foreign') return;
        const old = pre.p2m[a.t]![a.gT]!;
        expect(old).not.toBeNull();
        expect(next.p2m[a.t]![a.gT]).toBeNull();
        // the same state as the guest_remove_page alone would leave
        const alone = model.apply(pre, { op: 'decrease_reservation', d: a.t, g: a.gT });
        expect(alone.rc).toBe(0);
        expect(next).toEqual(alone.next);
      });
    });
  }

  // Which invariants a configuration may break at all (MODEL.md §8 and the m2p finding of anchors.test.ts);
  // every other one holds in every non-faulted state and transition.
  const mayBreak = new Set(
    c.version === 'seed' && c.backend === 'ept'
      ? ['refcount-matches-holders', 'no-orphan-reference', 'm2p-consistent', 'cleanup-possible']
      : c.backend === 'pt'
        ? ['failed-call-has-no-effect']
        : [],
  );
  const otherInvariantsHold = (pre: State, a: Action, { next, rc }: Step) => {
    if (next.fault !== null) return; // judged by no-hypervisor-fault alone
    for (const inv of INVARIANTS) {
      if (mayBreak.has(inv.name)) continue;
      expect(inv.check?.(next, pc) ?? null, inv.name).toBeNull();
      expect(inv.checkTransition?.(pre, a, rc, next, pc) ?? null, inv.name).toBeNull();
    }
  };
  it(`breaks no invariant but ${[...mayBreak].join(', ') || 'no-hypervisor-fault'} (random sequences)`, () => {
    check(model, otherInvariantsHold);
  });
  it(`breaks no invariant but ${[...mayBreak].join(', ') || 'no-hypervisor-fault'} (exhaustively within depth 3)`, () => {
    expect(transitionsUpTo(model, 3, otherInvariantsHold)).toBeGreaterThan(57 * 57);
  });
});

describe('the encoding\'s codes', () => {
  it('each code is the value\'s position in its list (plus one where 0 means none), as decode reads it', () => {
    LIVES.forEach((l, i) => expect(lifeCode(l)).toBe(i));
    P2M_TYPES.forEach((t, i) => expect(typeCode(t)).toBe(i + 1));
    RELINQUISH_PHASES.forEach((p, i) => expect(phaseCode(p)).toBe(i + 1));
  });
});
