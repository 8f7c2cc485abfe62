// Partial-order reduction by sleep sets (checker/engine/sleep.ts) audited: on every version × backend
// and every mutant of the catalogue, with --granularity steps and two vCPUs, the reduced search finds
// exactly the unreduced one's states level by level, the same verdicts at the same depths with the
// same traces, and steps every transition but those it reports pruned. Also: footprints are what the
// segments touch (two transitions called independent commute, from every state of a small search).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { explore, type ExploreResult, type Model } from '../checker/engine/index.js';
import { resolveTarget, wireTarget, type TargetFlags } from '../checker/xen-model.js';
import { cliWithin } from './cli-run.js';
import { BACKENDS, independent, makeUniverse, makeXenModel, MUTANTS, VERSIONS, type State } from '../model/index.js';

const opsFlag = (ops: string | readonly string[] | undefined) => (Array.isArray(ops) ? ops.join(',') : (ops as string | undefined));

const SMALL = { granularity: 'steps', vcpus: 2, domains: 'dom0:pvh:hw,dom1:pvh,dom2:hvm', gfns: 1, spareFrames: 0 } as const;

async function both(flags: TargetFlags, depth: number): Promise<{ none: ExploreResult; sleep: ExploreResult }> {
  const target = await resolveTarget(flags);
  const run = (sleepSets: boolean) => explore(wireTarget(target).model, { maxDepth: depth, sleepSets });
  return { none: run(false), sleep: run(true) };
}

/** What must not change with the reduction: every level's states, every finding with its depth and path. */
function verdicts(r: ExploreResult) {
  return {
    levels: r.levels.map((l) => [l.depth, l.distinct]),
    violations: r.violations.map((v) => [v.name, v.depth, v.path.join(',')]),
    witnesses: r.witnesses.map((w) => [w.name, w.depth, w.path.join(',')]),
    fixpoint: r.fixpoint,
  };
}

function audit(none: ExploreResult, sleep: ExploreResult): number {
  expect(verdicts(sleep)).toEqual(verdicts(none));
  expect(none.reduction).toBeUndefined();
  // each state has the same transitions either way: those not stepped are exactly those pruned
  expect(sleep.generated + sleep.reduction!.pruned).toBe(none.generated);
  return sleep.reduction!.pruned;
}

describe('sleep sets keep every state, depth and trace', () => {
  for (const version of VERSIONS) {
    for (const backend of BACKENDS) {
      it(`${version} on ${backend}, two vCPUs, depth 9`, async () => {
        const { none, sleep } = await both({ version, backend, ...SMALL }, 9);
        expect(none.distinct).toBeGreaterThan(1000);
        expect(audit(none, sleep)).toBeGreaterThan(0);
      }, 120_000);
    }
  }

  // the mutants made for steps on their own universes; the others on the small one, with steps
  it.each(MUTANTS.map((m) => m.name))('mutant %s', async (mutant) => {
    const m = MUTANTS.find((x) => x.name === mutant)!;
    const own = m.universe?.granularity === 'steps';
    const flags: TargetFlags = own ? { mutant } : { mutant, ...SMALL, backend: m.universe?.backend, ops: opsFlag(m.universe?.ops), build: m.universe?.build, superpages: m.universe?.superpages, ...(m.universe?.superpages ? { gfns: 2 } : {}) };
    const depth = own ? Math.min(m.expect.depth, 15) : 7;
    const { none, sleep } = await both(flags, depth);
    audit(none, sleep);
    if (own && m.expect.depth <= depth) expect(sleep.violations.map((v) => [v.name, v.depth])).toContainEqual([m.expect.invariant, m.expect.depth]);
  }, 120_000);

  it('a resumed or partial search stays sound: a state with no sleep set takes every transition', async () => {
    // the first level of each run sleeps on nothing: the initial state is expanded in full
    const { none, sleep } = await both({ version: 'seed', backend: 'ept', ...SMALL }, 1);
    expect(sleep.generated).toBe(none.generated);
    expect(sleep.reduction!.pruned).toBe(0);
  });
});

describe('sleep sets on two workers: the sets travel with the candidates', () => {
  // a state reached from two slices, or twice in one, sleeps on nothing there: fewer transitions may
  // be skipped than on one worker, never a state, a depth or a trace lost
  const runJson = async (args: string[]) => JSON.parse((await cliWithin(120_000, ['explore', '--granularity', 'steps', '--vcpus', '2', '--json', '--no-progress', ...args])).stdout);
  it.each([
    ['seed/ept, the put-before-write window', ['--xen', 'seed', '--ops', 'decrease_reservation,add_to_physmap_foreign,remove_from_physmap', '--invariants', 'no-dangling-mapping', '--depth', '16']],
    ['xen-4.19/ept, two domains', ['--xen', 'xen-4.19', '--domains', 'dom0:pvh:hw,dom1:hvm', '--gfns', '1', '--spare-frames', '0', '--depth', '14']],
    ['mutant reuse-before-flush', ['--mutant', 'reuse-before-flush', '--depth', '15']],
  ])('%s: the same levels and findings as one worker without reduction', async (_name, args) => {
    const [none, two] = await Promise.all([runJson([...args, '--reduction', 'none']), runJson([...args, '--workers', '2'])]);
    expect(two.levels.map((l: { distinct: number }) => l.distinct)).toEqual(none.levels.map((l: { distinct: number }) => l.distinct));
    expect(two.properties).toEqual(none.properties);
    expect(none.reduction).toBeNull();
    expect(two.reduction.pruned).toBeGreaterThan(0);
    expect(two.totals.generated + two.reduction.pruned).toBe(none.totals.generated);
  }, 120_000);
});

describe('footprints: transitions called independent commute', () => {
  it('from every state within depth 6 (seed/ept, two vCPUs): both orders reach the same state', () => {
    const u = makeUniverse({ version: 'seed', backend: 'ept', ...SMALL });
    const xm = makeXenModel(u);
    const il = xm.interleaving!;
    const key = (s: State) => Buffer.from(xm.encode(s)).toString('hex');
    const seen = new Set<string>();
    let level = [xm.init()];
    let pairs = 0;
    let independentPairs = 0;
    for (let depth = 0; depth < 6; depth++) {
      const next: State[] = [];
      for (const s of level) {
        const acts = xm.enabled(s);
        const steps = acts.map((a) => {
          const r = xm.applyFast(s, a);
          return { a, next: r.next, fp: il.footprint().slice(), id: il.transitionId(a) };
        });
        for (let i = 0; i < steps.length; i++) {
          for (let j = i + 1; j < steps.length; j++) {
            const x = steps[i]!;
            const y = steps[j]!;
            pairs++;
            if (!independent(x.fp, y.fp)) continue;
            independentPairs++;
            // y is enabled after x (and x after y), as the same transition, and the orders meet
            const yAfterX = xm.enabled(x.next).find((b) => il.transitionId(b) === y.id);
            const xAfterY = xm.enabled(y.next).find((b) => il.transitionId(b) === x.id);
            if (yAfterX === undefined || xAfterY === undefined) throw new Error(`independent but disabled: ${x.id}, ${y.id}`);
            const xy = xm.applyFast(x.next, yAfterX).next;
            const yx = xm.applyFast(y.next, xAfterY).next;
            if (key(xy) !== key(yx)) throw new Error(`independent but the orders differ: ${x.id}, ${y.id}`);
          }
        }
        for (const st of steps) {
          const k = key(st.next);
          if (!seen.has(k)) {
            seen.add(k);
            next.push(st.next);
          }
        }
      }
      level = next;
    }
    expect(independentPairs).toBeGreaterThan(1000);
    expect(independentPairs).toBeLessThan(pairs);
  }, 120_000);
});

// The engine's sleep sets on their own, on random small concurrent programs: processes that loop over
// a few steps, each reading one shared cell and writing another; a transition's footprint is its
// process counter and the cells it touches. Joins of differently-ordered paths, where a state is
// reached in one level from parents with different sleep sets, are common here: the search must
// intersect the sets there, or lose states.
describe('sleep sets on random programs: every state, depth and trace kept', () => {
  interface Step {
    read: number;
    write: number;
    add: number;
  }
  type Program = Step[][];
  const CELLS = 3;

  function toy(program: Program, target: number[]): Model<number[], number, null> {
    const procs = program.length;
    const size = procs + CELLS;
    const words = 2;
    const bit = (fp: Uint32Array, k: number, at: number) => (fp[at + (k >>> 5)]! |= 1 << (k & 31));
    let last = new Uint32Array(2 * words);
    return {
      init: () => [new Array<number>(size).fill(0)],
      actions: () => Array.from({ length: procs }, (_, p) => p),
      step(s, p) {
        const st = program[p]![s[p]!]!;
        const next = s.slice();
        next[p] = (s[p]! + 1) % program[p]!.length;
        if (st.write >= 0) next[procs + st.write] = ((st.read >= 0 ? s[procs + st.read]! : 0) + st.add) % 3;
        last = new Uint32Array(2 * words);
        bit(last, p, 0);
        bit(last, p, words);
        if (st.read >= 0) bit(last, procs + st.read, 0);
        if (st.write >= 0) bit(last, procs + st.write, words);
        return { next, result: null };
      },
      encodedSize: size,
      encode: (s, out) => out.set(s),
      decode: (b) => Array.from(b),
      invariants: [{ name: 'target-unreached', state: (s) => (s.every((v, i) => v === target[i]) ? 'reached' : null) }],
      witnesses: [],
      reduction: {
        transitions: procs,
        transitionId: (p) => p,
        footprint: () => last,
        footprintWords: 2 * words,
        independent: (a, b) => {
          for (let i = 0; i < words; i++) if ((a[words + i]! & (b[i]! | b[words + i]!)) !== 0 || (b[words + i]! & a[i]!) !== 0) return false;
          return true;
        },
      },
    };
  }

  const step = fc.record({ read: fc.integer({ min: -1, max: CELLS - 1 }), write: fc.integer({ min: -1, max: CELLS - 1 }), add: fc.integer({ min: 0, max: 2 }) });
  const program = fc.array(fc.array(step, { minLength: 1, maxLength: 3 }), { minLength: 2, maxLength: 4 });

  it('the same levels, the same first violation at the same depth by the same path, and generated + pruned = unreduced', () => {
    let pruned = 0;
    fc.assert(
      fc.property(program, fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 7, maxLength: 7 }), (prog, t) => {
        const target = [...prog.map((p, i) => t[i]! % p.length), ...t.slice(4, 4 + CELLS)];
        const m = toy(prog, target);
        const none = explore(m, { maxDepth: 12 });
        const sleep = explore(m, { maxDepth: 12, sleepSets: true });
        expect(sleep.levels.map((l) => l.distinct)).toEqual(none.levels.map((l) => l.distinct));
        expect(sleep.violations.map((v) => [v.depth, v.path.join(',')])).toEqual(none.violations.map((v) => [v.depth, v.path.join(',')]));
        expect(sleep.generated + sleep.reduction!.pruned).toBe(none.generated);
        pruned += sleep.reduction!.pruned;
      }),
      { numRuns: 300, seed: 20261130 },
    );
    expect(pruned).toBeGreaterThan(0);
  });
});
