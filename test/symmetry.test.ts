// --symmetry: states that differ only by swapping interchangeable domains (same kind, not the
// hardware domain) are one. An audit over every version × backend and every mutant: never more
// states, the same verdicts at the same shortest depths, the same witnesses, and traces that are
// real runs reproducing the violation.
import { describe, expect, it } from 'vitest';
import { explore } from '../checker/engine/index.js';
import { buildTrace } from '../checker/trace/build.js';
import { resolveTarget } from '../checker/xen-model.js';
import { wire } from '../checker/xen-model.js';
import { judgeStep } from '../invariants/index.js';
import { BACKENDS, domainPermutations, makeUniverse, MUTANTS, permuteState, encodeState, VERSIONS } from '../model/index.js';

const DOMAINS = 'dom0:pvh:hw,dom1:pvh,dom2:pvh';

// Every version × backend and every mutant under npm run test:slow; a sample in the fast suite.
const ALL: { label: string; flags: Record<string, string | undefined> }[] = [
  ...VERSIONS.flatMap((v) => BACKENDS.map((b) => ({ label: `${v}/${b}`, flags: { version: v, backend: b } }))),
  // (symmetry is not available with steps granularity)
  ...MUTANTS.filter((m) => m.universe?.granularity !== 'steps').map((m) => ({ label: `mutant ${m.name}`, flags: { mutant: m.name } })),
];
const SAMPLE = ['seed/ept', 'xen-4.19/pt', 'head/ept', 'mutant ept-write-without-put'];
const CONFIGS = process.env.CHECKER_SLOW_SUITE ? ALL : ALL.filter((c) => SAMPLE.includes(c.label));

describe('symmetry audit: the same verdicts and depths, never more states', () => {
  for (const { label, flags } of CONFIGS) {
    it(label, async () => {
      const target = await resolveTarget({ ...flags, domains: DOMAINS });
      const plain = explore(wire(target.u, { xen: target.xen }).model, { maxDepth: 4 });
      const ws = wire(target.u, { xen: target.xen, symmetry: true });
      const sym = explore(ws.model, { maxDepth: 4, symmetry: true });
      expect(sym.distinct).toBeLessThan(plain.distinct);
      const verdicts = (r: typeof plain) => r.violations.map((v) => [v.name, v.depth]);
      expect(verdicts(sym)).toEqual(verdicts(plain));
      expect(sym.witnesses.map((w) => [w.name, w.depth])).toEqual(plain.witnesses.map((w) => [w.name, w.depth]));
      // every trace is a real run from the booted state that violates its property at its end
      for (const v of sym.violations) {
        const t = buildTrace(ws, v);
        expect(t.path).toHaveLength(v.depth);
        expect(t.message).not.toBeUndefined();
        const inv = ws.invariants.find((i) => i.name === v.name)!;
        const last = t.states.at(-1)!;
        const k = t.steps.length;
        const again = judgeStep(inv, t.states[k - 1]!, t.steps[k - 1]!.action, t.steps[k - 1]!.rc, last, ws.pc);
        expect(again, `${v.name}: ${t.path.join(',')}`).not.toBeNull();
      }
    });
  }
});

describe('the canonical encoding', () => {
  it('is the same for a state and its domain-swapped image, and differs from an unrelated state', () => {
    const u = makeUniverse({ domains: DOMAINS });
    const w = wire(u, { symmetry: true });
    const [id, swap] = domainPermutations(u);
    expect(id).toEqual([0, 1, 2]);
    expect(swap).toEqual([0, 2, 1]);
    const s = w.xm.init();
    s.p2m[1]![0] = null; // dom1 gives up its gfn 0: not symmetric any more
    const image = permuteState(s, swap!);
    const a = new Uint8Array(w.xm.encodedSize);
    const b = new Uint8Array(w.xm.encodedSize);
    w.model.canonicalEncode!(s, a);
    w.model.canonicalEncode!(image, b);
    expect([...a]).toEqual([...b]);
    expect([...encodeState(s, new Uint8Array(w.xm.encodedSize))]).not.toEqual([...encodeState(image, new Uint8Array(w.xm.encodedSize))]);
  });

  it('has nothing to reduce when no two domains are interchangeable (the default universe)', () => {
    expect(domainPermutations(makeUniverse({}))).toHaveLength(1);
  });
});
