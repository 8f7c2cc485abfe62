// Preemptible teardown (kill_begin, relinquish_step, the automatic finish) against atomic destroy:
// the same verdicts where Xen behaves the same, and the insert-into-a-dying-domain window of
// xen-foreign-protocol.md §3.6 H where it does not.
import { describe, expect, it } from 'vitest';
import { explore } from '../checker/engine/index.js';
import { wire } from '../checker/xen-model.js';
import { apply, makeUniverse, makeXenModel, type Action, type Version } from '../model/index.js';

function verdicts(version: Version, backend: 'ept' | 'pt', preemptibleTeardown: boolean, depth: number, gfns = 2) {
  const w = wire(makeUniverse({ version, backend, preemptibleTeardown, gfns }));
  const r = explore(w.model, { maxDepth: depth });
  return { names: r.violations.map((v) => v.name).sort(), byName: new Map(r.violations.map((v) => [v.name, v])), w };
}

describe('preemptible teardown reaches the verdicts of atomic destroy', () => {
  it('seed/ept (1 gfn per domain): the teardown leak and the zombie, a step or two later', () => {
    const atomic = verdicts('seed', 'ept', false, 4, 1);
    const split = verdicts('seed', 'ept', true, 5, 1);
    for (const name of ['refcount-matches-holders', 'no-orphan-reference']) {
      expect(atomic.names).toContain(name);
      expect(split.names).toContain(name);
      expect(split.byName.get(name)!.depth).toBeGreaterThan(atomic.byName.get(name)!.depth);
    }
    // the leak: add, kill_begin, one relinquish step finishes dom1 (it has no frame left)
    const leak = split.byName.get('refcount-matches-holders')!;
    const ops = leak.path.map((ai) => split.w.xm.actions[ai]!.op);
    expect(ops).toEqual(['add_to_physmap_foreign', 'kill_begin', 'relinquish_step']);
  });

  it('xen-4.5/ept: the hardware-domain crash is independent of teardown', () => {
    expect(verdicts('xen-4.5', 'ept', false, 3).names).toEqual(['no-hypervisor-fault']);
    expect(verdicts('xen-4.5', 'ept', true, 3).names).toEqual(['no-hypervisor-fault']);
  });

  it('head: the relinquish_p2m_mapping fault is reached step by step too', () => {
    const split = verdicts('head', 'ept', true, 3);
    const fault = split.byName.get('no-hypervisor-fault')!;
    expect(fault.depth).toBe(3);
    expect(fault.path.map((ai) => split.w.xm.actions[ai]!.op)).toEqual(['add_to_physmap_foreign', 'kill_begin', 'relinquish_step']);
  });
});

describe('§3.6 H: a foreign insert into a dying domain', () => {
  it('xen-4.19 atomic is clean; split, an insert after the walk and before the root clear succeeds and leaks (MODEL.md §3.6, r4)', () => {
    expect(verdicts('xen-4.19', 'ept', false, 5).names).toEqual([]);
    // revision 3 refused every insert into a dying domain (a spurious failed-call-has-no-effect at 2):
    // the refusal is hap_alloc's, so an insert fails only once the tables are gone
    expect(verdicts('xen-4.19', 'ept', true, 4).names).toEqual([]);
    const split = verdicts('xen-4.19', 'ept', true, 5);
    expect(split.names).toEqual(['cleanup-possible', 'refcount-matches-holders']);
    const v = split.byName.get('refcount-matches-holders')!;
    expect(v.depth).toBe(5);
    const steps = v.path.map((ai) => split.w.xm.actions[ai]!);
    expect(steps.map((a) => a.op)).toEqual(['add_to_physmap_foreign', 'kill_begin', 'relinquish_step', 'add_to_physmap_foreign', 'relinquish_step']);
    expect(steps[3]).toMatchObject({ t: 1, f: 2 }); // the device model maps its target's page into itself, dying
    expect(v.message).toMatch(/1 reference\(s\) held by nothing/);
  });

  it('seed: the insert into a dying domain succeeds, and the relinquish that follows loses it', () => {
    const u = makeUniverse({ version: 'seed', preemptibleTeardown: true });
    const m = makeXenModel(u);
    const find = (p: Partial<Action>) => m.actions.find((a) => Object.entries(p).every(([k, v]) => (a as Record<string, unknown>)[k] === v))!;
    let s = m.init();
    for (const a of [find({ op: 'kill_begin', d: 1 }), find({ op: 'add_to_physmap_foreign', t: 1, gT: 0, f: 2, gF: 0 })]) {
      const r = apply(m.ctx, s, a);
      expect(r.rc).toBe(0);
      s = r.next;
    }
    expect(s.domains[1]!.life).toBe('dying');
    expect(s.p2m[1]![0]).toEqual({ type: 'map_foreign', mfn: 4 });
    // relinquish until dom1 is gone: its p2m is discarded with the foreign entry in it
    const step = find({ op: 'relinquish_step', d: 1 });
    for (let k = 0; k < 4 && s.domains[1]!.life !== 'destroyed'; k++) s = apply(m.ctx, s, step).next;
    expect(s.domains[1]!.life).toBe('destroyed');
    expect(s.frames[4]!.count).toBe(2); // the allocation reference and the lost mapping reference
  });
});
